// The run's JSON report, version 1: what `reportFile` writes and `tally report merge` reads. Its JSON
// Schema ships in the package (schema/report.v1.json, export "@tally/core/schema/report.v1.json");
// this type mirrors it, and a test validates reports against it. A change of shape is a new version.
import { isRecord } from "../wire/json-object.js";
import type { CacheCounts } from "../protocol/tracked-test.js";

export interface TallyReportV1 {
  version: 1;
  run: ReportRun;
  experiments: ReportExperiment[];
  /** Every gate judged, per experiment, passing or not. */
  gates: ReportGate[];
}

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
  /** Passed over passed and failed tests; null when none ran. */
  passRate: number | null;
  /** Mean per feedback key over the tests that have it (`pass` is the pass rate). */
  scores: Record<string, ReportScore>;
  baseline: ReportBaseline | null;
  regressions: ReportChange[];
  improvements: ReportChange[];
  tests: ReportTest[];
  /** The model-call cache over the experiment's tests; absent when the cache was off. */
  cache?: CacheCounts;
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

export interface ReportMissing {
  test: string;
  file: string;
  reason: string;
}

export interface ReportScore {
  mean: number;
  count: number;
}

export interface ReportBaseline {
  name: string;
  id: string;
  url: string | null;
  /** The baseline's pass rate, for Δ (optional). */
  passRate?: number | null;
  /** The baseline's mean per key over the examples both experiments ran, for Δ (optional). */
  scores?: Record<string, number>;
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
export function isTallyReport(value: unknown): value is TallyReportV1 {
  if (!isRecord(value) || value.version !== 1) return false;
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
