// The local backend: the Backend port of @tally/core answered by the embedded store in this very
// process. Each call goes straight to the repositories (no HTTP, no loopback server) and means what
// the same call means through the LangSmith REST adapter against this package's server: the comments
// name the route each one stands for, and the conformance suite (test/backend/) holds both to it.
import { join } from "node:path";
import {
  type Backend,
  BackendError,
  DEFAULT_PORTS,
  datasetInfo,
  experimentInfo,
  newestFirst,
  withMetadataKeys,
  type DatasetInfo,
  type DatasetRef,
  type ExperimentClose,
  type ExperimentInfo,
  type ExperimentOpen,
  type ExperimentRecords,
  type ForwardReply,
  type ForwardRequest,
  type OpenedExperiment,
  type RunsBatch,
  type RunsDelivered,
  type WireStats,
} from "@tally/core";
import { HttpError } from "@tally/core/http";
import {
  BodyError,
  type ExampleRecord,
  ExamplePayloadError,
  type FeedbackRecord,
  MultipartError,
  RUN_PAYLOAD_FIELDS,
  type RunAttachment,
  type RunOp,
  RunPayloadError,
  type RunRecord,
  exampleUploadFromJson,
  isUuid,
  normalizeFeedback,
  normalizeRun,
} from "@tally/core/wire";
import { StoreError } from "./db/db.js";
import { Store } from "./db/store.js";
import { type ServerApp, createServerApp } from "./server/app.js";

/** Where `tally ui` serves the store, and so where its experiment links point. */
const WEB_URL = `http://localhost:${DEFAULT_PORTS.ui}`;

/** What the store is created with, as POST /datasets from the REST adapter creates it. */
const NEW_DATASET = { description: "Dataset for tests, created by Tally", extra: { source: "sdk", metadata: { __ls_runner: "tally" } } };

/** HTTP statuses the REST adapter retries: the same answer from the store is transient here too. */
const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

/** SQLite result codes that say "try again": BUSY, LOCKED, IOERR, FULL (the primary code is the low byte). */
const TRANSIENT_SQLITE = new Set([5, 6, 10, 13]);

/** Opens `<dir>/tally.db` (creating it and the folder) as a Backend. */
export async function openLocalBackend(dir: string): Promise<Backend> {
  const path = join(dir, "tally.db");
  return new LocalBackend(new Store(path), path);
}

export class LocalBackend implements Backend {
  readonly kind = "local" as const;
  readonly label: string;
  readonly spoolKey = "local";
  private app: ServerApp | undefined;

  constructor(
    private readonly store: Store,
    path: string = store.path,
  ) {
    this.label = `local store ${path}`;
  }

  experimentUrl(exp: { tenantId: string; datasetId: string; id: string }): string {
    return `${WEB_URL}/o/${exp.tenantId}/datasets/${exp.datasetId}/compare?selectedSessions=${exp.id}`;
  }

  // GET /datasets?name=…, else POST /datasets (a 409 means another caller made it: read it again).
  async ensureDataset(name: string): Promise<DatasetRef> {
    return this.call("ensureDataset", () => {
      const find = () => this.store.datasets.list({ name, limit: 1 }).find((d) => d.name === name);
      const existing = find();
      if (existing) return { id: existing.id, name: existing.name };
      try {
        const created = this.store.datasets.create(plain({ name, ...NEW_DATASET }));
        return { id: created.id, name: created.name };
      } catch (err) {
        const again = err instanceof StoreError && err.status === 409 ? find() : undefined;
        if (again) return { id: again.id, name: again.name };
        throw err;
      }
    });
  }

  // GET /datasets?id=…&name=…, every page (ids and the name asked for separately: either matches).
  async listDatasets(filter: { ids?: string[]; name?: string } = {}): Promise<DatasetInfo[]> {
    return this.call("listDatasets", () => {
      const all = { limit: Number.MAX_SAFE_INTEGER };
      const ids = filter.ids?.length ? filter.ids : undefined;
      const lists =
        ids || filter.name !== undefined
          ? [
              ids ? this.store.datasets.list({ ...all, ids }) : [],
              filter.name !== undefined ? this.store.datasets.list({ ...all, name: filter.name }) : [],
            ]
          : [this.store.datasets.list(all)];
      const out = new Map<string, DatasetInfo>();
      for (const d of lists.flat()) out.set(d.id, datasetInfo(d));
      return [...out.values()];
    });
  }

  // GET /datasets/:id, then PATCH /datasets/:id {metadata} (which replaces it whole).
  async updateDatasetMetadata(datasetId: string, set: Record<string, unknown>): Promise<DatasetInfo> {
    return this.call("updateDatasetMetadata", () => {
      const current = this.store.datasets.get(datasetId);
      if (!current) throw new HttpError(404, "Dataset not found");
      const metadata = withMetadataKeys(datasetInfo(current).metadata, plain(set));
      return datasetInfo(this.store.datasets.update(datasetId, { metadata }));
    });
  }

  // POST /sessions?upsert=true: a shard that comes second gets the experiment the first one made.
  async openExperiment(open: ExperimentOpen): Promise<OpenedExperiment> {
    return this.call("openExperiment", () => {
      const body = plain({
        id: open.id,
        name: open.name,
        description: open.description,
        reference_dataset_id: open.datasetId,
        extra: { metadata: open.metadata },
        start_time: open.startTime,
      });
      const { session } = this.store.sessions.create(body, { upsert: true });
      return {
        id: session.id,
        name: session.name,
        datasetId: open.datasetId,
        tenantId: session.tenant_id,
        startTime: session.start_time ?? open.startTime,
      };
    });
  }

  // POST /v1/platform/datasets/:id/examples (multipart): the URL's dataset, 404 when it is not here.
  async upsertExamples(datasetId: string, examples: ExampleRecord[]): Promise<{ asOf?: string }> {
    return this.call("upsertExamples", () => {
      if (!this.store.datasets.get(datasetId)) throw new HttpError(404, "Dataset not found");
      const written = this.store.examples.upsert(asUploaded(examples).map((e) => exampleUploadFromJson(e, datasetId)));
      return { asOf: written.as_of };
    });
  }

  // GET /examples?dataset=…, every page.
  async listExampleIds(datasetId: string): Promise<string[]> {
    return this.call("listExampleIds", () => this.store.examples.idsOf(datasetId));
  }

  // POST /runs/multipart: runs, their attachments and feedback in one transaction.
  async sendRuns(batch: RunsBatch): Promise<RunsDelivered> {
    return this.call("sendRuns", () => {
      const { ops, attachments } = asIngested(batch.ops);
      const feedback = batch.feedback.map((f) => normalizeFeedback(f, f.id));
      this.store.runs.ingest(ops, attachments, feedback);
      return { notes: [] };
    });
  }

  // PATCH /sessions/:id and PUT /datasets/:id/tags, both tried (the REST adapter sends them at once).
  async closeExperiment(close: ExperimentClose): Promise<void> {
    const patch = () =>
      this.call("closeExperiment", () => {
        this.store.sessions.update(
          close.id,
          plain({
            name: null,
            description: null,
            end_time: close.endTime,
            extra: { metadata: { ...close.metadata, dataset_version: close.datasetVersion } },
          }),
        );
      });
    const tag = () =>
      this.call("closeExperiment", () => {
        if (close.gitCommit) this.store.datasets.setTag(close.datasetId, `git:commit:${close.gitCommit}`, close.datasetVersion);
      });
    const results = await Promise.allSettled([patch(), tag()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  // GET /sessions?reference_dataset=…, every page, newest first.
  async listExperiments(datasetId: string): Promise<ExperimentInfo[]> {
    return this.call("listExperiments", () =>
      this.store.sessions
        .list({ referenceDatasets: [datasetId], limit: Number.MAX_SAFE_INTEGER })
        .map(experimentInfo)
        .sort(newestFirst),
    );
  }

  // GET /sessions?reference_free=false&name=… and …&id=…
  async findExperiments(nameOrId: string): Promise<ExperimentInfo[]> {
    return this.call("findExperiments", () => {
      const q = { referenceFree: false, limit: 100 };
      const found = [
        ...this.store.sessions.list({ ...q, name: nameOrId }),
        ...(isUuid(nameOrId) ? this.store.sessions.list({ ...q, ids: [nameOrId] }) : []),
      ];
      return [...new Map(found.map((s) => [s.id, experimentInfo(s)])).values()].sort(newestFirst);
    });
  }

  // GET /sessions/:id, POST /runs/query {session} and GET /feedback?session=…, every page.
  async readExperiment(experimentId: string, opts: { rootsOnly?: boolean } = {}): Promise<ExperimentRecords> {
    return this.call("readExperiment", () => {
      const session = this.store.sessions.get(experimentId, false);
      if (!session) throw new HttpError(404, "Session not found");
      const runs: RunRecord[] = [];
      let cursor: string | null = null;
      do {
        const page = this.store.runs.query({
          session: [experimentId],
          limit: 1000,
          ...(opts.rootsOnly ? { is_root: true } : {}),
          ...(cursor ? { cursor } : {}),
        });
        runs.push(...(page.runs as RunRecord[]));
        cursor = page.cursors.next;
      } while (cursor);
      const feedback = this.store.feedback.list({ sessions: [experimentId], limit: Number.MAX_SAFE_INTEGER }) as FeedbackRecord[];
      return { experiment: experimentInfo(session), runs, feedback };
    });
  }

  /** A worker's own request, answered by the LangSmith-compatible server's routes in this process. */
  async forward(req: ForwardRequest): Promise<ForwardReply> {
    // Nothing is compressed in-process: the server advertises no encoding (it still decodes any).
    this.app ??= createServerApp(this.store, { gzip: false, zstd: false });
    const url = new URL(req.path, "http://local");
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
    const body = Buffer.from(req.body ?? new Uint8Array());
    const res = await this.app.handle({
      method: req.method.toUpperCase(),
      path: url.pathname,
      query: url.searchParams,
      search: url.search,
      headers,
      body: async () => body,
    });
    return { status: res.status, headers: res.headers, body: new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.byteLength) };
  }

  wireStats(): WireStats {
    return { requests: 0, rawBytes: 0, wireBytes: 0, byEncoding: {} };
  }

  async close(): Promise<void> {
    this.store.close();
  }

  /** Runs one call against the store; whatever it throws comes out as a BackendError. */
  private async call<T>(what: string, fn: () => T): Promise<T> {
    if (!this.store.isOpen) throw new BackendError(`${what}: ${this.label} is closed`, undefined, undefined, false);
    try {
      return fn();
    } catch (err) {
      throw toBackendError(what, err);
    }
  }
}

/**
 * The status the server would answer for `err`, and whether that is worth retrying (as the REST
 * adapter decides from the status). SQLite saying "busy" or "locked" (another process holds the
 * write lock past the busy timeout) is transient; a refusal of the data never is.
 */
function toBackendError(what: string, err: unknown): BackendError {
  if (err instanceof BackendError) return err;
  let status: number | undefined;
  if (err instanceof HttpError || err instanceof BodyError || err instanceof StoreError) status = err.status;
  else if (err instanceof RunPayloadError || err instanceof ExamplePayloadError || err instanceof MultipartError) status = 422;
  const message = err instanceof Error ? err.message : String(err);
  if (status !== undefined)
    return new BackendError(`${what}: the local store answered ${status}: ${message}`, status, undefined, RETRYABLE.has(status));
  const sqlite = sqliteCode(err);
  if (sqlite !== undefined && TRANSIENT_SQLITE.has(sqlite & 0xff)) {
    return new BackendError(`${what}: the local store is busy: ${message}`, 503, undefined, true);
  }
  // Anything else is what the server would answer 500 for, which the REST adapter retries.
  return new BackendError(`${what}: the local store failed: ${message}`, 500, undefined, true);
}

function sqliteCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; errcode?: unknown } | null;
  return e && e.code === "ERR_SQLITE_ERROR" && typeof e.errcode === "number" ? e.errcode : undefined;
}

/** A value as it arrives after a trip through JSON: what the server's routes would have stored. */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/**
 * Examples as the multipart upload carries them: one group per id (a later copy of an id overrides
 * the earlier one's fields, in the first one's place), `outputs`, `metadata` and `split` only when
 * set, inputs `{}` when missing. The dataset comes from the call, not the record.
 */
function asUploaded(examples: ExampleRecord[]): Record<string, unknown>[] {
  const byId = new Map<string, Record<string, unknown>>();
  for (const ex of examples) {
    const fields = plain({
      id: ex.id,
      created_at: ex.created_at,
      ...(ex.metadata ? { metadata: ex.metadata } : {}),
      ...(ex.split ? { split: ex.split } : {}),
      inputs: ex.inputs,
      ...(ex.outputs ? { outputs: ex.outputs } : {}),
    }) as Record<string, unknown>;
    const prev = byId.get(ex.id);
    byId.set(ex.id, prev ? { ...prev, ...fields } : fields);
  }
  return [...byId.values()].map((e) => ({ ...e, inputs: e.inputs ?? {} }));
}

/**
 * Run ops as /runs/multipart parses them: validated (ids are uuids) and one op per
 * create or update of an id (a later part of the same op overrides the earlier one's fields, as
 * later parts of a body do); attachments travel beside the ops as bytes. Runs and feedback need no
 * trip through JSON here: what reaches the port was parsed from JSON (by the collector, or from the
 * spool), and the normalizers copy what they change.
 */
function asIngested(batch: RunOp[]): { ops: RunOp[]; attachments: RunAttachment[] } {
  const byKey = new Map<string, RunOp>();
  const ops: RunOp[] = [];
  const attachments: RunAttachment[] = [];
  for (const op of batch) {
    const run = normalizeRun(op.run, op.run?.id);
    const key = `${op.kind}.${run.id}`;
    const prev = byKey.get(key);
    if (prev) {
      // A second main part keeps the fields the first brought in their own parts, unless it has them too.
      const kept: Record<string, unknown> = {};
      for (const f of RUN_PAYLOAD_FIELDS) if (prev.run[f] !== undefined) kept[f] = prev.run[f];
      prev.run = { ...kept, ...run };
    } else {
      const next: RunOp = { kind: op.kind, run };
      byKey.set(key, next);
      ops.push(next);
    }
    for (const a of op.attachments ?? []) {
      attachments.push({ runId: run.id, name: a.name, contentType: a.contentType, data: Buffer.from(a.data, "base64") });
    }
  }
  return { ops, attachments };
}
