import { describe, expect, test } from "vitest";
import { validateReport } from "../../../../../test/support/report-schema.js";
import { bootstrapMeanCi, wilson } from "../../stats/index.js";
import type { ReportChange, ReportExperiment, ReportRun, ReportTest, TallyReportV1 } from "../json-report.js";
import { spreadOf } from "./build-report.js";
import { MERGED_COMPARISON_NOTE, mergeReports, type ShardReport } from "./merge.js";

// The reports of a CI matrix's shards (one shared experiment per dataset) into the report of the run.

const EXP = "ci-suite:gh-1234-1";

const tst = (name: string, file: string, status: ReportTest["status"], scores: Record<string, number> = {}): ReportTest => ({
  name,
  file,
  status,
  exampleId: status === "passed" || status === "failed" ? `ex-${name}` : null,
  runId: status === "passed" || status === "failed" ? `run-${name}` : null,
  scores,
});

const change = (test: string, file: string, key: string, before: number, after: number): ReportChange => ({
  test,
  file,
  key,
  before,
  after,
});

/** One shard's view of an experiment: delivery and rates counted over its own tests, as buildReport does. */
function experiment(tests: ReportTest[], more: Partial<ReportExperiment> = {}): ReportExperiment {
  const ran = tests.filter((t) => t.status === "passed" || t.status === "failed");
  const sums: Record<string, { mean: number; count: number }> = {};
  for (const t of tests) {
    for (const [k, v] of Object.entries(t.scores)) {
      const s = (sums[k] ??= { mean: 0, count: 0 });
      s.mean = (s.mean * s.count + v) / (s.count + 1);
      s.count++;
    }
  }
  return {
    name: EXP,
    id: "exp-1",
    url: "https://smith.example/exp-1",
    dataset: "ci-suite",
    delivered: { runs: ran.length, expected: ran.length, spans: 2 * ran.length, feedback: ran.length },
    passRate: ran.length ? ran.filter((t) => t.status === "passed").length / ran.length : null,
    scores: sums,
    baseline: { name: "ci-suite:gh-1200-1", id: "exp-0", url: "https://smith.example/exp-0", passRate: 1, scores: { quality: 0.9 } },
    regressions: [],
    improvements: [],
    tests,
    ...more,
  };
}

function shard(file: string, experiments: ReportExperiment[], run: Partial<ReportRun> = {}): ShardReport {
  const report: TallyReportV1 = {
    version: 1,
    run: { key: "gh-1234-1", startedAt: "2026-03-01T12:00:00.000Z", endedAt: "2026-03-01T12:03:00.000Z", git: null, ...run },
    experiments,
    gates: [],
  };
  return { file, report };
}

const A = "evals/a.eval.ts";
const B = "evals/b.eval.ts";

function twoShards() {
  const one = experiment([tst("a1", A, "passed", { quality: 1 }), tst("a2", A, "failed", { quality: 0.2 }), tst("a3", A, "skipped")], {
    regressions: [change("a2", A, "pass", 1, 0), change("a2", A, "quality", 0.9, 0.2)],
  });
  const two = experiment([tst("b1", B, "passed", { quality: 0.6, exact: 1 }), tst("b2", B, "passed", { quality: 0.8 })], {
    regressions: [],
    improvements: [change("b1", B, "quality", 0.3, 0.6)],
  });
  return [shard("shard-1/tally.json", [one]), shard("shard-2/tally.json", [two])];
}

describe("mergeReports", () => {
  test("two shards of one experiment: tests united, delivery summed, pass rate and scores counted again over the union", () => {
    const merged = mergeReports(twoShards(), {});
    // Shards of version 1 (an older Tally) merge into a version 2 report.
    expect(merged.version).toBe(2);
    expect(validateReport(merged)).toEqual([]);
    expect(merged.experiments).toHaveLength(1);
    const e = merged.experiments[0]!;
    expect(e.tests.map((t) => t.name)).toEqual(["a1", "a2", "a3", "b1", "b2"]);
    expect(e.delivered).toEqual({ runs: 4, expected: 4, spans: 8, feedback: 4 });
    // 3 of the 4 that ran passed (the skipped one does not count); not the mean of 0.5 and 1.
    expect(e.passRate).toBe(0.75);
    expect(Object.keys(e.scores)).toEqual(["exact", "quality"]);
    expect(e.scores.exact).toEqual({ mean: 1, count: 1, ci: [1, 1] });
    expect(e.scores.quality!.count).toBe(4);
    expect(e.scores.quality!.mean).toBeCloseTo((1 + 0.2 + 0.6 + 0.8) / 4);
    expect(e.regressions).toEqual([change("a2", A, "pass", 1, 0), change("a2", A, "quality", 0.9, 0.2)]);
    expect(e.improvements).toEqual([change("b1", B, "quality", 0.3, 0.6)]);
    expect(e).toMatchObject({ name: EXP, id: "exp-1", url: "https://smith.example/exp-1", dataset: "ci-suite" });
  });

  test("the model-call cache: counted again over the union of the shards' tests; absent where no shard had it", () => {
    const shards = twoShards();
    const first = shards[0]!.report.experiments[0]!;
    first.tests[0]!.cache = { hit: 2, miss: 0, recorded: 0 };
    first.tests[1]!.cache = { hit: 0, miss: 1, recorded: 1 };
    first.cache = { hit: 2, miss: 1, recorded: 1 };
    shards[1]!.report.experiments[0]!.tests[0]!.cache = { hit: 3, miss: 0, recorded: 0 };
    const e = mergeReports(shards, {}).experiments[0]!;
    expect(e.cache).toEqual({ hit: 5, miss: 1, recorded: 1 });
    expect(e.tests.find((t) => t.name === "b1")?.cache).toEqual({ hit: 3, miss: 0, recorded: 0 });
    expect(mergeReports(twoShards(), {}).experiments[0]).not.toHaveProperty("cache");
  });

  test("a test two files report is refused: the same shard twice, or a merged report among its shards", () => {
    const both = tst("shared", A, "failed", { quality: 0 });
    const first = shard("1.json", [experiment([both, tst("x", A, "passed", { quality: 1 })])]);
    const again = shard("2.json", [experiment([{ ...both }, tst("y", B, "passed", { quality: 1 })])]);
    expect(() => mergeReports([first, again], {})).toThrow(
      /1\.json and 2\.json both report "shared" of .*: the same shard twice, or a merged report among its shards\?/,
    );
    // The same file named twice is the same mistake.
    expect(() => mergeReports([first, { ...first, file: "1-copy.json" }], {})).toThrow(/1\.json and 1-copy\.json both report/);
  });

  test("a change both shards report of one test counts once", () => {
    const r = change("shared", A, "pass", 1, 0);
    const merged = mergeReports(
      [
        shard("1.json", [experiment([tst("x", A, "passed", { quality: 1 })], { regressions: [r] })]),
        shard("2.json", [experiment([tst("y", B, "passed", { quality: 1 })], { regressions: [{ ...r }] })]),
      ],
      {},
    );
    expect(merged.experiments[0]!.regressions).toEqual([r]);
  });

  test("changes of the same test and key in different files are different changes", () => {
    const merged = mergeReports(
      [
        shard("1.json", [experiment([], { regressions: [change("case", A, "pass", 1, 0)] })]),
        shard("2.json", [experiment([], { regressions: [change("case", B, "pass", 1, 0), change("case", B, "quality", 1, 0)] })]),
      ],
      {},
    );
    expect(merged.experiments[0]!.regressions).toHaveLength(3);
  });

  test("experiments only some shards ran are kept, in the order they first appear", () => {
    const other = (tests: ReportTest[]) => experiment(tests, { name: "tone:gh-1234-1", dataset: "tone", baseline: null });
    const merged = mergeReports(
      [
        shard("1.json", [experiment([tst("a", A, "passed")])]),
        shard("2.json", [other([tst("t", B, "failed")]), experiment([tst("b", B, "passed")])]),
      ],
      {},
    );
    expect(merged.experiments.map((e) => [e.name, e.tests.length])).toEqual([
      [EXP, 2],
      ["tone:gh-1234-1", 1],
    ]);
    expect(merged.experiments[1]!.passRate).toBe(0);
    expect(merged.experiments[1]!.baseline).toBeNull();
  });

  test("the run: the earliest start, the latest end, the first git known, the shared key", () => {
    const git = { commit: "3f1c2a9d0b7e", branch: "main", dirty: false };
    const merged = mergeReports(
      [
        shard("1.json", [], { startedAt: "2026-03-01T12:00:05.000Z", endedAt: "2026-03-01T12:09:00.000Z" }),
        shard("2.json", [], { startedAt: "2026-03-01T11:59:58.000Z", endedAt: "2026-03-01T12:02:00.000Z", git }),
        shard("3.json", [], { startedAt: "2026-03-01T12:01:00.000Z", endedAt: "2026-03-01T12:10:30.000Z", git: { ...git, commit: "x" } }),
      ],
      {},
    );
    expect(merged.run).toEqual({ key: "gh-1234-1", startedAt: "2026-03-01T11:59:58.000Z", endedAt: "2026-03-01T12:10:30.000Z", git });
  });

  test("reports of different runs are refused, naming each key with its files", () => {
    const shards = [shard("shard-1/tally.json", []), shard("shard-2/tally.json", [], { key: "gh-999-1" }), shard("shard-3/tally.json", [])];
    expect(() => mergeReports(shards, {})).toThrow(
      "tally report merge: the reports are of different runs: gh-1234-1 (shard-1/tally.json, shard-3/tally.json); gh-999-1 (shard-2/tally.json). Merge the shards of one run (one TALLY_RUN_ID).",
    );
  });

  test("no reports is refused", () => {
    expect(() => mergeReports([], {})).toThrow("tally report merge: no reports given");
  });

  test("the gates are judged on the merged numbers, not on any one shard's", () => {
    // Shard 1 alone: pass rate 0.5, 2 regressions; shard 2 alone: 1.0. Merged: 0.75 and 2 regressions.
    const gates = { passRate: 0.7, scores: { quality: 0.6, exact: 1 }, maxRegressions: 1, allDelivered: true };
    const shards = twoShards();
    shards[0]!.report.gates = [{ name: "passRate", ok: false, message: "stale shard verdict" }];
    const merged = mergeReports(shards, gates);
    expect(merged.gates).toEqual([
      { name: "passRate", ok: true, message: `pass rate 0.75 ≥ 0.70 (${EXP})` },
      { name: "scores.exact", ok: true, message: `mean exact 1 ≥ 1 (${EXP})` },
      { name: "scores.quality", ok: true, message: `mean quality 0.65 ≥ 0.6 (${EXP})` },
      { name: "maxRegressions", ok: false, message: `2 regressions > 1 (${EXP})` },
      { name: "allDelivered", ok: true, message: `delivered 4/4 runs (${EXP})` },
    ]);
    expect(mergeReports(shards, {}).gates).toEqual([]);
  });

  test("a shard that delivered less fails allDelivered for the whole run", () => {
    const shards = twoShards();
    shards[1]!.report.experiments[0]!.delivered = { runs: 1, expected: 2, spans: 2, feedback: 1 };
    const merged = mergeReports(shards, { allDelivered: true });
    expect(merged.gates).toEqual([{ name: "allDelivered", ok: false, message: `delivered 3/4 runs (${EXP})` }]);
  });

  test("the baseline is named, its means (one shard's examples each) left out", () => {
    const merged = mergeReports(twoShards(), {});
    expect(merged.experiments[0]!.baseline).toEqual({ name: "ci-suite:gh-1200-1", id: "exp-0", url: "https://smith.example/exp-0" });
    expect(merged.experiments[0]!.baseline).not.toHaveProperty("passRate");
    expect(merged.experiments[0]!.baseline).not.toHaveProperty("scores");
  });

  test("the first shard that knows the id, url and baseline gives them", () => {
    const merged = mergeReports(
      [
        shard("1.json", [experiment([tst("a", A, "passed")], { id: null, url: null, baseline: null })]),
        shard("2.json", [experiment([tst("b", B, "passed")], { id: "exp-7", url: "https://smith.example/exp-7" })]),
      ],
      {},
    );
    expect(merged.experiments[0]).toMatchObject({
      id: "exp-7",
      url: "https://smith.example/exp-7",
      baseline: { name: "ci-suite:gh-1200-1", id: "exp-0" },
    });
  });

  test("the noise-aware comparison: several shards' is not recomputed (null, with a note); one shard's is kept", () => {
    const comparison = {
      method: { passRate: "exact McNemar (two-sided)", scores: "paired bootstrap (percentile), sign-flip permutation p" },
      alpha: 0.05,
      passRate: null,
      scores: {},
      unmatched: { baselineOnly: [], currentOnly: [], baselineOnlyCount: 0, currentOnlyCount: 0 },
    };
    const shards = twoShards();
    for (const s of shards) s.report.experiments[0]!.comparison = comparison;
    const merged = mergeReports(shards, {}).experiments[0]!;
    expect(merged.comparison).toBeNull();
    expect(merged.comparisonNote).toBe(MERGED_COMPARISON_NOTE);
    const alone = mergeReports([shards[0]!], {}).experiments[0]!;
    expect(alone.comparison).toEqual(comparison);
    expect(alone).not.toHaveProperty("comparisonNote");
    const noBaseline = mergeReports(
      twoShards().map((s) => ({ ...s, report: { ...s.report, experiments: s.report.experiments.map((e) => ({ ...e, baseline: null })) } })),
      {},
    ).experiments[0]!;
    expect(noBaseline.comparison).toBeNull();
    expect(noBaseline).not.toHaveProperty("comparisonNote");
  });

  test("one shard merged alone keeps its numbers", () => {
    const [one] = twoShards();
    const merged = mergeReports([one!], {});
    const before = one!.report.experiments[0]!;
    const e = merged.experiments[0]!;
    expect(e.tests).toEqual(before.tests);
    expect(e.delivered).toEqual(before.delivered);
    expect(e.passRate).toBe(before.passRate);
    expect(e.scores).toMatchObject(before.scores);
    expect(e.regressions).toEqual(before.regressions);
  });

  test("the spread is recomputed over the union: an example's trials regrouped across shards, intervals from all the tests", () => {
    // Example ex-1 ran three times, its trials split over two shards; ex-2 ran in the second only.
    const trial = (name: string, file: string, status: ReportTest["status"], exampleId: string, quality: number): ReportTest => ({
      name,
      file,
      status,
      exampleId,
      runId: `run-${name}`,
      scores: { quality },
    });
    const oneTests = [trial("qa > capital, run 1", A, "passed", "ex-1", 1), trial("qa > capital, run 2", A, "failed", "ex-1", 0.2)];
    const twoTests = [
      trial("qa > capital, run 3", B, "passed", "ex-1", 0.9),
      trial("qa > river, run 1", B, "passed", "ex-2", 0.8),
      trial("qa > river, run 2", B, "passed", "ex-2", 0.6),
      trial("qa > river, run 3", B, "passed", "ex-2", 0.7),
    ];
    // Each shard as Tally 2 writes it: its own spread, over its own tests.
    const v2 = (name: string, tests: ReportTest[]): ShardReport => {
      const s = shard(name, [experiment(tests, spreadOf(EXP, tests))]);
      s.report.version = 2;
      return s;
    };
    const shards = [v2("1.json", oneTests), v2("2.json", twoTests)];
    for (const s of shards) expect(validateReport(s.report)).toEqual([]);
    expect(shards[0]!.report.experiments[0]!.trials).toBe(2);

    const merged = mergeReports(shards, {});
    expect(validateReport(merged)).toEqual([]);
    expect(validateReport(JSON.parse(JSON.stringify(merged)))).toEqual([]);
    const e = merged.experiments[0]!;
    expect(e.trials).toBe(3);
    expect(e.examples!.map((x) => [x.exampleId, x.name, x.trials, x.passRate, x.passAtK, x.passHatK])).toEqual([
      ["ex-1", "qa > capital", 3, 2 / 3, 1, 0],
      ["ex-2", "qa > river", 3, 1, 1, 1],
    ]);
    expect(e.examples![0]!.passRateCi).toEqual(wilson(2, 3));
    expect(e.passRateCi).toEqual(wilson(5, 6));
    expect(e.passAtK).toBe(1);
    expect(e.passHatK).toBe(0.5);
    expect(e.scores.quality!.ci).toEqual(
      bootstrapMeanCi(
        [(0.6 + 0.7 + 0.8) / 3, (0.2 + 0.9 + 1) / 3].sort((a, b) => a - b),
        { seed: EXP },
      ),
    );
    // The same as one report of all the tests; the shards' order does not matter for the numbers.
    expect(e).toMatchObject(spreadOf(EXP, [...oneTests, ...twoTests]));
    const reversed = mergeReports([...shards].reverse(), {}).experiments[0]!;
    expect(reversed.passRateCi).toEqual(e.passRateCi);
    expect(reversed.scores).toEqual(e.scores);
    expect(reversed.trials).toBe(3);
  });

  test("no test ran in any shard: the pass rate is null", () => {
    const merged = mergeReports([shard("1.json", [experiment([tst("s", A, "skipped")])]), shard("2.json", [experiment([])])], {});
    expect(merged.experiments[0]!.passRate).toBeNull();
    expect(merged.experiments[0]!.scores).toEqual({});
  });
});

describe("mergeReports: a baseline asked for and not had", () => {
  test("the shards' note on why there is no baseline is kept", () => {
    const note =
      'dataset "ci-suite" has no approved baseline to compare with; approve one with: tally baseline approve <experiment> --dataset "ci-suite"';
    const none = { baseline: null, comparison: null, baselineNote: note };
    const merged = mergeReports(
      [shard("1.json", [experiment([tst("a1", A, "passed")], none)]), shard("2.json", [experiment([tst("b1", B, "passed")], none)])],
      {},
    );
    expect(merged.experiments[0]!.baselineNote).toBe(note);
    expect(mergeReports(twoShards(), {}).experiments[0]!.baselineNote).toBeUndefined();
  });
});
