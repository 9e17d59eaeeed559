import type { ExampleRecord, FeedbackRecord, RunOp, RunRecord } from "../wire/types.js";

// The one way the main process reaches where a run's data ends up: LangSmith over its REST API, or
// the embedded store in this very process. Everything above this port (the registry, the delivery
// scheduler, `tally flush`, baselines) is written against it and never sees a URL path; everything
// below it speaks one backend's protocol. Both adapters pass the same conformance suite
// (test/backend/conformance.ts).

export interface DatasetRef {
  id: string;
  name: string;
}

/** A dataset with its metadata (where Tally keeps the approved baseline: compare/approved-baseline.ts). */
export interface DatasetInfo {
  id: string;
  name: string;
  metadata: Record<string, unknown>;
}

export interface ExperimentOpen {
  /** Deterministic per dataset and run: shards and `tally flush` name the same experiment. */
  id: string;
  name: string;
  datasetId: string;
  description: string;
  metadata: Record<string, unknown>;
  startTime: string;
}

export interface OpenedExperiment {
  /** The backend's id: the one asked for, or that of an experiment another shard opened first. */
  id: string;
  name: string;
  datasetId: string;
  tenantId: string;
  startTime: string;
}

export interface ExperimentClose {
  id: string;
  datasetId: string;
  endTime: string;
  metadata: Record<string, unknown>;
  /** The dataset version the experiment ran against (the last example write's `as_of`). */
  datasetVersion: string;
  /** Tags that version `git:commit:<sha>` when set. */
  gitCommit?: string;
}

export interface ExperimentInfo {
  id: string;
  name: string;
  datasetId: string;
  startTime: string;
  endTime?: string;
  metadata: Record<string, unknown>;
}

/** What an experiment holds, for baselines and comparisons. */
export interface ExperimentRecords {
  experiment: ExperimentInfo;
  /** Every run of the experiment (roots and their spans). */
  runs: RunRecord[];
  feedback: FeedbackRecord[];
}

/**
 * Runs and feedback sent together. `prepared` belongs to the adapter: it keeps its encoded form of
 * the batch there, so a retry sends exactly the same bytes instead of encoding again.
 */
export interface RunsBatch {
  ops: RunOp[];
  feedback: FeedbackRecord[];
  prepared?: unknown;
}

export interface RunsDelivered {
  /** Things the backend could not take but that did not fail the batch (said once in the report). */
  notes: string[];
}

/** Request bodies put on the wire, before and after compression (zero for the in-process store). */
export interface WireStats {
  requests: number;
  rawBytes: number;
  wireBytes: number;
  /** Requests by Content-Encoding ("identity" for none). */
  byEncoding: Record<string, number>;
}

/** A request a worker's langsmith client makes that Tally does not handle itself. */
export interface ForwardRequest {
  method: string;
  /** Path and query, as the client sent them. */
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

export interface ForwardReply {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

export interface Backend {
  readonly kind: "langsmith" | "local";
  /** For messages: the store's file or the endpoint. Never a key. */
  readonly label: string;
  /** Which backend a spool belongs to ("local" or the API URL), so a later run sends it back there. */
  readonly spoolKey: string;
  /** Where a person looks at an experiment. */
  experimentUrl(exp: { tenantId: string; datasetId: string; id: string }): string;

  /** The dataset named `name`, created when missing; concurrent callers converge on one. */
  ensureDataset(name: string): Promise<DatasetRef>;
  /** The datasets with these ids or this name (either matches), or every dataset without a filter. */
  listDatasets(filter?: { ids?: string[]; name?: string }): Promise<DatasetInfo[]>;
  /**
   * Sets these keys of the dataset's metadata, keeping the others (`null` clears one), and returns
   * the dataset as it is now. A 404 BackendError when the dataset does not exist.
   */
  updateDatasetMetadata(datasetId: string, set: Record<string, unknown>): Promise<DatasetInfo>;
  /** Creates the experiment, or returns the one with its name another shard already opened. */
  openExperiment(open: ExperimentOpen): Promise<OpenedExperiment>;
  /** Creates or updates examples by id; returns the dataset version the write made. */
  upsertExamples(datasetId: string, examples: ExampleRecord[]): Promise<{ asOf?: string }>;
  /** The ids of every example the dataset has now. */
  listExampleIds(datasetId: string): Promise<string[]>;
  sendRuns(batch: RunsBatch): Promise<RunsDelivered>;
  closeExperiment(close: ExperimentClose): Promise<void>;
  /** The dataset's experiments, newest first. */
  listExperiments(datasetId: string): Promise<ExperimentInfo[]>;
  /** The experiments (of any dataset) named `nameOrId` or with that id; tracing projects are not experiments. */
  findExperiments(nameOrId: string): Promise<ExperimentInfo[]>;
  /**
   * An experiment's runs and feedback (all pages). `rootsOnly`: only the root runs (one per test,
   * what a comparison needs), a fifth of the bytes of a traced suite.
   */
  readExperiment(experimentId: string, opts?: { rootsOnly?: boolean }): Promise<ExperimentRecords>;

  /** Answers a worker's request that is not Tally's own (reads, `/info`, dataset calls). */
  forward(req: ForwardRequest): Promise<ForwardReply>;
  wireStats(): WireStats;
  close(): Promise<void>;
}

/**
 * A backend call that failed. `retryable` failures (timeouts, 5xx, 429, unreachable) are tried again
 * by the scheduler after `retryAfterMs` when the backend said so; the others are refusals of this
 * very record. Messages never carry a key.
 */
export class BackendError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retryAfterMs: number | undefined,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = "BackendError";
  }
}

/** How a run reaches its local backend: the runner packages hand core a way to open the store. */
export type OpenLocalBackend = (dir: string) => Promise<Backend>;
