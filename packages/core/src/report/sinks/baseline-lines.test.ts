import { describe, expect, test } from "vitest";
import { jobSummaryMarkdown } from "../ci/markdown.js";
import type { ReportComparison, ReportExperiment, TallyReport } from "../json-report.js";
import { METHODS } from "../../stats/index.js";
import { comparisonLines } from "./comparison.js";

// What the terminal and the job summary say of a baseline that could not be had (baseline: "approved"
// with none approved), and of the examples only one side ran: counted and named, never dropped.

const FILE = "evals/qa.eval.ts";

function experiment(more: Partial<ReportExperiment> = {}): ReportExperiment {
  return {
    name: "qa:run-2",
    id: "exp-2",
    url: null,
    dataset: "qa",
    delivered: { runs: 8, expected: 8, spans: 8, feedback: 0 },
    passRate: 1,
    scores: {},
    baseline: { name: "qa:run-1", id: "exp-1", url: null, passRate: 1 },
    regressions: [],
    improvements: [],
    tests: Array.from({ length: 8 }, (_, i) => ({
      name: `qa > case ${i}`,
      file: FILE,
      status: "passed" as const,
      exampleId: `ex-${i}`,
      runId: `run-${i}`,
      scores: {},
    })),
    ...more,
  };
}

const report = (exp: ReportExperiment): TallyReport => ({
  version: 2,
  run: { key: "k", startedAt: "2026-03-01T12:00:00.000Z", endedAt: "2026-03-01T12:01:00.000Z", git: null },
  experiments: [exp],
  gates: [],
});

function comparison(currentOnly: string[], baselineOnly: string[]): ReportComparison {
  return {
    method: { passRate: METHODS.passRate, scores: METHODS.scores },
    alpha: 0.05,
    passRate: { method: METHODS.passRate, n: 2, baseline: 1, current: 1, delta: 0, ci: [0, 0], p: 1, verdict: "unchanged" },
    scores: {},
    unmatched: { currentOnly, baselineOnly, currentOnlyCount: currentOnly.length, baselineOnlyCount: baselineOnly.length },
  };
}

describe("examples only one side ran", () => {
  test("the terminal counts them and names this run's by test, the baseline's by example id, the first five", () => {
    const lines = comparisonLines(
      report(experiment({ comparison: comparison(["ex-7"], ["old-1", "old-2", "old-3", "old-4", "old-5", "old-6"]) })),
      false,
    );
    expect(lines.slice(-3)).toEqual([
      "tally:   not compared (examples one side ran): 6 only in the baseline, 1 only in this run",
      'tally:     only in this run: "qa > case 7"',
      "tally:     only in the baseline: example old-1, example old-2, example old-3, example old-4, example old-5, … and 1 more (the JSON report lists 6)",
    ]);
  });

  test("the job summary names them too", () => {
    const md = jobSummaryMarkdown(report(experiment({ comparison: comparison(["ex-6", "ex-7"], ["old-1"]) })));
    expect(md).toContain("**Not compared (run by one side only)**");
    expect(md).toContain("- only in this run (2): qa > case 6, qa > case 7");
    expect(md).toContain("- only in the baseline (1): `old-1`");
  });

  test("nothing unmatched, nothing said", () => {
    const exp = experiment({ comparison: comparison([], []) });
    expect(comparisonLines(report(exp), false).join("\n")).not.toContain("not compared");
    expect(jobSummaryMarkdown(report(exp))).not.toContain("Not compared");
  });
});

describe("a baseline asked for and not had", () => {
  const note =
    'dataset "qa" has no approved baseline to compare with; approve one with: tally baseline approve <experiment> --dataset "qa"';

  test("is said on the terminal and in the job summary", () => {
    const exp = experiment({ baseline: null, comparison: null, baselineNote: note });
    expect(comparisonLines(report(exp), false)).toEqual([`tally: "qa:run-2" not compared: ${note}`]);
    expect(jobSummaryMarkdown(report(exp))).toContain(`⚠️ Not compared: ${note.replace("<", "&lt;")}`);
  });

  test("no note, no line: a run without a baseline asked for says nothing", () => {
    expect(comparisonLines(report(experiment({ baseline: null, comparison: null })), false)).toEqual([]);
  });
});
