// The run's JSON report, version 2: what `reportFile` writes and `tally report merge` reads. Its JSON
// Schema ships in the package (schema/report.v2.json, export "@tally/core/schema/report.v2.json");
// this type mirrors it, and a test validates reports against it. A change of shape is a new version.
// Version 2 only adds to version 1 (the spread: intervals, trials, per-example groups), so the fields
// it adds are optional here: a version 1 report (still read by `tally report merge`) lacks them.
import { isRecord } from "../wire/json-object.js";
import type { CacheCounts } from "../protocol/tracked-test.js";

export interface TallyReport {
  /** 2 for the reports Tally writes; 1 for those of earlier versions (read, never written). */
  version: 1 | 2;
  run: ReportRun;
  experiments: ReportExperiment[];
  /** Every gate judged, per experiment, passing or not. */
  gates: ReportGate[];
}

/** A report of either version, as `tally report merge` reads it (kept for the name's readers). */
export type TallyReportV1 = TallyReport;
/** A report as Tally writes it now. */
export type TallyReportV2 = TallyReport & { version: 2 };

/** A 95 % confidence interval, low end first. */
export type ReportCi = [lo: number, hi: number];

export interface ReportRun {
  /** The run key shards share (`tally report merge` refuses reports of different keys). */
  key: string;
  /** ISO times. */
  startedAt: string;
  endedAt: string;
  /** null outside a git checkout. */
  git: ReportGit | null;
}

export interface ReportGit {
  commit: string;
  branch: string | null;
  dirty: boolean;
}

export interface ReportExperiment {
  name: string;
  /** The backend's id; null when the experiment was never resolved. */
  id: string | null;
  /** Where a person looks at it: LangSmith, or the viewer for the embedded store. */
  url: string | null;
  dataset: string;
  delivered: ReportDelivered;
  /** Passed over passed, failed and never-run tests (`neverRun`); null when none ran. */
  passRate: number | null;
  /** Wilson 95 % interval of the pass rate; null when none ran (v2). */
  passRateCi?: ReportCi | null;
  /** Mean per feedback key over the tests that have it (`pass` is the pass rate). */
  scores: Record<string, ReportScore>;
  /** The most trials (tests that ran) any example has (v2). */
  trials?: number;
  /** With 2 trials or more: pass@k and pass^k at k = trials, averaged over the examples with that many (v2). */
  passAtK?: number;
  passHatK?: number;
  /** The tests grouped by example, one entry per example (a test without one alone) (v2). */
  examples?: ReportExample[];
  baseline: ReportBaseline | null;
  /**
   * The noise-aware comparison with the baseline over the examples both ran (v2); null without a
   * baseline, and in a merged report of several shards (see `comparisonNote`).
   */
  comparison?: ReportComparison | null;
  /** Why `comparison` is null though there is a baseline (a merge of several shards). */
  comparisonNote?: string;
  /**
   * Why there is no baseline though one was asked for: `baseline: "approved"` and the dataset has no
   * approved baseline, or the approved experiment is gone (v2, optional).
   */
  baselineNote?: string;
  regressions: ReportChange[];
  improvements: ReportChange[];
  tests: ReportTest[];
  /**
   * Tests the run meant to run that never ran to a result (a worker that died, a `--bail` that
   * cancelled them): counted as failed in `passRate`, `passRateCi` and the `passRate` gate. Absent
   * when every test ran (v2, optional). A test with no result is also in `tests` as "pending".
   */
  neverRun?: ReportNeverRun;
  /** The model-call cache over the experiment's tests; absent when the cache was off. */
  cache?: CacheCounts;
  /** The tokens of the tests' LLM spans; absent when none reported any (v2). */
  tokens?: ReportTokens;
  /** What those tokens cost at the `prices` option's prices (v2). */
  cost?: ReportCost;
  /** Tokens and cost per model name (v2). */
  models?: Record<string, ReportModelUsage>;
}

/** Tokens spent (`input`, `output`, `total` = both) and what the model-call cache answered instead (`saved`). */
export interface ReportTokens {
  input: number;
  output: number;
  total: number;
  saved: number;
}

export interface ReportCost {
  /** USD spent; null when a model that spent tokens has no price (never 0 for an unknown price). */
  usd: number | null;
  /** USD the cache saved; null when a model it saved tokens of has no price. */
  savedUsd: number | null;
  /** The models with tokens and no price, sorted. */
  unknownModels: string[];
}

export interface ReportModelUsage extends ReportTokens {
  /** USD spent on the model; null without a price for it. */
  costUsd: number | null;
}

export interface ReportDelivered {
  /** Root runs (tests) the backend accepted, of those expected. */
  runs: number;
  expected: number;
  spans: number;
  feedback: number;
  /** Tests whose run did not land, each with why (kept in the spool, refused, never reported). */
  missing?: ReportMissing[];
}

export interface ReportNeverRun {
  /** How many (the length of `tests`). */
  count: number;
  tests: ReportMissing[];
}

export interface ReportMissing {
  test: string;
  file: string;
  reason: string;
}

export interface ReportScore {
  mean: number;
  count: number;
  /** Bootstrap 95 % interval of the mean over examples (trials averaged first), seeded with the experiment's name (v2). */
  ci?: ReportCi | null;
}

/** One example's trials: the experiment's tests of one example id. */
export interface ReportExample {
  exampleId: string | null;
  /** The test's name, without the `, run n` of its repetitions. */
  name: string;
  /** Its tests that passed or failed. */
  trials: number;
  passRate: number | null;
  passRateCi: ReportCi | null;
  /** With 2 trials or more, at k = trials: the chance any (pass@k) and all (pass^k) of k trials pass. */
  passAtK?: number;
  passHatK?: number;
  /** With 2 trials or more and a baseline that ran the example: the test's own verdict (details in `comparison.tests`). */
  verdict?: ReportVerdict;
}

export interface ReportBaseline {
  name: string;
  id: string;
  url: string | null;
  /** The baseline's pass rate, for Δ (optional). */
  passRate?: number | null;
  /** The baseline's mean per key over the examples both experiments ran, for Δ (optional). */
  scores?: Record<string, number>;
  /** The baseline's tokens, from its runs' `tally_usage`; absent when none has it (v2). */
  tokens?: ReportTokens;
  /** What they cost at this run's prices; null when a model has no price (v2). */
  costUsd?: number | null;
}

export type ReportVerdict = "regressed" | "improved" | "unchanged";

/** One measure (the pass rate or a feedback key) compared over the examples both experiments ran. */
export interface ReportMeasure {
  /** How `p` was computed. */
  method: string;
  /** The paired examples. */
  n: number;
  baseline: number;
  current: number;
  /** current − baseline. */
  delta: number;
  /** Percentile bootstrap 95 % interval of `delta`, seeded with the experiment's name. */
  ci: ReportCi;
  p: number;
  /** "regressed" or "improved" when p < alpha and the interval excludes 0; else "unchanged". */
  verdict: ReportVerdict;
}

export interface ReportComparison {
  method: { passRate: string; scores: string };
  /** The significance level of the verdicts (the `alpha` option). */
  alpha: number;
  /** null when no example was run by both experiments. */
  passRate: ReportMeasure | null;
  /** Per feedback key scored on both sides. */
  scores: Record<string, ReportMeasure>;
  /** Examples only one side ran: left out of the statistics, listed (the first 50 ids) and counted. */
  unmatched: { baselineOnly: string[]; currentOnly: string[]; baselineOnlyCount: number; currentOnlyCount: number };
  /** How many tests had their own verdict: 2 trials or more in this run, and run by the baseline (optional). */
  testsCompared?: number;
  /** Of those, the tests whose own verdict is not "unchanged", with the measures that changed (optional). */
  tests?: ReportTestVerdict[];
}

/** One measure of one test that changed over its trials against the baseline's trials (two independent samples). */
export interface ReportTestMeasure {
  method: string;
  baseline: number;
  current: number;
  delta: number;
  /** 95 % interval of `delta`. */
  ci: ReportCi;
  p: number;
  /** `p` adjusted for the number of tests compared on this measure (Benjamini–Hochberg); the verdict reads it. */
  pAdjusted: number;
  verdict: ReportVerdict;
}

export interface ReportTestVerdict {
  exampleId: string;
  name: string;
  trials: number;
  baselineTrials: number;
  /** "regressed" when any measure regressed, else "improved". */
  verdict: ReportVerdict;
  /** The pass rate, when it changed; null when it did not. */
  passRate: ReportTestMeasure | null;
  /** The feedback keys that changed. */
  scores: Record<string, ReportTestMeasure>;
}

/** One test's change against the baseline: `key` is "pass" (1 → 0) or a feedback key. */
export interface ReportChange {
  test: string;
  file: string;
  /** The test's line in its file, where the runner knows it (Vitest). */
  line?: number;
  key: string;
  before: number;
  after: number;
}

export type ReportTestStatus = "passed" | "failed" | "skipped" | "pending";

export interface ReportTest {
  name: string;
  file: string;
  /** The test's line in its file, where the runner knows it (Vitest). */
  line?: number;
  status: ReportTestStatus;
  exampleId: string | null;
  runId: string | null;
  scores: Record<string, number>;
  /** The test's model calls through the cache; absent when it made none (or the cache was off). */
  cache?: CacheCounts;
  /** The tokens of the test's LLM spans; absent when none reported any (v2). */
  tokens?: ReportTokens;
  /** What they cost; null when a model has no price (v2). */
  costUsd?: number | null;
}

export interface ReportGate {
  name: string;
  ok: boolean;
  message: string;
}

/**
 * A light structural check (not the schema): enough to tell a Tally report from another JSON file, or
 * from a report of another version, before reading it.
 */
export function isTallyReport(value: unknown): value is TallyReport {
  if (!isRecord(value) || (value.version !== 1 && value.version !== 2)) return false;
  const { run, experiments, gates } = value;
  if (!isRecord(run) || typeof run.key !== "string" || typeof run.startedAt !== "string" || typeof run.endedAt !== "string") return false;
  if (!Array.isArray(gates) || !Array.isArray(experiments)) return false;
  return experiments.every(
    (e) =>
      isRecord(e) &&
      typeof e.name === "string" &&
      typeof e.dataset === "string" &&
      isRecord(e.delivered) &&
      isRecord(e.scores) &&
      Array.isArray(e.tests) &&
      Array.isArray(e.regressions) &&
      Array.isArray(e.improvements),
  );
}
