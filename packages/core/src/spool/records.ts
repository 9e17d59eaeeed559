import type { ExampleHint, TestRegistration } from "../protocol/examples.js";
import type { FeedbackRecord, RunOp } from "../wire/types.js";

// What the spool holds: one record per line, in the order the collector received them.

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
