import type { FeedbackRecord, RunOp } from "../wire/types.js";

/** An example, as a worker knows it when it collects an `ls.test` (before any test runs). */
export interface ExampleHint {
  dataset: string;
  experiment: { name: string; id: string };
  inputs: Record<string, unknown>;
  referenceOutputs?: Record<string, unknown> | null;
  /** Hashes of the live values, taken in the worker: with the dataset id they make the example id. */
  inputsHash: string;
  outputsHash: string;
  /** A user-given example id (`ls.test(name, { id })`), used as is. */
  exampleId?: string;
  split?: string | string[] | null;
  metadata?: Record<string, unknown> | null;
}

/** A test's run and the example it belongs to; carried inside the run itself. */
export interface TestRegistration extends ExampleHint {
  /** The test's root run id; also the placeholder `reference_example_id` its runs carry. */
  runId: string;
  name: string;
  file?: string;
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
  | { t: "example"; example: ExampleHint }
  | { t: "test"; test: TestRegistration }
  | { t: "run"; op: RunOp }
  | { t: "feedback"; feedback: FeedbackRecord }
  | { t: "close"; close: ExperimentClose };

export type SpoolRecord = SpoolBody & { seq: number };
