// The JSON-safe records that travel between a worker's langsmith client, the collector, the spool,
// the upstream sender and a LangSmith-compatible backend. Field names follow LangSmith's REST API.

/** A run as the SDK sends it: a create (`post`) or a partial update (`patch`). */
export interface RunRecord {
  id: string;
  trace_id?: string;
  dotted_order?: string;
  parent_run_id?: string | null;
  name?: string;
  run_type?: string;
  start_time?: string | number;
  end_time?: string | number | null;
  session_name?: string;
  session_id?: string;
  reference_example_id?: string | null;
  inputs?: unknown;
  outputs?: unknown;
  error?: unknown;
  extra?: Record<string, unknown> | null;
  events?: unknown;
  serialized?: unknown;
  tags?: string[] | null;
  [key: string]: unknown;
}

/**
 * A run create or update. `attachments` are the binary files that came with it in `/runs/multipart`
 * (base64 in the spool, which is JSON lines); they go upstream in the same multipart body as the op.
 */
export type RunOp = { kind: "create" | "update"; run: RunRecord; attachments?: SpooledAttachment[] };

export interface SpooledAttachment {
  name: string;
  contentType: string;
  /** The bytes, base64. */
  data: string;
}

export interface FeedbackRecord {
  id: string;
  run_id?: string | null;
  trace_id?: string | null;
  key: string;
  score?: number | boolean | null;
  value?: unknown;
  comment?: string | null;
  correction?: unknown;
  feedback_source?: { type?: string; metadata?: Record<string, unknown> } | null;
  session_id?: string | null;
  start_time?: string | null;
  [key: string]: unknown;
}

export interface ExampleRecord {
  id: string;
  dataset_id: string;
  inputs: Record<string, unknown>;
  outputs?: Record<string, unknown> | null;
  metadata?: Record<string, unknown> | null;
  split?: string | string[] | null;
  created_at?: string;
}
