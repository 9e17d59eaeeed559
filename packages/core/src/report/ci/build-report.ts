import type { Comparison } from "../../compare/diff.js";
import type { ExperimentVerdicts } from "../../compare/verdicts.js";
import type { TestComparison } from "../../compare/test-verdicts.js";
import { meanOf, meansByKey } from "../../compare/means.js";
import { scoreValue, type TestOutcome } from "../../compare/outcomes.js";
import { type GateOptions, judgeGates } from "../../compare/gates.js";
import type {
  ReportBaseline,
  ReportComparison,
  ReportExperiment,
  ReportVerdict,
  ReportMissing,
  ReportScore,
  ReportTest,
  TallyReportV1,
  TallyReportV2,
} from "../json-report.js";
import { experimentSpread } from "../spread.js";
import { cacheTotals } from "../cache-counts.js";
import { baselineUsageFields, experimentUsageFields, type Prices, testUsageFields, totalUsage } from "../usage.js";
import type { ModelUsage } from "../../protocol/tracked-test.js";
import type { ExperimentSummary, ReportedTest, RunSummary } from "../reconcile.js";

// Pure: the run's one summary, the comparison of each experiment with its baseline and the gates,
// as the versioned JSON report. Every CI output (job summary, annotations, the file, the gates' exit
// code, `tally report merge`) is rendered from this one value.

export interface ExperimentCompared {
  /** The summary's experiment name. */
  name: string;
  id: string;
  /** With its pass rate and mean scores (baselineMeans) for the Δ the terminal shows. */
  baseline: ReportBaseline | null;
  comparison: Comparison | null;
  /** The noise-aware comparison (paired statistics and verdicts); null or absent without a baseline. */
  verdicts?: ExperimentVerdicts | null;
  /** Each test's own verdict over its trials (tests with 2 trials or more); null or absent without a baseline. */
  tests?: TestComparison | null;
  /** runId → exampleId, as the backend recorded each run. */
  exampleOf: ReadonlyMap<string, string>;
  /** The baseline's tokens per model, from its runs' `tally_usage` (priced with this run's prices). */
  baselineUsage?: ModelUsage;
}

export interface ReportInput {
  summary: RunSummary;
  compared: readonly ExperimentCompared[];
  run: TallyReportV1["run"];
  gates: GateOptions;
  /** USD per million tokens per model (the `prices` option); none: every cost is unknown. */
  prices?: Prices;
}

type Experiment = TallyReportV1["experiments"][number];

/** A test's scores: every feedback key but `pass` (that is its status), averaged when repeated. */
export function testScores(t: ReportedTest): Record<string, number> {
  const rows: Array<Record<string, number>> = [];
  for (const f of t.feedback ?? []) {
    const v = scoreValue(f.score);
    if (f.key !== "pass" && v !== undefined) rows.push({ [f.key]: v });
  }
  return meanOf(rows);
}

/**
 * This run's side of a comparison, from what the runner saw (status, scores) and the example each run
 * references on the backend (`exampleOf`); tests without a run or an example are left out.
 */
export function outcomesOfTests(tests: readonly ReportedTest[], exampleOf: (runId: string) => string | undefined): TestOutcome[] {
  const out: TestOutcome[] = [];
  for (const t of tests) {
    if (!t.runId || (t.state !== "passed" && t.state !== "failed")) continue;
    const exampleId = exampleOf(t.runId);
    if (!exampleId) continue;
    out.push({ exampleId, runId: t.runId, name: t.name, passed: t.state === "passed", scores: testScores(t) });
  }
  return out;
}

/** The tests a pass rate is over: those that passed or failed (not skipped, not pending). */
export function ranOf(tests: readonly ReportTest[]): ReportTest[] {
  return tests.filter((t) => t.status === "passed" || t.status === "failed");
}

/**
 * Passed over passed, failed and never run (`neverRun`: tests with no result, counted as failed);
 * null when none of them.
 */
export function passRateOf(tests: readonly ReportTest[], neverRun = 0): number | null {
  const ran = ranOf(tests);
  const n = ran.length + neverRun;
  return n > 0 ? ran.filter((t) => t.status === "passed").length / n : null;
}

/** The report's list of the tests that never ran, from the summary's; absent when every test ran. */
export function neverRunOf(tests: readonly ReportMissing[] | undefined): Pick<ReportExperiment, "neverRun"> {
  return tests && tests.length > 0
    ? { neverRun: { count: tests.length, tests: tests.map(({ test, file, reason }) => ({ test, file, reason })) } }
    : {};
}

function experimentOf(exp: ExperimentSummary, c: ExperimentCompared | undefined, prices: Prices = {}): Experiment {
  const tests = exp.tests.map((t) => {
    const s = testScores(t);
    return {
      name: t.name,
      file: t.file,
      ...(t.line ? { line: t.line } : {}),
      status: t.state,
      exampleId: (t.runId && c?.exampleOf.get(t.runId)) || null,
      runId: t.runId ?? null,
      scores: s,
      ...(t.cache ? { cache: t.cache } : {}),
      ...testUsageFields(t.usage, prices),
    };
  });
  const cache = cacheTotals(tests);
  // The runner's tests by example, for naming a regression with the test and file the runner knows.
  const byExample = new Map<string, (typeof tests)[number]>();
  for (const t of tests) if (t.exampleId && !byExample.has(t.exampleId)) byExample.set(t.exampleId, t);
  const spread = withTestVerdicts(spreadOf(exp.name, tests, exp.neverRun?.length), (id) =>
    c?.baseline ? c.tests?.verdictOf.get(id) : undefined,
  );
  // With trials a change is the example's (all its trials folded), named as the test without `, run n`.
  const exampleName = new Map((spread.examples ?? []).flatMap((e) => (e.exampleId ? [[e.exampleId, e.name] as const] : [])));
  const changes = (list: Comparison["regressions"] | undefined) =>
    (list ?? []).map((r) => ({
      test: exampleName.get(r.exampleId) ?? byExample.get(r.exampleId)?.name ?? r.test,
      file: byExample.get(r.exampleId)?.file ?? "",
      ...(byExample.get(r.exampleId)?.line ? { line: byExample.get(r.exampleId)!.line } : {}),
      key: r.key,
      before: r.before,
      after: r.after,
    }));
  return {
    name: exp.name,
    id: c?.id ?? null,
    url: exp.url ?? null,
    dataset: exp.dataset,
    delivered: {
      runs: exp.delivered,
      expected: exp.expected,
      spans: exp.spans,
      feedback: exp.feedback,
      ...(exp.missing.length > 0 ? { missing: exp.missing.map(({ test, file, reason }) => ({ test, file, reason })) } : {}),
    },
    ...spread,
    baseline: c?.baseline ? { ...c.baseline, ...baselineUsageFields(c.baselineUsage, prices) } : null,
    comparison: c?.baseline && c.verdicts ? comparisonOf(c.verdicts, c.tests) : null,
    regressions: changes(c?.comparison?.regressions),
    improvements: changes(c?.comparison?.improvements),
    tests,
    ...neverRunOf(exp.neverRun),
    ...(cache ? { cache } : {}),
    ...experimentUsageFields(totalUsage(exp.tests), prices),
  };
}

/**
 * An experiment's pass rate and mean scores with their spread (intervals, trials, per-example groups),
 * from its tests: the run's report and the merge of its shards count them alike.
 */
export function spreadOf(
  name: string,
  tests: readonly ReportTest[],
  /** Tests that never ran to a result, counted as failed in the pass rate and its interval. */
  neverRun = 0,
): Pick<ReportExperiment, "passRate" | "passRateCi" | "scores" | "trials" | "passAtK" | "passHatK" | "examples"> {
  const spread = experimentSpread(tests, name, neverRun);
  const scores: Record<string, ReportScore> = {};
  for (const [k, m] of Object.entries(meansByKey(tests.map((t) => t.scores)))) scores[k] = { ...m, ci: spread.scoreCi[k] ?? null };
  return {
    passRate: passRateOf(tests, neverRun),
    passRateCi: spread.passRateCi,
    scores,
    trials: spread.trials,
    ...(spread.passAtK !== undefined ? { passAtK: spread.passAtK, passHatK: spread.passHatK! } : {}),
    examples: spread.examples,
  };
}

/** The spread with each example's own verdict (a test with trials, against the baseline's) put on its entry. */
export function withTestVerdicts<T extends Pick<ReportExperiment, "examples">>(
  spread: T,
  verdictOf: (exampleId: string) => ReportVerdict | undefined,
): T {
  if (!spread.examples) return spread;
  return {
    ...spread,
    examples: spread.examples.map((e) => {
      const v = e.exampleId ? verdictOf(e.exampleId) : undefined;
      return v ? { ...e, verdict: v } : e;
    }),
  };
}

/** The report's comparison: the experiment's verdicts, and the tests that changed beyond noise over their trials. */
function comparisonOf(verdicts: ExperimentVerdicts, tests: TestComparison | null | undefined): ReportComparison {
  return tests ? { ...verdicts, testsCompared: tests.compared, tests: tests.changed } : verdicts;
}

/**
 * The baseline's pass rate and mean scores over all its runs, counted as this run's are (each run
 * once), so that the terminal's Δ compares like with like.
 */
export function baselineMeans(outcomes: readonly TestOutcome[]): { passRate: number | null; scores: Record<string, number> } {
  return {
    passRate: outcomes.length > 0 ? outcomes.filter((o) => o.passed).length / outcomes.length : null,
    scores: meanOf(outcomes.map((o) => o.scores)),
  };
}

/** The gates judged on a report's experiments (a run's, or the merge of its shards'). */
export function judgeReport(gates: GateOptions, experiments: readonly Experiment[]): TallyReportV1["gates"] {
  return judgeGates(
    gates,
    experiments.map((e) => ({
      name: e.name,
      passRate: e.passRate ?? 0,
      passRateCi: e.passRateCi ?? null,
      ...(e.neverRun?.count ? { neverRun: e.neverRun.count } : {}),
      scores: e.scores,
      regressions: e.regressions.length,
      delivered: { runs: e.delivered.runs, expected: e.delivered.expected },
      comparison: e.comparison ?? null,
      ...(e.tokens ? { tokens: e.tokens.total } : {}),
      ...(e.cost ? { cost: e.cost } : {}),
    })),
  );
}

export function buildReport(input: ReportInput): TallyReportV2 {
  const byName = new Map(input.compared.map((c) => [c.name, c]));
  const experiments = input.summary.experiments.map((e) => experimentOf(e, byName.get(e.name), input.prices));
  return { version: 2, run: input.run, experiments, gates: judgeReport(input.gates, experiments) };
}
