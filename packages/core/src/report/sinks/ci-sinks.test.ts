import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { compareOutcomes } from "../../compare/diff.js";
import type { TestOutcome } from "../../compare/outcomes.js";
import { baselineMeans, buildReport, outcomesOfTests } from "../ci/build-report.js";
import { jobSummaryMarkdown } from "../ci/markdown.js";
import type { ReportChange, ReportComparison, ReportExperiment, ReportGate, ReportMeasure, TallyReportV1 } from "../json-report.js";
import { METHODS } from "../../stats/index.js";
import type { ReportedTest, RunSummary } from "../reconcile.js";
import { comparisonLines } from "./comparison.js";
import { terminalSink } from "./terminal.js";
import { gatesSink } from "./gates.js";
import { githubSink } from "./github.js";
import { jsonReportSink } from "./json-file.js";
import type { SinkContext } from "./sink.js";

// The CI sinks, each given a run's end with its JSON report: GitHub's job summary and workflow
// commands, the report file, the gates' exit code and the comparison lines on the terminal.

const EXP = "ci-suite:gh-1234-1";
const FILE = "evals/answers.eval.ts";

const change = (test: string, key: string, before: number, after: number): ReportChange => ({ test, file: FILE, key, before, after });

function experiment(more: Partial<ReportExperiment> = {}): ReportExperiment {
  return {
    name: EXP,
    id: "exp-1",
    url: "https://smith.example/exp-1",
    dataset: "ci-suite",
    delivered: { runs: 3, expected: 3, spans: 9, feedback: 7 },
    passRate: 2 / 3,
    scores: { quality: { mean: 0.7, count: 3 } },
    baseline: { name: "ci-suite:gh-1200-1", id: "exp-0", url: "https://smith.example/exp-0", passRate: 1, scores: { quality: 0.9 } },
    regressions: [change("answers > case 1", "pass", 1, 0)],
    improvements: [],
    tests: [
      { name: "answers > case 1", file: FILE, status: "failed", exampleId: "ex-1", runId: "run-1", scores: { quality: 0.4 } },
      { name: "answers > case 2", file: FILE, status: "passed", exampleId: "ex-2", runId: "run-2", scores: { quality: 0.8 } },
      { name: "answers > case 3", file: FILE, status: "passed", exampleId: "ex-3", runId: "run-3", scores: { quality: 0.9 } },
    ],
    ...more,
  };
}

function report(experiments: ReportExperiment[] = [experiment()], gates: ReportGate[] = []): TallyReportV1 {
  return {
    version: 2,
    run: { key: "gh-1234-1", startedAt: "2026-03-01T12:00:00.000Z", endedAt: "2026-03-01T12:03:10.512Z", git: null },
    experiments,
    gates,
  };
}

const SUMMARY: RunSummary = {
  experiments: [],
  otherRuns: { delivered: 0, received: 0, byProject: {} },
  waiting: 0,
  waitingTests: 0,
  problems: [],
};

/** A sink's context, and the lines it logged. */
function context(more: Partial<SinkContext> = {}) {
  const lines: string[] = [];
  const ctx: SinkContext = {
    where: { local: false, backend: "https://api.example" },
    tables: true,
    setTestProperty: () => {},
    env: {},
    log: (l: string) => void lines.push(l),
    color: false,
    ...more,
  };
  return { ctx, lines };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tally-ci-sinks-"));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `fn` with process.stdout.write captured; returns what was written. */
function capturingStdout(fn: () => void): string {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return written.join("");
}

describe("githubSink", () => {
  test("outside GitHub Actions it writes nothing", () => {
    const summaryFile = join(dir, "summary.md");
    for (const env of [
      {},
      { GITHUB_ACTIONS: "false", GITHUB_STEP_SUMMARY: summaryFile },
      { GITHUB_ACTIONS: "1", GITHUB_STEP_SUMMARY: summaryFile },
    ]) {
      const { ctx, lines } = context({ report: report(), env });
      const out = capturingStdout(() => githubSink(SUMMARY, ctx));
      expect(out).toBe("");
      expect(lines).toEqual([]);
    }
    expect(existsSync(summaryFile)).toBe(false);
  });

  test("without a report it writes nothing, on GitHub Actions too", () => {
    const summaryFile = join(dir, "summary.md");
    const { ctx, lines } = context({ env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summaryFile } });
    expect(capturingStdout(() => githubSink(SUMMARY, ctx))).toBe("");
    expect(lines).toEqual([]);
    expect(existsSync(summaryFile)).toBe(false);
  });

  test("appends the job summary to GITHUB_STEP_SUMMARY and writes the workflow commands to stdout", () => {
    const summaryFile = join(dir, "summary.md");
    writeFileSync(summaryFile, "# earlier step\n");
    const r = report([experiment()], [{ name: "passRate", ok: false, message: `pass rate 0.67 < 0.90 (${EXP})` }]);
    const { ctx, lines } = context({ report: r, env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summaryFile } });
    const out = capturingStdout(() => githubSink(SUMMARY, ctx));
    expect(readFileSync(summaryFile, "utf8")).toBe(`# earlier step\n${jobSummaryMarkdown(r)}`);
    expect(readFileSync(summaryFile, "utf8")).toContain("### [ci-suite:gh-1234-1](https://smith.example/exp-1)");
    expect(out).toBe(
      [
        `::notice title=Tally experiment::${EXP} https://smith.example/exp-1`,
        `::error title=Tally gate::pass rate 0.67 < 0.90 (${EXP})`,
        `::warning file=${FILE},title=Tally regression::answers > case 1: pass 1 → 0 (${EXP})`,
        "",
      ].join("\n"),
    );
    expect(lines).toEqual([]);
  });

  test("without GITHUB_STEP_SUMMARY it still writes the workflow commands", () => {
    const { ctx } = context({ report: report(), env: { GITHUB_ACTIONS: "true" } });
    const out = capturingStdout(() => githubSink(SUMMARY, ctx));
    expect(out).toMatch(/^::notice title=Tally experiment::/);
  });

  test("an unwritable summary file is named in the log; the sink does not throw and still writes the commands", () => {
    // A directory cannot be appended to (EISDIR), also for root.
    const { ctx, lines } = context({ report: report(), env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: dir } });
    let out = "";
    expect(() => {
      out = capturingStdout(() => githubSink(SUMMARY, ctx));
    }).not.toThrow();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^tally: could not write the job summary to ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*EISDIR`),
    );
    expect(out).toContain("::notice title=Tally experiment::");
  });
});

describe("jsonReportSink", () => {
  test("writes the report as JSON, creating the parent folders, and logs the path", () => {
    const file = join(dir, "reports", "ci", "tally.json");
    const r = report();
    const { ctx, lines } = context({ report: r, reportFile: file });
    jsonReportSink(SUMMARY, ctx);
    const text = readFileSync(file, "utf8");
    expect(JSON.parse(text)).toEqual(r);
    expect(text).toBe(`${JSON.stringify(r, null, 2)}\n`);
    expect(lines).toEqual([`tally: report written to ${file}`]);
  });

  test("replaces an earlier report", () => {
    const file = join(dir, "tally.json");
    writeFileSync(file, '{"old":true}');
    const { ctx } = context({ report: report([]), reportFile: file });
    jsonReportSink(SUMMARY, ctx);
    expect(JSON.parse(readFileSync(file, "utf8")).experiments).toEqual([]);
  });

  test("without reportFile, or without a report, it writes and logs nothing", () => {
    const file = join(dir, "tally.json");
    const without = context({ report: report() });
    jsonReportSink(SUMMARY, without.ctx);
    expect(without.lines).toEqual([]);
    const noReport = context({ reportFile: file });
    jsonReportSink(SUMMARY, noReport.ctx);
    expect(noReport.lines).toEqual([]);
    expect(existsSync(file)).toBe(false);
  });
});

describe("gatesSink", () => {
  test("one line per failing gate, and exit code 1", () => {
    const gates: ReportGate[] = [
      { name: "passRate", ok: false, message: `pass rate 0.67 < 0.90 (${EXP})` },
      { name: "scores.quality", ok: true, message: `mean quality 0.7 ≥ 0.5 (${EXP})` },
      { name: "maxRegressions", ok: false, message: `1 regression > 0 (${EXP})` },
    ];
    const { ctx, lines } = context({ report: report([experiment()], gates) });
    expect(gatesSink(SUMMARY, ctx)).toEqual({ exitCode: 1 });
    expect(lines).toEqual([`Tally gate failed: pass rate 0.67 < 0.90 (${EXP})`, `Tally gate failed: 1 regression > 0 (${EXP})`]);
  });

  test("in red on a terminal", () => {
    const { ctx, lines } = context({ report: report([], [{ name: "passRate", ok: false, message: "low" }]), color: true });
    gatesSink(SUMMARY, ctx);
    expect(lines).toEqual(["\x1b[31mTally gate failed: low\x1b[39m"]);
  });

  test("every gate passing, no gates or no report: nothing logged, no exit code", () => {
    for (const r of [report([], [{ name: "passRate", ok: true, message: "fine" }]), report([], []), undefined]) {
      const { ctx, lines } = context({ report: r });
      expect(gatesSink(SUMMARY, ctx)).toBeUndefined();
      expect(lines).toEqual([]);
    }
  });
});

describe("comparisonLines", () => {
  test("the baseline named, the pass rate and each key's mean with a signed Δ, then the regressions", () => {
    const r = report([
      experiment({
        passRate: 0.5,
        scores: {
          quality: { mean: 0.7, count: 3 },
          tone: { mean: 0.8, count: 3 },
          exact: { mean: 1, count: 2 },
          fresh: { mean: 1, count: 1 },
        },
        baseline: { name: "ci-suite:gh-1200-1", id: "exp-0", url: null, passRate: 0.75, scores: { quality: 0.9, tone: 0.5, exact: 1 } },
        regressions: [change("answers > case 1", "pass", 1, 0), change("answers > case 1", "quality", 1, 0.4)],
      }),
    ]);
    expect(comparisonLines(r, false)).toEqual([
      `tally: "${EXP}" vs baseline "ci-suite:gh-1200-1": pass rate 0.75 → 0.50 (Δ −0.25) · quality 0.90 → 0.70 (Δ −0.20) · tone 0.50 → 0.80 (Δ +0.30) · exact 1 → 1 (Δ ±0)`,
      "tally:   regressions (2): answers > case 1 pass 1 → 0, answers > case 1 quality 1 → 0.40",
    ]);
  });

  test("improvements are counted; no regressions, no regressions line", () => {
    const r = report([experiment({ regressions: [], improvements: [change("b", "quality", 0.5, 0.9)] })]);
    const lines = comparisonLines(r, false);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe("tally:   improvements (1)");
  });

  test("more than 10 regressions: the first 10, then how many more", () => {
    const regressions = Array.from({ length: 13 }, (_, i) => change(`case ${i}`, "pass", 1, 0));
    const [, line] = comparisonLines(report([experiment({ regressions })]), false);
    expect(line).toMatch(/^tally: {3}regressions \(13\): case 0 pass 1 → 0, /);
    expect(line).toContain("case 9 pass 1 → 0, … and 3 more");
    expect(line).not.toContain("case 10 ");
    const ten = comparisonLines(report([experiment({ regressions: regressions.slice(0, 10) })]), false)[1]!;
    expect(ten).not.toContain("more");
    expect(ten.endsWith("case 9 pass 1 → 0")).toBe(true);
  });

  test("a baseline without means: only its name", () => {
    const r = report([experiment({ baseline: { name: "old", id: "exp-0", url: null }, regressions: [] })]);
    expect(comparisonLines(r, false)).toEqual([`tally: "${EXP}" vs baseline "old"`]);
  });

  test("no pass rate this run: no pass rate change", () => {
    const r = report([experiment({ passRate: null, scores: {}, regressions: [] })]);
    expect(comparisonLines(r, false)).toEqual([`tally: "${EXP}" vs baseline "ci-suite:gh-1200-1"`]);
  });

  test("nothing for an experiment without a baseline", () => {
    const r = report([
      experiment({ name: "local:1", baseline: null, regressions: [change("x", "pass", 1, 0)] }),
      experiment({ regressions: [] }),
    ]);
    const lines = comparisonLines(r, false);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`"${EXP}" vs baseline`);
    expect(comparisonLines(report([experiment({ baseline: null })]), false)).toEqual([]);
  });

  test("coloured on a terminal: the comparison dim, the regressions red, the improvements green", () => {
    const r = report([experiment({ improvements: [change("b", "quality", 0.5, 0.9)] })]);
    const [head, regressions, improvements] = comparisonLines(r, true);
    const [plainHead, plainRegressions] = comparisonLines(r, false);
    expect(head).toBe(`\x1b[2m${plainHead}\x1b[22m`);
    expect(regressions).toBe(`\x1b[31m${plainRegressions}\x1b[39m`);
    expect(improvements).toBe("\x1b[32mtally:   improvements (1)\x1b[39m");
  });

  test("one line per measure of the noise-aware comparison after the comparison line, coloured by verdict", () => {
    const measure = (
      baseline: number,
      current: number,
      ci: [number, number],
      p: number,
      verdict: ReportMeasure["verdict"],
      method: string,
    ) => ({
      method,
      n: 12,
      baseline,
      current,
      delta: current - baseline,
      ci,
      p,
      verdict,
    });
    const comparison: ReportComparison = {
      method: { passRate: METHODS.passRate, scores: METHODS.scores },
      alpha: 0.05,
      passRate: measure(1, 2 / 3, [-0.58, -0.08], 0.031, "regressed", METHODS.passRate),
      scores: {
        quality: measure(0.93, 0.81, [-0.18, -0.06], 0.0012, "regressed", METHODS.scores),
        tone: measure(0.5, 0.8, [0.1, 0.5], 0.0004, "improved", METHODS.scores),
        exact: measure(1, 1, [0, 0], 1, "unchanged", METHODS.scores),
      },
      unmatched: { baselineOnly: ["ex-9"], currentOnly: [], baselineOnlyCount: 1, currentOnlyCount: 0 },
    };
    const r = report([experiment({ regressions: [], comparison })]);
    const lines = comparisonLines(r, false);
    expect(lines.slice(1)).toEqual([
      "tally:   pass rate 1 → 0.67  Δ −0.33 [−0.58, −0.08]  p 0.031  regressed (exact McNemar)",
      "tally:   exact 1 → 1  Δ 0 [0, 0]  p 1  unchanged (paired bootstrap)",
      "tally:   quality 0.93 → 0.81  Δ −0.12 [−0.18, −0.06]  p 0.001  regressed (paired bootstrap)",
      "tally:   tone 0.50 → 0.80  Δ 0.30 [0.10, 0.50]  p < 0.001  improved (paired bootstrap)",
      "tally:   not compared (examples one side ran): 1 only in the baseline, 0 only in this run",
      "tally:     only in the baseline: example ex-9",
    ]);
    const coloured = comparisonLines(r, true);
    expect(coloured[1]).toBe(`\x1b[31m${lines[1]}\x1b[39m`);
    expect(coloured[2]).toBe(`\x1b[2m${lines[2]}\x1b[22m`);
    expect(coloured[4]).toBe(`\x1b[32m${lines[4]}\x1b[39m`);
    // A merged report of several shards has none: only the comparison line.
    expect(comparisonLines(report([experiment({ regressions: [], comparison: null })]), false)).toHaveLength(1);
  });

  test("the terminal sink prints the comparison after the delivery lines and before where to look", () => {
    const r = report();
    const { ctx, lines } = context({ report: r, where: { local: true, backend: "local store /x/tally.db" } });
    const withExperiment: RunSummary = {
      ...SUMMARY,
      experiments: [{ dataset: "ci-suite", name: EXP, tests: [], expected: 0, delivered: 0, spans: 0, feedback: 0, missing: [] }],
    };
    terminalSink(withExperiment, ctx);
    const first = comparisonLines(r, false)[0]!;
    const at = lines.indexOf(first);
    expect(at).toBeGreaterThan(-1);
    expect(lines.findIndex((l) => l.includes("recorded offline"))).toBeGreaterThan(at);
    const none = context({ where: { local: true, backend: "local store /x/tally.db" } });
    terminalSink(withExperiment, none.ctx);
    expect(none.lines.some((l) => l.includes("vs baseline"))).toBe(false);
  });

  test("a key's Δ compares the two experiments' means (each run once), also when this run added an example", () => {
    // Built the way the run builds it: the baseline ran case 1 and 2, this run also a new case 3.
    const fb = (quality: number, passed: boolean) => [
      { key: "pass", score: passed },
      { key: "quality", score: quality },
    ];
    const tests: ReportedTest[] = [
      { name: "case 1", file: FILE, state: "passed", runId: "r1", feedback: fb(0.5, true) },
      { name: "case 2", file: FILE, state: "passed", runId: "r2", feedback: fb(0.5, true) },
      { name: "case 3 (new)", file: FILE, state: "passed", runId: "r3", feedback: fb(1, true) },
    ];
    const exampleOf = new Map([
      ["r1", "ex-1"],
      ["r2", "ex-2"],
      ["r3", "ex-3"],
    ]);
    const current = outcomesOfTests(tests, (id) => exampleOf.get(id));
    const baseline: TestOutcome[] = [
      { exampleId: "ex-1", runId: "o1", name: "case 1", passed: true, scores: { quality: 0.9 } },
      { exampleId: "ex-2", runId: "o2", name: "case 2", passed: true, scores: { quality: 0.9 } },
    ];
    const comparison = compareOutcomes(current, baseline, { regressionThreshold: 0.5 });
    // Over the matched examples, quality went from 0.9 to 0.5.
    expect(comparison.deltas.quality).toEqual({ before: 0.9, after: 0.5, delta: expect.closeTo(-0.4) });
    const r = buildReport({
      summary: {
        ...SUMMARY,
        experiments: [{ dataset: "ci-suite", name: EXP, tests, expected: 3, delivered: 3, spans: 0, feedback: 6, missing: [] }],
      },
      compared: [
        { name: EXP, id: "exp-1", baseline: { name: "base", id: "exp-0", url: null, ...baselineMeans(baseline) }, comparison, exampleOf },
      ],
      run: report().run,
      gates: {},
    });
    // The experiments' means: 0.9 over the baseline's two runs, (0.5 + 0.5 + 1) / 3 over this run's.
    expect(comparisonLines(r, false)[0]).toContain("quality 0.90 → 0.67 (Δ −0.23)");
  });
});

describe("comparisonLines: each test's own verdict over its trials", () => {
  const base = { method: { passRate: METHODS.passRateTrials, scores: METHODS.scores }, alpha: 0.05, passRate: null, scores: {} };
  const unmatched = { baselineOnly: [], currentOnly: [], baselineOnlyCount: 0, currentOnlyCount: 0 };

  test("the tests that changed beyond noise are named with their measure, Δ, interval, p and adjusted p", () => {
    const comparison: ReportComparison = {
      ...base,
      unmatched,
      testsCompared: 40,
      tests: [
        {
          exampleId: "ex-3",
          name: "answers > refunds",
          trials: 10,
          baselineTrials: 10,
          verdict: "regressed",
          passRate: {
            method: METHODS.testPassRate,
            baseline: 1,
            current: 0.1,
            delta: -0.9,
            ci: [-0.97, -0.6],
            p: 0.00012,
            pAdjusted: 0.0048,
            verdict: "regressed",
          },
          scores: {},
        },
      ],
    };
    const lines = comparisonLines(report([experiment({ regressions: [], comparison })]), false);
    expect(lines.slice(1)).toEqual([
      "tally:   tests regressed beyond noise over their trials (1 of 40):",
      "tally:     answers > refunds (10 trials, baseline 10): pass rate 1 → 0.10  Δ −0.90 [−0.97, −0.60]  p < 0.001 (adjusted 0.005)",
    ]);
  });

  test("none changed: one line saying so; no tests with trials: nothing", () => {
    const none = comparisonLines(
      report([experiment({ regressions: [], comparison: { ...base, unmatched, testsCompared: 12, tests: [] } })]),
      false,
    );
    expect(none.slice(1)).toEqual([
      "tally:   12 tests with trials against their baseline trials: none changed beyond noise (p adjusted for 12 tests)",
    ]);
    const without = comparisonLines(report([experiment({ regressions: [], comparison: { ...base, unmatched } })]), false);
    expect(without.slice(1)).toEqual([]);
  });
});
