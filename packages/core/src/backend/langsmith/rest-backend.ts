import { encodeExamplesMultipart, encodeRunsMultipart } from "../../wire/encode.js";
import { isUuid } from "../../wire/ids.js";
import type { ExampleRecord, FeedbackRecord, RunRecord } from "../../wire/types.js";
import {
  type Backend,
  BackendError,
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
} from "../port.js";
import { type DatasetShape, datasetInfo, withMetadataKeys } from "../dataset-info.js";
import { experimentInfo, newestFirst, type SessionShape } from "../experiment-info.js";
import { BodyEncoder, type EncodedBody, plainBody } from "./body-encoder.js";
import { createUpstream, jsonOf, toError, type Upstream } from "./http.js";
import { experimentUrl, webUrlFor } from "./web-url.js";

// The Backend port spoken as LangSmith's REST API (also what the embedded server answers, so the
// conformance suite runs this adapter against it). One call of the port is one or a few requests;
// retrying and ordering are the scheduler's, above the port.

export interface RestBackendConfig {
  apiUrl: string;
  apiKey?: string;
  workspaceId?: string;
  /** Per-request timeout. */
  timeoutMs?: number;
}

interface SessionRow extends SessionShape {
  tenant_id?: string;
  start_time?: string;
}

const PAGE = 100;
const BODY_FRAMING = new Set(["content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"]);

export class RestBackend implements Backend {
  readonly kind = "langsmith" as const;
  readonly label: string;
  readonly spoolKey: string;
  private readonly upstream: Upstream;
  private readonly encoder: BodyEncoder;
  private readonly webUrl: string;
  /** An older backend without `/runs/multipart`: JSON batches for the rest of the run. */
  private legacyIngest = false;
  private tenant: Promise<string> | undefined;

  constructor(cfg: RestBackendConfig) {
    this.upstream = createUpstream(cfg);
    this.label = this.upstream.apiUrl;
    this.spoolKey = this.upstream.apiUrl;
    this.webUrl = webUrlFor(this.upstream.apiUrl, false);
    this.encoder = new BodyEncoder(this.upstream);
    this.encoder.prefetch();
  }

  experimentUrl(exp: { tenantId: string; datasetId: string; id: string }): string {
    return experimentUrl(this.webUrl, exp.tenantId, exp.datasetId, exp.id);
  }

  async ensureDataset(name: string): Promise<DatasetRef> {
    const find = async () =>
      (await this.upstream.json<DatasetRef[]>("GET", `/datasets?name=${encodeURIComponent(name)}&limit=1`)).find((d) => d.name === name);
    const existing = await find();
    if (existing) return existing;
    try {
      return await this.upstream.json<DatasetRef>("POST", "/datasets", {
        name,
        description: "Dataset for tests, created by Tally",
        extra: { source: "sdk", metadata: { __ls_runner: "tally" } },
      });
    } catch (err) {
      // Somebody else (a shard, another tool) created it between our read and our write.
      if (err instanceof BackendError && err.status === 409) {
        const again = await find();
        if (again) return again;
      }
      throw err;
    }
  }

  async listDatasets(filter: { ids?: string[]; name?: string } = {}): Promise<DatasetInfo[]> {
    const byId = (filter.ids ?? []).map((id) => `&id=${encodeURIComponent(id)}`).join("");
    const byName = filter.name !== undefined ? `&name=${encodeURIComponent(filter.name)}` : "";
    // GET /datasets ANDs its filters: ids and a name are asked for separately, and either matches.
    const queries = byId && byName ? [byId, byName] : [byId + byName];
    const out = new Map<string, DatasetInfo>();
    for (const q of queries) {
      for (let offset = 0; ; offset += PAGE) {
        const page = await this.upstream.json<DatasetShape[]>("GET", `/datasets?limit=${PAGE}&offset=${offset}${q}`);
        for (const d of page) out.set(d.id, datasetInfo(d));
        if (page.length < PAGE) break;
      }
    }
    return [...out.values()];
  }

  // PATCH /datasets/:id replaces `metadata` whole: read it, set the keys, write it back.
  async updateDatasetMetadata(datasetId: string, set: Record<string, unknown>): Promise<DatasetInfo> {
    const current = datasetInfo(await this.upstream.json<DatasetShape>("GET", `/datasets/${datasetId}`));
    const metadata = withMetadataKeys(current.metadata, set);
    await this.sendJson("PATCH", `/datasets/${datasetId}`, { metadata });
    return { ...current, metadata };
  }

  async openExperiment(open: ExperimentOpen): Promise<OpenedExperiment> {
    const body = {
      id: open.id,
      name: open.name,
      description: open.description,
      reference_dataset_id: open.datasetId,
      extra: { metadata: open.metadata },
      start_time: open.startTime,
    };
    let session: SessionRow;
    try {
      // upsert: a shard that comes second gets the experiment the first one made.
      session = await this.upstream.json<SessionRow>("POST", "/sessions?upsert=true", body);
    } catch (err) {
      if (!(err instanceof BackendError) || err.status !== 409) throw err;
      const found = await this.upstream.json<SessionRow[]>("GET", `/sessions?name=${encodeURIComponent(open.name)}&limit=1`);
      if (!found[0]) throw err;
      session = found[0];
    }
    return {
      id: session.id,
      name: session.name,
      datasetId: open.datasetId,
      tenantId: session.tenant_id ?? (await this.tenantId()),
      startTime: session.start_time ?? open.startTime,
    };
  }

  async upsertExamples(datasetId: string, examples: ExampleRecord[]): Promise<{ asOf?: string }> {
    const path = `/v1/platform/datasets/${datasetId}/examples`;
    // Examples go uncompressed: LangSmith advertises compression for run ingest only.
    const res = await this.encoder.send("POST", path, examplesBody(examples));
    if (res.status === 409) return { asOf: await this.upsertExisting(path, examples) };
    if (!res.ok) throw await toError("POST", path, res);
    return { asOf: ((await res.json().catch(() => ({}))) as { as_of?: string }).as_of };
  }

  /** A backend that refuses to create existing ids: update those, create the rest. */
  private async upsertExisting(path: string, list: ExampleRecord[]): Promise<string | undefined> {
    const ids = list.map((e) => `id=${e.id}`).join("&");
    const existing = new Set(
      (await this.upstream.json<Array<{ id: string }>>("GET", `/examples?dataset=${list[0]!.dataset_id}&${ids}&limit=${list.length}`)).map(
        (e) => e.id,
      ),
    );
    let asOf: string | undefined;
    for (const [method, group] of [
      ["POST", list.filter((e) => !existing.has(e.id))],
      ["PATCH", list.filter((e) => existing.has(e.id))],
    ] as const) {
      if (group.length === 0) continue;
      const res = await this.encoder.send(method, path, examplesBody(group));
      if (!res.ok) throw await toError(method, path, res);
      asOf = ((await res.json().catch(() => ({}))) as { as_of?: string }).as_of ?? asOf;
    }
    return asOf;
  }

  async listExampleIds(datasetId: string): Promise<string[]> {
    const ids: string[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.upstream.json<Array<{ id: string }>>("GET", `/examples?dataset=${datasetId}&limit=${PAGE}&offset=${offset}`);
      ids.push(...page.map((e) => e.id));
      if (page.length < PAGE) return ids;
    }
  }

  async sendRuns(batch: RunsBatch): Promise<RunsDelivered> {
    if (!this.legacyIngest) {
      const res = await this.postMultipart(batch);
      if (res.ok) {
        await res.arrayBuffer();
        return { notes: [] };
      }
      if (res.status !== 404) throw await toError("POST", "/runs/multipart", res);
      await res.arrayBuffer();
      this.legacyIngest = true;
    }
    const notes: string[] = [];
    const dropped = batch.ops.flatMap((o) => (o.attachments ?? []).map((a) => `"${a.name}" of run ${o.run.id}`));
    if (dropped.length > 0) {
      // JSON batches have no place for bytes; say so rather than lose them silently.
      notes.push(`the backend has no /runs/multipart, so these attachments were not sent: ${dropped.join(", ")}`);
    }
    if (batch.ops.length > 0) {
      await this.sendJson("POST", "/runs/batch", {
        post: batch.ops.filter((o) => o.kind === "create").map((o) => o.run),
        patch: batch.ops.filter((o) => o.kind === "update").map((o) => o.run),
      });
    }
    await Promise.all(batch.feedback.map((f) => this.sendJson("POST", "/feedback", f)));
    return { notes };
  }

  /** One multipart body for the batch, compressed as /info allows; encoded once, kept on the batch. */
  private async postMultipart(batch: RunsBatch): Promise<Response> {
    const encode = () => this.encoder.encode(encodeRunsMultipart(batch.ops, batch.feedback));
    let wire = (batch.prepared as EncodedBody | undefined) ?? (await encode());
    batch.prepared = wire;
    let res = await this.encoder.send("POST", "/runs/multipart", wire);
    while (res.status === 415 && wire.encoding) {
      // Advertised but refused (a proxy in between that cannot decode it, say): the next choice
      // (zstd → gzip → plain) for this batch and the rest of the run.
      await res.arrayBuffer();
      this.encoder.refuse(wire.encoding);
      batch.prepared = wire = await encode();
      res = await this.encoder.send("POST", "/runs/multipart", wire);
    }
    return res;
  }

  async closeExperiment(close: ExperimentClose): Promise<void> {
    await Promise.all([
      this.sendJson("PATCH", `/sessions/${close.id}`, {
        name: null,
        description: null,
        end_time: close.endTime,
        extra: { metadata: { ...close.metadata, dataset_version: close.datasetVersion } },
      }),
      close.gitCommit &&
        this.sendJson("PUT", `/datasets/${close.datasetId}/tags`, { as_of: close.datasetVersion, tag: `git:commit:${close.gitCommit}` }),
    ]);
  }

  async listExperiments(datasetId: string): Promise<ExperimentInfo[]> {
    const out: ExperimentInfo[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.upstream.json<SessionRow[]>("GET", `/sessions?reference_dataset=${datasetId}&limit=${PAGE}&offset=${offset}`);
      out.push(...page.map(experimentInfo));
      if (page.length < PAGE) break;
    }
    return out.sort(newestFirst);
  }

  async findExperiments(nameOrId: string): Promise<ExperimentInfo[]> {
    const q = `/sessions?reference_free=false&limit=${PAGE}`;
    const [byName, byId] = await Promise.all([
      this.upstream.json<SessionRow[]>("GET", `${q}&name=${encodeURIComponent(nameOrId)}`),
      isUuid(nameOrId) ? this.upstream.json<SessionRow[]>("GET", `${q}&id=${nameOrId}`) : [],
    ]);
    const found = new Map<string, ExperimentInfo>();
    for (const s of [...byName, ...byId])
      if (s.reference_dataset_id && (s.name === nameOrId || s.id === nameOrId)) found.set(s.id, experimentInfo(s));
    return [...found.values()].sort(newestFirst);
  }

  async readExperiment(experimentId: string, opts: { rootsOnly?: boolean } = {}): Promise<ExperimentRecords> {
    const [session, runs, feedback] = await Promise.all([
      this.upstream.json<SessionRow>("GET", `/sessions/${experimentId}?include_stats=false`),
      this.readRuns(experimentId, !!opts.rootsOnly),
      this.readFeedback(experimentId),
    ]);
    return { experiment: experimentInfo(session), runs, feedback };
  }

  private async readRuns(session: string, rootsOnly: boolean): Promise<RunRecord[]> {
    const runs: RunRecord[] = [];
    let cursor: string | null = null;
    do {
      const page: { runs: RunRecord[]; cursors?: { next?: string | null } } = await this.upstream.json("POST", "/runs/query", {
        session: [session],
        limit: PAGE,
        ...(rootsOnly ? { is_root: true } : {}),
        ...(cursor ? { cursor } : {}),
      });
      runs.push(...page.runs);
      cursor = page.cursors?.next ?? null;
    } while (cursor);
    return runs;
  }

  private async readFeedback(session: string): Promise<FeedbackRecord[]> {
    const out: FeedbackRecord[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.upstream.json<FeedbackRecord[]>("GET", `/feedback?session=${session}&limit=${PAGE}&offset=${offset}`);
      out.push(...page);
      if (page.length < PAGE) return out;
    }
  }

  async forward(req: ForwardRequest): Promise<ForwardReply> {
    const res = await this.upstream.request(req.method, req.path, req.body, req.headers);
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      // fetch has already decoded the body, so its length and encoding no longer describe it.
      if (!BODY_FRAMING.has(k)) headers[k] = v;
    });
    return { status: res.status, headers, body: new Uint8Array(await res.arrayBuffer()) };
  }

  wireStats(): WireStats {
    return this.encoder.stats();
  }

  async close(): Promise<void> {}

  private tenantId(): Promise<string> {
    this.tenant ??= this.upstream.json<SessionRow[]>("GET", "/sessions?limit=1&offset=0").then(
      (rows) => rows[0]?.tenant_id ?? "-",
      (err: unknown) => {
        this.tenant = undefined;
        throw err;
      },
    );
    return this.tenant;
  }

  /** A JSON request with a body, counted like every other body sent. */
  private async sendJson<T>(method: string, path: string, value: unknown): Promise<T> {
    return jsonOf<T>(method, path, await this.encoder.send(method, path, plainBody(JSON.stringify(value), "application/json")));
  }
}

function examplesBody(list: ExampleRecord[]): EncodedBody {
  const { body, contentType } = encodeExamplesMultipart(list);
  return plainBody(body, contentType);
}
