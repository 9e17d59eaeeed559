import { describe, expect, test } from "vitest";
import { type Comparison, compareOutcomes } from "../../compare/diff.js";
import type { TestOutcome } from "../../compare/outcomes.js";
import type { FeedbackScore } from "../../protocol/tracked-test.js";
import type { ExperimentSummary, ReportedTest, RunSummary } from "../reconcile.js";
import { validateReport } from "../../../../../test/support/report-schema.js";
import { bootstrapMeanCi, wilson } from "../../stats/index.js";
import { compareVerdicts } from "../../compare/verdicts.js";
import { groupByExample } from "../../compare/outcomes.js";
import { compareTests } from "../../compare/test-verdicts.js";
import { mergeReports } from "./merge.js";
import { baselineMeans, buildReport, type ExperimentCompared, outcomesOfTests, type ReportInput, testScores } from "./build-report.js";

// The run's summary as the runner and the ledger saw it, each experiment's comparison with its
// baseline, and the gates, into the JSON report.

const FILE = "evals/answers.eval.ts";
const EXP = "ci-suite:gh-1234-1";

const fb = (key: string, score: FeedbackScore["score"]): FeedbackScore => ({ key, score });

/** A tracked test of `EXP`, as the runner reports it. */
function reported(
  name: string,
  state: ReportedTest["state"],
  feedback: FeedbackScore[] = [],
  more: Partial<ReportedTest> = {},
): ReportedTest {
  return {
    name,
    file: FILE,
    state,
    runId: `run-${name}`,
    dataset: "ci-suite",
    experimentName: EXP,
    experimentId: "exp-1",
    feedback: [fb("pass", state === "passed"), ...feedback],
    ...more,
  };
}

function experimentSummary(tests: ReportedTest[], more: Partial<ExperimentSummary> = {}): ExperimentSummary {
  return {
    dataset: "ci-suite",
    name: EXP,
    url: "https://smith.example/o/t1/datasets/d1/compare?selectedSessions=exp-1",
    tests,
    expected: tests.length,
    delivered: tests.length,
    spans: 2 * tests.length,
    feedback: tests.length,
    missing: [],
    ...more,
  };
}

const runSummary = (experiments: ExperimentSummary[]): RunSummary => ({
  experiments,
  otherRuns: { delivered: 0, received: 0, byProject: {} },
  waiting: 0,
  waitingTests: 0,
  problems: [],
});

const RUN = { key: "gh-1234-1", startedAt: "2026-03-01T12:00:00.000Z", endedAt: "2026-03-01T12:03:10.512Z", git: null };

function input(experiments: ExperimentSummary[], compared: ExperimentCompared[] = [], gates: ReportInput["gates"] = {}): ReportInput {
  return { summary: runSummary(experiments), compared, run: RUN, gates };
}

function compared(
  exampleOf: Record<string, string>,
  comparison: Comparison | null,
  more: Partial<ExperimentCompared> = {},
): ExperimentCompared {
  return {
    name: EXP,
    id: "exp-1",
    baseline: comparison ? { name: "ci-suite:gh-1200-1", id: "exp-0", url: "https://smith.example/exp-0" } : null,
    comparison,
    exampleOf: new Map(Object.entries(exampleOf)),
    ...more,
  };
}

describe("testScores", () => {
  test("every key but pass, booleans as 1 and 0, repeated keys averaged", () => {
    const t = reported("a", "passed", [fb("quality", 0.5), fb("exact", true), fb("quality", 1), fb("polite", false), fb("exact", false)]);
    expect(testScores(t)).toEqual({ quality: 0.75, exact: 0.5, polite: 0 });
  });

  test("pass is never a score, whatever its value", () => {
    expect(testScores(reported("a", "passed", [fb("pass", 0.5)]))).toEqual({});
    expect(testScores(reported("b", "failed"))).toEqual({});
  });

  test("null and non-finite scores are no score, and do not count towards the mean", () => {
    const t = reported("a", "passed", [
      fb("quality", null),
      fb("quality", Number.NaN),
      fb("quality", 0.4),
      fb("tone", Number.POSITIVE_INFINITY),
    ]);
    expect(testScores(t)).toEqual({ quality: 0.4 });
  });

  test("a test without feedback has no scores", () => {
    expect(testScores({ name: "plain", file: FILE, state: "passed" })).toEqual({});
  });
});

describe("outcomesOfTests", () => {
  test("each passed or failed test with a run and a known example, with its scores", () => {
    const tests = [reported("a", "passed", [fb("quality", 0.9)]), reported("b", "failed", [fb("quality", 0.2)])];
    const exampleOf = new Map([
      ["run-a", "ex-a"],
      ["run-b", "ex-b"],
    ]);
    expect(outcomesOfTests(tests, (id) => exampleOf.get(id))).toEqual<TestOutcome[]>([
      { exampleId: "ex-a", runId: "run-a", name: "a", passed: true, scores: { quality: 0.9 } },
      { exampleId: "ex-b", runId: "run-b", name: "b", passed: false, scores: { quality: 0.2 } },
    ]);
  });

  test("tests without a run id, skipped or pending tests and runs of no known example are left out", () => {
    const asked: string[] = [];
    const tests = [
      reported("no run", "passed", [], { runId: undefined }),
      reported("skipped", "skipped"),
      reported("pending", "pending"),
      reported("unknown example", "failed"),
      reported("kept", "passed"),
    ];
    const out = outcomesOfTests(tests, (id) => {
      asked.push(id);
      return id === "run-kept" || id === "run-skipped" || id === "run-pending" ? `ex-${id}` : undefined;
    });
    expect(out.map((o) => o.name)).toEqual(["kept"]);
    expect(asked).toEqual(["run-unknown example", "run-kept"]);
  });
});

describe("buildReport", () => {
  test("the run, and per experiment its delivery, pass rate over passed and failed tests only, and mean scores with counts", () => {
    const tests = [
      reported("a", "passed", [fb("quality", 1), fb("exact", true)]),
      reported("b", "passed", [fb("quality", 0.5)]),
      reported("c", "failed", [fb("quality", 0)]),
      reported("d", "skipped", [], { runId: undefined, feedback: [] }),
      reported("e", "pending", [], { runId: undefined, feedback: [] }),
    ];
    const r = buildReport(input([experimentSummary(tests, { expected: 3, delivered: 2, spans: 7, feedback: 5 })]));
    expect(r.version).toBe(2);
    expect(r.run).toEqual(RUN);
    expect(r.gates).toEqual([]);
    const [e] = r.experiments;
    expect(e).toMatchObject({
      name: EXP,
      id: null,
      url: "https://smith.example/o/t1/datasets/d1/compare?selectedSessions=exp-1",
      dataset: "ci-suite",
      delivered: { runs: 2, expected: 3, spans: 7, feedback: 5 },
      scores: { exact: { mean: 1, count: 1 }, quality: { mean: 0.5, count: 3 } },
    });
    expect(e!.passRate).toBeCloseTo(2 / 3);
    expect(Object.keys(e!.scores)).toEqual(["exact", "quality"]);
    expect(e!.tests.map((t) => [t.name, t.status, t.runId])).toEqual([
      ["a", "passed", "run-a"],
      ["b", "passed", "run-b"],
      ["c", "failed", "run-c"],
      ["d", "skipped", null],
      ["e", "pending", null],
    ]);
    expect(e!.tests[0]!.scores).toEqual({ quality: 1, exact: 1 });
  });

  test("no passed or failed test: the pass rate is null, not 0", () => {
    const r = buildReport(input([experimentSummary([reported("later", "skipped", [], { feedback: [] })])]));
    expect(r.experiments[0]!.passRate).toBeNull();
    expect(r.experiments[0]!.scores).toEqual({});
  });

  test("a repeated key is averaged per test before the experiment's mean, and counted once per test", () => {
    const tests = [reported("a", "passed", [fb("q", 1), fb("q", 0)]), reported("b", "passed", [fb("q", 1)])];
    const e = buildReport(input([experimentSummary(tests)])).experiments[0]!;
    expect(e.scores.q).toMatchObject({ mean: 0.75, count: 2 });
  });

  test("the spread: the pass rate's Wilson interval, each mean's bootstrap interval, trials grouped by example; valid against the v2 schema", () => {
    // Two examples run three times each (the runner titles repetitions `, run n`), and one test whose
    // run references no known example.
    const tests = [
      reported("qa > capital, run 1", "passed", [fb("quality", 1)]),
      reported("qa > capital, run 2", "passed", [fb("quality", 0.8)]),
      reported("qa > capital, run 3", "failed", [fb("quality", 0.2)]),
      reported("qa > river, run 1", "passed", [fb("quality", 0.9)]),
      reported("qa > river, run 2", "passed", [fb("quality", 0.7)]),
      reported("qa > river, run 3", "passed", [fb("quality", 0.8)]),
      reported("qa > loose", "failed", [fb("quality", 0)]),
    ];
    const exampleOf: Record<string, string> = {};
    for (const t of tests) if (!t.name.includes("loose")) exampleOf[t.runId!] = t.name.includes("capital") ? "ex-capital" : "ex-river";
    const r = buildReport(input([experimentSummary(tests)], [compared(exampleOf, null)]));
    const e = r.experiments[0]!;
    expect(e.passRateCi).toEqual(wilson(5, 7));
    expect(e.scores.quality!.ci).toEqual(bootstrapMeanCi([0, (0.2 + 0.8 + 1) / 3, (0.7 + 0.8 + 0.9) / 3], { seed: EXP }));
    expect(e.trials).toBe(3);
    expect(e.passAtK).toBe(1);
    expect(e.passHatK).toBe(0.5);
    expect(e.examples!.map((x) => [x.exampleId, x.name, x.trials, x.passRate, x.passAtK, x.passHatK])).toEqual([
      ["ex-capital", "qa > capital", 3, 2 / 3, 1, 0],
      ["ex-river", "qa > river", 3, 1, 1, 1],
      [null, "qa > loose", 1, 0, undefined, undefined],
    ]);
    // The per-test entries are as they were.
    expect(Object.keys(e.tests[0]!).sort()).toEqual(["exampleId", "file", "name", "runId", "scores", "status"]);
    expect(validateReport(r)).toEqual([]);
    expect(validateReport(JSON.parse(JSON.stringify(r)))).toEqual([]);
    // Reproducible: built again, the same numbers.
    expect(buildReport(input([experimentSummary(tests)], [compared(exampleOf, null)])).experiments).toEqual(r.experiments);
  });

  test("each test's example comes from the compared map; a test without one has null", () => {
    const tests = [reported("a", "passed"), reported("b", "failed"), reported("c", "skipped", [], { runId: undefined })];
    const c = compared({ "run-a": "ex-a" }, null);
    const e = buildReport(input([experimentSummary(tests)], [c])).experiments[0]!;
    expect(e.id).toBe("exp-1");
    expect(e.tests.map((t) => [t.name, t.exampleId])).toEqual([
      ["a", "ex-a"],
      ["b", null],
      ["c", null],
    ]);
  });

  test("regressions and improvements are named with the runner's test name and file; the baseline is reported as given", () => {
    const tests = [
      reported("answers > case 1", "failed", [fb("quality", 0.4)]),
      reported("answers > case 2", "passed", [fb("quality", 0.9)], { file: "evals/other.eval.ts" }),
    ];
    const comparison: Comparison = {
      tests: [],
      deltas: { quality: { before: 0.75, after: 0.65, delta: -0.1 } },
      passRate: { before: 1, after: 0.5 },
      regressions: [
        // The backend's root run name: not what the runner calls the test.
        { exampleId: "ex-1", test: "case 1 (run name)", key: "pass", before: 1, after: 0 },
        { exampleId: "ex-1", test: "case 1 (run name)", key: "quality", before: 1, after: 0.4 },
        // An example none of this run's tests ran: its name as the comparison had it, no file.
        { exampleId: "ex-9", test: "orphan", key: "pass", before: 1, after: 0 },
      ],
      improvements: [{ exampleId: "ex-2", test: "case 2 (run name)", key: "quality", before: 0.5, after: 0.9 }],
    };
    const c = compared({ "run-answers > case 1": "ex-1", "run-answers > case 2": "ex-2" }, comparison, {
      baseline: { name: "ci-suite:gh-1200-1", id: "exp-0", url: "https://smith.example/exp-0", passRate: 1, scores: { quality: 0.75 } },
    });
    const e = buildReport(input([experimentSummary(tests)], [c])).experiments[0]!;
    expect(e.regressions).toEqual([
      { test: "answers > case 1", file: FILE, key: "pass", before: 1, after: 0 },
      { test: "answers > case 1", file: FILE, key: "quality", before: 1, after: 0.4 },
      { test: "orphan", file: "", key: "pass", before: 1, after: 0 },
    ]);
    expect(e.improvements).toEqual([{ test: "answers > case 2", file: "evals/other.eval.ts", key: "quality", before: 0.5, after: 0.9 }]);
    expect(e.baseline).toEqual({
      name: "ci-suite:gh-1200-1",
      id: "exp-0",
      url: "https://smith.example/exp-0",
      passRate: 1,
      scores: { quality: 0.75 },
    });
  });

  test("baselineMeans: the baseline's pass rate and mean scores, each run once; none for an empty baseline", () => {
    const outcomes: TestOutcome[] = [
      { exampleId: "ex-1", runId: "o1", name: "a", passed: true, scores: { quality: 1 } },
      { exampleId: "ex-1", runId: "o2", name: "a", passed: false, scores: { quality: 0.5 } },
      { exampleId: "ex-2", runId: "o3", name: "b", passed: true, scores: {} },
    ];
    expect(baselineMeans(outcomes)).toEqual({ passRate: 2 / 3, scores: { quality: 0.75 } });
    expect(baselineMeans([])).toEqual({ passRate: null, scores: {} });
  });

  test("an experiment without a comparison has no baseline and no changes", () => {
    const other = experimentSummary([reported("x", "failed")], { name: "local-suite:gh-1234-1", dataset: "local-suite", url: undefined });
    const withBaseline: Comparison = {
      tests: [],
      deltas: {},
      passRate: { before: 1, after: 0 },
      regressions: [{ exampleId: "ex-a", test: "a", key: "pass", before: 1, after: 0 }],
      improvements: [],
    };
    const r = buildReport(input([experimentSummary([reported("a", "failed")]), other], [compared({ "run-a": "ex-a" }, withBaseline)]));
    expect(r.experiments[0]!.regressions).toHaveLength(1);
    expect(r.experiments[1]).toMatchObject({
      name: "local-suite:gh-1234-1",
      id: null,
      url: null,
      baseline: null,
      regressions: [],
      improvements: [],
      passRate: 0,
    });
    expect(r.experiments[1]!.tests[0]!.exampleId).toBeNull();
  });

  test("an experiment compared without a baseline (baseline none): its id and examples, no baseline", () => {
    const e = buildReport(input([experimentSummary([reported("a", "passed")])], [compared({ "run-a": "ex-a" }, null)])).experiments[0]!;
    expect(e.baseline).toBeNull();
    expect(e.regressions).toEqual([]);
    expect(e.tests[0]!.exampleId).toBe("ex-a");
  });

  test("the gates are judged on the report's numbers, per experiment", () => {
    const tests = [reported("a", "passed", [fb("quality", 0.9)]), reported("b", "failed", [fb("quality", 0.5)])];
    const comparison: Comparison = {
      tests: [],
      deltas: {},
      passRate: { before: 1, after: 0.5 },
      regressions: [{ exampleId: "ex-b", test: "b", key: "pass", before: 1, after: 0 }],
      improvements: [],
    };
    const r = buildReport(
      input([experimentSummary(tests, { delivered: 1 })], [compared({ "run-a": "ex-a", "run-b": "ex-b" }, comparison)], {
        passRate: 0.5,
        scores: { quality: 0.75, tone: 0.5 },
        maxRegressions: 0,
        allDelivered: true,
      }),
    );
    expect(r.gates).toEqual([
      { name: "passRate", ok: true, message: `pass rate 0.50 ≥ 0.50 (${EXP})` },
      { name: "scores.quality", ok: false, message: `mean quality 0.7 < 0.75 (${EXP})` },
      { name: "scores.tone", ok: false, message: `mean tone: no scores recorded, need ≥ 0.5 (${EXP})` },
      { name: "maxRegressions", ok: false, message: `1 regression > 0 (${EXP})` },
      { name: "allDelivered", ok: false, message: `delivered 1/2 runs (${EXP})` },
    ]);
  });

  test('a gate "on: lower" is judged on the interval the report computed', () => {
    const tests = ["a", "b", "c", "d"].map((n) => reported(n, "passed", [fb("quality", 0.9)]));
    const r = buildReport(
      input([experimentSummary(tests)], [], { passRate: { min: 0.5, on: "lower" }, scores: { quality: { min: 0.9, on: "lower" } } }),
    );
    const e = r.experiments[0]!;
    // 4 of 4 passed: the Wilson interval's lower bound is 0.51, under a mean of 1.
    expect(e.passRateCi![0]).toBeCloseTo(0.51, 2);
    expect(r.gates).toEqual([
      { name: "passRate", ok: true, message: `pass rate 1, lower bound 0.51 ≥ 0.50 (${EXP})` },
      { name: "scores.quality", ok: true, message: `mean quality 0.9, lower bound 0.9 ≥ 0.9 (${EXP})` },
    ]);
    const strict = buildReport(input([experimentSummary(tests)], [], { passRate: { min: 0.6, on: "lower" } }));
    expect(strict.gates).toEqual([{ name: "passRate", ok: false, message: `pass rate 1, lower bound 0.51 < 0.60 (${EXP})` }]);
  });

  test("with the real comparison: this run's outcomes against a baseline's, end to end", () => {
    const tests = [
      reported("answers > case 1", "failed", [fb("quality", 0.4)]),
      reported("answers > case 2", "passed", [fb("quality", 0.8)]),
      reported("answers > new", "passed", [fb("quality", 1)]),
    ];
    const exampleOf = new Map([
      ["run-answers > case 1", "ex-1"],
      ["run-answers > case 2", "ex-2"],
      ["run-answers > new", "ex-3"],
    ]);
    const current = outcomesOfTests(tests, (id) => exampleOf.get(id));
    const baseline: TestOutcome[] = [
      { exampleId: "ex-1", runId: "old-1", name: "case 1", passed: true, scores: { quality: 1 } },
      { exampleId: "ex-2", runId: "old-2", name: "case 2", passed: true, scores: { quality: 0.8 } },
    ];
    const comparison = compareOutcomes(current, baseline, { regressionThreshold: 0.1 });
    const c: ExperimentCompared = {
      name: EXP,
      id: "exp-1",
      baseline: { name: "ci-suite:gh-1200-1", id: "exp-0", url: null, ...baselineMeans(baseline) },
      comparison,
      exampleOf,
    };
    const r = buildReport(input([experimentSummary(tests)], [c], { maxRegressions: 1 }));
    const e = r.experiments[0]!;
    expect(e.regressions).toEqual([
      { test: "answers > case 1", file: FILE, key: "pass", before: 1, after: 0 },
      { test: "answers > case 1", file: FILE, key: "quality", before: 1, after: 0.4 },
    ]);
    expect(e.baseline).toEqual({ name: "ci-suite:gh-1200-1", id: "exp-0", url: null, passRate: 1, scores: { quality: 0.9 } });
    expect(r.gates).toEqual([{ name: "maxRegressions", ok: false, message: `2 regressions > 1 (${EXP})` }]);
    // No noise-aware comparison was given: null.
    expect(e.comparison).toBeNull();
  });

  test("the noise-aware comparison is reported as computed, valid against the v2 schema; null without a baseline", () => {
    const tests = [
      reported("answers > case 1", "failed", [fb("quality", 0.4)]),
      reported("answers > case 2", "passed", [fb("quality", 0.8)]),
    ];
    const exampleOf = new Map([
      ["run-answers > case 1", "ex-1"],
      ["run-answers > case 2", "ex-2"],
    ]);
    const current = outcomesOfTests(tests, (id) => exampleOf.get(id));
    const baseline: TestOutcome[] = [
      { exampleId: "ex-1", runId: "old-1", name: "case 1", passed: true, scores: { quality: 1 } },
      { exampleId: "ex-9", runId: "old-9", name: "case 9", passed: true, scores: { quality: 1 } },
    ];
    const verdicts = compareVerdicts(current, baseline, { alpha: 0.1, seed: EXP });
    const c: ExperimentCompared = {
      name: EXP,
      id: "exp-1",
      baseline: { name: "ci-suite:gh-1200-1", id: "exp-0", url: null, ...baselineMeans(baseline) },
      comparison: compareOutcomes(current, baseline, { regressionThreshold: 0.1 }),
      verdicts,
      exampleOf,
    };
    const r = buildReport(input([experimentSummary(tests)], [c]));
    const e = r.experiments[0]!;
    expect(e.comparison).toEqual(verdicts);
    expect(e.comparison).toMatchObject({
      alpha: 0.1,
      passRate: { n: 1, baseline: 1, current: 0, delta: -1, p: 1, verdict: "unchanged" },
      unmatched: { baselineOnly: ["ex-9"], currentOnly: ["ex-2"], baselineOnlyCount: 1, currentOnlyCount: 1 },
    });
    expect(validateReport(r)).toEqual([]);
    const none = buildReport(input([experimentSummary(tests)], [{ ...c, baseline: null, comparison: null, verdicts: null }]));
    expect(none.experiments[0]!.comparison).toBeNull();
  });

  test("a test with trials gets its own verdict: on its example, the changed ones in the comparison, kept by a one-shard merge", () => {
    // Two examples × 10 trials: "steady" passes every trial on both sides; "falls" passed 10 of 10, now 1 of 10.
    const tests: ReportedTest[] = [];
    const exampleOf = new Map<string, string>();
    const baseline: TestOutcome[] = [];
    for (const [ex, nowPasses] of [
      ["steady", 10],
      ["falls", 1],
    ] as const) {
      for (let i = 0; i < 10; i++) {
        const t = reported(`answers > ${ex}, run ${i + 1}`, i < nowPasses ? "passed" : "failed");
        tests.push(t);
        exampleOf.set(t.runId!, ex);
        baseline.push({ exampleId: ex, runId: `old-${ex}-${i}`, name: `answers > ${ex}, run ${i + 1}`, passed: true, scores: {} });
      }
    }
    const current = outcomesOfTests(tests, (id) => exampleOf.get(id));
    const c: ExperimentCompared = {
      name: EXP,
      id: "exp-1",
      baseline: { name: "ci-suite:gh-1200-1", id: "exp-0", url: null, ...baselineMeans(baseline) },
      comparison: compareOutcomes(current, baseline, { regressionThreshold: 0.1 }),
      verdicts: compareVerdicts(current, baseline, { alpha: 0.05, seed: EXP }),
      tests: compareTests(groupByExample(current), groupByExample(baseline), 0.05),
      exampleOf,
    };
    const r = buildReport(input([experimentSummary(tests)], [c]));
    const e = r.experiments[0]!;
    expect(e.examples!.map((x) => [x.exampleId, x.trials, x.verdict])).toEqual([
      ["steady", 10, "unchanged"],
      ["falls", 10, "regressed"],
    ]);
    expect(e.comparison!.testsCompared).toBe(2);
    expect(e.comparison!.tests).toHaveLength(1);
    expect(e.comparison!.tests![0]).toMatchObject({
      exampleId: "falls",
      name: "answers > falls",
      trials: 10,
      baselineTrials: 10,
      verdict: "regressed",
    });
    expect(e.comparison!.tests![0]!.passRate).toMatchObject({ baseline: 1, current: 0.1, verdict: "regressed" });
    expect(validateReport(r)).toEqual([]);
    const merged = mergeReports([{ file: "shard-1.json", report: r }], {});
    expect(merged.experiments[0]!.examples!.map((x) => x.verdict)).toEqual(["unchanged", "regressed"]);
    expect(merged.experiments[0]!.comparison!.tests).toEqual(e.comparison!.tests);
  });
});
