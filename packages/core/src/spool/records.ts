import type { FeedbackRecord, RunOp } from "../wire/types.js";

/** What a worker tells the collector when an `ls.test` starts: enough to make its example. */
export interface TestRegistration {
  /** The test's root run id; also the placeholder `reference_example_id` its runs carry. */
  runId: string;
  dataset: string;
  experiment: { name: string; id: string };
  name: string;
  file?: string;
  inputs: Record<string, unknown>;
  referenceOutputs?: Record<string, unknown> | null;
  inputsHash: string;
  outputsHash: string;
  /** A user-given example id (`ls.test(name, { id })`), used as is. */
  exampleId?: string;
  split?: string | string[] | null;
  metadata?: Record<string, unknown> | null;
}

/** The experiments a run opened, closed once at the end with their final metadata. */
export interface ExperimentClose {
  dataset: string;
  experiment: { name: string; id: string };
  endTime: string;
  metadata: Record<string, unknown>;
  gitCommit?: string;
}

export type SpoolBody =
  | { t: "test"; test: TestRegistration }
  | { t: "run"; op: RunOp }
  | { t: "feedback"; feedback: FeedbackRecord }
  | { t: "close"; close: ExperimentClose };

export type SpoolRecord = SpoolBody & { seq: number };
