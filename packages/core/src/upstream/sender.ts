import type { Ledger } from "../ledger/ledger.js";
import type { ExperimentRegistry, ResolvedExperiment } from "../registry/registry.js";
import type { Spool } from "../spool/spool.js";
import type { ExampleHint, TestRegistration } from "../protocol/examples.js";
import type { ExperimentClose, SpoolRecord } from "../spool/records.js";
import { exampleId } from "../identity/experiment.js";
import { encodeExamplesMultipart, encodeRunsMultipart } from "../wire/encode.js";
import type { ExampleRecord, FeedbackRecord, RunOp } from "../wire/types.js";
import { BodyEncoder, plainBody, type EncodedBody, type WireStats } from "./body-encoder.js";
import { backoffMs, jsonOf, toError, UpstreamError, type Upstream } from "./http.js";

// Write-behind: sends what the spool holds to the backend, in dependency order (dataset and
// experiment, then examples, then the runs and feedback that reference them, then the close),
// several batches at a time, retrying until told to stop. Workers never wait for any of it.

export interface SenderOptions {
  spool: Spool;
  upstream: Upstream;
  registry: ExperimentRegistry;
  ledger: Ledger;
  concurrency?: number;
  maxBatchOps?: number;
  maxBatchBytes?: number;
}

type RunsBatch = { kind: "runs"; recs: SpoolRecord[]; /** Set once encoded; a retry resends it. */ wire?: EncodedBody };
type Batch = { kind: "examples"; dataset: string; recs: SpoolRecord[] } | RunsBatch | { kind: "close"; recs: SpoolRecord[] };

export interface SenderProgress {
  pending: number;
  sent: number;
  rejected: number;
  lastError?: string;
  /** Request bodies sent so far, before and after compression. */
  wire: WireStats;
}

export class Sender {
  private queue: SpoolRecord[] = [];
  private readonly inflight = new Set<number>();
  private readonly tests = new Map<string, TestRegistration>();
  /** experiment name / placeholder id → dataset, for runs and feedback that must wait on it. */
  private readonly experimentByName = new Map<string, string>();
  private readonly experimentById = new Map<string, string>();
  private readonly experimentOfDataset = new Map<string, { name: string; id: string }>();
  private readonly exampleOf = new Map<string, string>();
  /** `<dataset id>/<example id>` → example id, for examples the backend has; and those on their way. */
  private readonly uploaded = new Map<string, string>();
  private readonly uploading = new Set<string>();
  private readonly datasetVersion = new Map<string, string>();
  private legacyIngest = false;
  private loops = 0;
  private retryAt = 0;
  private sent = 0;
  private rejected = 0;
  private lastError: string | undefined;
  private stopped = false;
  private wakers: Array<() => void> = [];
  private readonly encoder: BodyEncoder;
  /** Run batches that failed on the way, to be resent as they are (same records, same bytes). */
  private readonly retries: RunsBatch[] = [];
  /** Records of those batches, which no other batch may take meanwhile. */
  private readonly held = new Set<number>();
  private readonly opts: Required<Omit<SenderOptions, "spool" | "upstream" | "registry" | "ledger">> & SenderOptions;

  constructor(opts: SenderOptions) {
    this.opts = { concurrency: 8, maxBatchOps: 200, maxBatchBytes: 16 * 1024 * 1024, ...opts };
    this.encoder = new BodyEncoder(opts.upstream);
    this.encoder.prefetch();
  }

  push(recs: SpoolRecord[]): void {
    for (const r of recs) {
      if (r.t === "test") this.noteTest(r.test);
      this.queue.push(r);
    }
    this.kick();
  }

  progress(): SenderProgress {
    return {
      // Records in flight stay in the queue until the backend has them: counted once.
      pending: this.queue.length,
      sent: this.sent,
      rejected: this.rejected,
      lastError: this.lastError,
      wire: this.encoder.stats(),
    };
  }

  /**
   * Resolves once nothing is left to send, or at `deadline`, or once sending has failed for
   * `stallMs` without any record getting through (a backend that is down); the rest stays in the spool.
   */
  async drain(deadline: number, onTick?: (p: SenderProgress) => void, stallMs = Infinity): Promise<SenderProgress> {
    this.kick();
    let progressAt = Date.now();
    let done = this.sent + this.rejected;
    while (this.queue.length > 0 && Date.now() < deadline) {
      if (this.sent + this.rejected !== done) {
        done = this.sent + this.rejected;
        progressAt = Date.now();
      }
      if (this.lastError !== undefined && Date.now() - progressAt >= stallMs) break;
      // Woken when a batch finishes or a dependency resolves, or every 250 ms to report and retry.
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => {
        this.wakers.push(r);
        timer = setTimeout(r, Math.min(250, Math.max(0, deadline - Date.now())));
      });
      // A pending tick would keep the process (and so the test runner) alive after the run.
      clearTimeout(timer);
      onTick?.(this.progress());
      this.kick();
    }
    return this.progress();
  }

  private wake(): void {
    for (const w of this.wakers.splice(0)) w();
  }

  /** Stops sending; the rest stays in the spool. Pending backoff sleeps end now, not at their timer. */
  stop(): void {
    this.stopped = true;
    for (const cancel of this.sleeps) cancel();
  }

  private readonly sleeps = new Set<() => void>();

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleeps.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleeps.add(done);
    });
  }

  private noteTest(t: TestRegistration): void {
    this.tests.set(t.runId, t);
    this.experimentByName.set(t.experiment.name, t.dataset);
    this.experimentById.set(t.experiment.id, t.dataset);
    this.experimentOfDataset.set(t.dataset, t.experiment);
  }

  private kick(): void {
    if (this.stopped) return;
    while (this.loops < this.opts.concurrency!) {
      this.loops++;
      void this.loop().finally(() => {
        this.loops--;
      });
      if (this.queue.length <= this.opts.maxBatchOps! * this.loops) break;
    }
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const wait = this.retryAt - Date.now();
      if (wait > 0) await this.pause(wait);
      if (this.stopped) return;
      const batch = this.take();
      if (!batch) return;
      for (const r of batch.recs) this.inflight.add(r.seq);
      try {
        await this.sendOrSplit(batch);
      } finally {
        for (const r of batch.recs) this.inflight.delete(r.seq);
        // Only now is the batch's outcome visible to drain().
        this.wake();
      }
    }
  }

  private async sendOrSplit(batch: Batch): Promise<void> {
    try {
      await this.send(batch);
      this.finish(batch.recs);
      return;
    } catch (err) {
      this.lastError = (err as Error).message;
      if (!isPermanent(err)) {
        this.retryAt = Date.now() + backoffMs(1, (err as UpstreamError).retryAfterMs);
        if (batch.kind === "runs" && batch.wire) this.holdForRetry(batch);
        return;
      }
      if (batch.recs.length === 1) return this.reject(batch.recs[0]!, (err as Error).message);
    }
    // The backend refuses something in this batch for good: send the records one by one, so that
    // one bad run does not take its neighbours down with it.
    for (const rec of batch.recs) await this.sendOrSplit(single(batch, rec));
  }

  /** Compressing is done once per batch: a batch that failed is resent whole, with its bytes. */
  private holdForRetry(batch: RunsBatch): void {
    for (const r of batch.recs) this.held.add(r.seq);
    this.retries.push(batch);
  }

  private finish(recs: SpoolRecord[]): void {
    const done = new Set(recs.map((r) => r.seq));
    this.queue = this.queue.filter((r) => !done.has(r.seq));
    this.opts.spool.markDone([...done]);
    this.sent += recs.length;
    this.lastError = undefined;
  }

  private reject(rec: SpoolRecord, message: string): void {
    const { ledger } = this.opts;
    if (rec.t === "run") ledger.runFailed(rec.op.run.id, message);
    if (rec.t === "feedback") ledger.feedbackFailed(rec.feedback.id, message);
    this.queue = this.queue.filter((r) => r.seq !== rec.seq);
    this.opts.spool.markDone([rec.seq]);
    this.rejected++;
  }

  /** The next batch whose dependencies are met, or undefined if none is ready now. */
  private take(): Batch | undefined {
    const again = this.retries.shift();
    if (again) {
      for (const r of again.recs) this.held.delete(r.seq);
      return again;
    }
    const { maxBatchOps, maxBatchBytes } = this.opts;
    let examples: { dataset: string; recs: SpoolRecord[] } | undefined;
    const known: Array<[SpoolRecord, string]> = [];
    const runs: SpoolRecord[] = [];
    let bytes = 0;
    for (const rec of this.queue) {
      if (this.inflight.has(rec.seq) || this.held.has(rec.seq) || rec.t === "close") continue;
      const hint = exampleOf(rec);
      if (hint) {
        const exp = this.resolve(hint.dataset, hint.experiment);
        if (!exp) continue;
        const key = this.exampleKey(exp, hint);
        const uploaded = this.uploaded.get(key);
        if (uploaded) {
          // Already sent (hinted when the test was collected): only the run's mapping is new.
          known.push([rec, uploaded]);
          continue;
        }
        if (this.uploading.has(key)) continue;
        if (!examples) examples = { dataset: hint.dataset, recs: [] };
        if (examples.dataset === hint.dataset && examples.recs.length < maxBatchOps!) examples.recs.push(rec);
        continue;
      }
      if (!this.ready(rec)) continue;
      if (runs.length >= maxBatchOps! || bytes > maxBatchBytes!) continue;
      runs.push(rec);
      bytes += approxSize(rec);
    }
    if (known.length > 0) {
      for (const [rec, id] of known) if (rec.t === "test") this.exampleOf.set(rec.test.runId, id);
      this.finish(known.map(([rec]) => rec));
      // Runs that waited on these mappings may be ready now.
      if (!examples && runs.length === 0) return this.take();
    }
    if (examples) return { kind: "examples", ...examples };
    if (runs.length > 0) return { kind: "runs", recs: runs };
    // An experiment is closed once its examples are all in (that fixes dataset_version); its last
    // runs may still be on their way, which costs the run's end one round trip less.
    const close = this.queue.find(
      (r) => r.t === "close" && !this.inflight.has(r.seq) && !this.examplesPending(r.close.dataset),
    );
    if (close && close.t === "close" && this.resolve(close.close.dataset, close.close.experiment)) {
      return { kind: "close", recs: [close] };
    }
    return undefined;
  }

  /** The example id a hint or registration stands for (the official integration's scheme). */
  private exampleIdOf(exp: ResolvedExperiment, hint: ExampleHint): string {
    return hint.exampleId ?? exampleId(exp.datasetId, hint.inputsHash, hint.outputsHash);
  }

  private exampleKey(exp: ResolvedExperiment, hint: ExampleHint): string {
    return `${exp.datasetId}/${this.exampleIdOf(exp, hint)}`;
  }

  private examplesPending(dataset: string): boolean {
    return this.queue.some(
      (r) => (r.t === "test" && r.test.dataset === dataset) || (r.t === "example" && r.example.dataset === dataset),
    );
  }

  private resolve(dataset: string, experiment: { name: string; id: string }): ResolvedExperiment | undefined {
    const exp = this.opts.registry.peek(dataset);
    if (exp) return exp;
    this.opts.registry.ensure(dataset, experiment).then(
      () => {
        this.kick();
        this.wake();
      },
      (err: unknown) => {
        this.lastError = (err as Error).message;
        this.retryAt = Date.now() + backoffMs(2, (err as UpstreamError).retryAfterMs);
        setTimeout(() => this.kick(), this.retryAt - Date.now()).unref();
      },
    );
    return undefined;
  }

  private ready(rec: SpoolRecord): boolean {
    if (rec.t === "run") {
      const { run } = rec.op;
      const ref = run.reference_example_id;
      if (ref && this.tests.has(ref) && !this.exampleOf.has(ref)) return false;
      const ds = run.session_name ? this.experimentByName.get(run.session_name) : undefined;
      return !ds || !!this.resolve(ds, this.experimentOfDataset.get(ds)!);
    }
    if (rec.t === "feedback") {
      const ds = rec.feedback.session_id ? this.experimentById.get(rec.feedback.session_id) : undefined;
      return !ds || !!this.resolve(ds, this.experimentOfDataset.get(ds)!);
    }
    return true;
  }

  private async send(batch: Batch): Promise<void> {
    if (batch.kind === "examples") return this.sendExamples(batch.dataset, batch.recs);
    if (batch.kind === "close") return this.sendClose((batch.recs[0] as SpoolRecord & { t: "close" }).close);
    const ops: RunOp[] = [];
    const feedback: FeedbackRecord[] = [];
    for (const rec of batch.recs) {
      if (rec.t === "run") ops.push({ ...rec.op, run: this.rewriteRun(rec.op.run) });
      if (rec.t === "feedback") feedback.push(this.rewriteFeedback(rec.feedback));
    }
    await this.sendRuns(batch, ops, feedback);
    for (const op of ops) this.opts.ledger.runDelivered(op);
    for (const f of feedback) this.opts.ledger.feedbackDelivered(f.id);
  }

  private rewriteRun(run: RunOp["run"]): RunOp["run"] {
    const ref = run.reference_example_id;
    if (ref && this.exampleOf.has(ref)) return { ...run, reference_example_id: this.exampleOf.get(ref)! };
    return run;
  }

  private rewriteFeedback(f: FeedbackRecord): FeedbackRecord {
    const ds = f.session_id ? this.experimentById.get(f.session_id) : undefined;
    const exp = ds ? this.opts.registry.peek(ds) : undefined;
    return exp ? { ...f, session_id: exp.id } : f;
  }

  private async sendRuns(batch: RunsBatch, ops: RunOp[], feedback: FeedbackRecord[]): Promise<void> {
    if (!this.legacyIngest) {
      const res = await this.postMultipart(batch, ops, feedback);
      if (res.ok) return void (await res.arrayBuffer());
      if (res.status !== 404) throw await toError("POST", "/runs/multipart", res);
      // An older backend without multipart ingest: fall back for the rest of the run.
      this.legacyIngest = true;
    }
    const dropped = ops.flatMap((o) => (o.attachments ?? []).map((a) => `"${a.name}" of run ${o.run.id}`));
    if (dropped.length > 0) {
      // JSON batches have no place for bytes; say so rather than lose them silently.
      this.opts.ledger.problems.push(`the backend has no /runs/multipart, so these attachments were not sent: ${dropped.join(", ")}`);
    }
    if (ops.length > 0) {
      await this.sendJson("POST", "/runs/batch", {
        post: ops.filter((o) => o.kind === "create").map((o) => o.run),
        patch: ops.filter((o) => o.kind === "update").map((o) => o.run),
      });
    }
    await Promise.all(feedback.map((f) => this.sendJson("POST", "/feedback", f)));
  }

  /** One multipart body for the batch, compressed as /info allows; encoded once, kept on the batch. */
  private async postMultipart(batch: RunsBatch, ops: RunOp[], feedback: FeedbackRecord[]): Promise<Response> {
    batch.wire ??= await this.encoder.encode(encodeRunsMultipart(ops, feedback));
    let res = await this.encoder.send("POST", "/runs/multipart", batch.wire);
    while (res.status === 415 && batch.wire.encoding) {
      // Advertised but refused (a proxy in between that cannot decode it, say): the next choice
      // (zstd → gzip → plain) for this batch and the rest of the run.
      await res.arrayBuffer();
      this.encoder.refuse(batch.wire.encoding);
      batch.wire = await this.encoder.encode(encodeRunsMultipart(ops, feedback));
      res = await this.encoder.send("POST", "/runs/multipart", batch.wire);
    }
    return res;
  }

  /** A JSON request with a body, counted like every other body the sender sends. */
  private async sendJson<T>(method: string, path: string, value: unknown): Promise<T> {
    return jsonOf<T>(method, path, await this.encoder.send(method, path, plainBody(JSON.stringify(value), "application/json")));
  }

  private async sendExamples(dataset: string, recs: SpoolRecord[]): Promise<void> {
    const exp = this.opts.registry.peek(dataset)!;
    const examples = new Map<string, ExampleRecord>();
    for (const rec of recs) {
      const hint = exampleOf(rec);
      if (!hint) continue;
      const id = this.exampleIdOf(exp, hint);
      examples.set(id, {
        id,
        dataset_id: exp.datasetId,
        inputs: hint.inputs,
        outputs: hint.referenceOutputs ?? {},
        metadata: hint.metadata ?? undefined,
        split: hint.split ?? undefined,
        created_at: new Date().toISOString(),
      });
    }
    const keys = [...examples.keys()].map((id) => `${exp.datasetId}/${id}`);
    for (const k of keys) this.uploading.add(k);
    try {
      const path = `/v1/platform/datasets/${exp.datasetId}/examples`;
      const list = [...examples.values()];
      // Examples go uncompressed: LangSmith advertises compression for run ingest only.
      const res = await this.encoder.send("POST", path, plainBody(encode(list), encodeType(list)));
      let asOf: string | undefined;
      if (res.status === 409) {
        asOf = await this.upsertExisting(path, list);
      } else if (!res.ok) {
        throw await toError("POST", path, res);
      } else {
        asOf = ((await res.json().catch(() => ({}))) as { as_of?: string }).as_of;
      }
      if (asOf && (!this.datasetVersion.has(dataset) || asOf > this.datasetVersion.get(dataset)!)) {
        this.datasetVersion.set(dataset, asOf);
      }
      for (const k of keys) this.uploaded.set(k, k.slice(exp.datasetId.length + 1));
      for (const rec of recs) if (rec.t === "test") this.exampleOf.set(rec.test.runId, this.exampleIdOf(exp, rec.test));
    } finally {
      for (const k of keys) this.uploading.delete(k);
    }
  }

  /** A backend that refuses to create existing ids: update those, create the rest. */
  private async upsertExisting(path: string, list: ExampleRecord[]): Promise<string | undefined> {
    const { upstream } = this.opts;
    const ids = list.map((e) => `id=${e.id}`).join("&");
    const existing = new Set(
      (await upstream.json<Array<{ id: string }>>("GET", `/examples?dataset=${list[0]!.dataset_id}&${ids}&limit=${list.length}`)).map(
        (e) => e.id,
      ),
    );
    const fresh = list.filter((e) => !existing.has(e.id));
    const old = list.filter((e) => existing.has(e.id));
    let asOf: string | undefined;
    for (const [method, group] of [["POST", fresh], ["PATCH", old]] as const) {
      if (group.length === 0) continue;
      const res = await this.encoder.send(method, path, plainBody(encode(group), encodeType(group)));
      if (!res.ok) throw await toError(method, path, res);
      asOf = ((await res.json().catch(() => ({}))) as { as_of?: string }).as_of ?? asOf;
    }
    return asOf;
  }

  private async sendClose(close: ExperimentClose): Promise<void> {
    const exp = this.opts.registry.peek(close.dataset)!;
    const datasetVersion = this.datasetVersion.get(close.dataset) ?? close.endTime;
    await Promise.all([
      this.sendJson("PATCH", `/sessions/${exp.id}`, {
        name: null,
        description: null,
        end_time: close.endTime,
        extra: { metadata: { ...close.metadata, dataset_version: datasetVersion } },
      }),
      close.gitCommit &&
        this.sendJson("PUT", `/datasets/${exp.datasetId}/tags`, {
          as_of: datasetVersion,
          tag: `git:commit:${close.gitCommit}`,
        }),
    ]);
  }
}

const encodedCache = new WeakMap<ExampleRecord[], ReturnType<typeof encodeExamplesMultipart>>();
function encoded(list: ExampleRecord[]) {
  let e = encodedCache.get(list);
  if (!e) encodedCache.set(list, (e = encodeExamplesMultipart(list)));
  return e;
}
const encode = (list: ExampleRecord[]) => encoded(list).body;
const encodeType = (list: ExampleRecord[]) => encoded(list).contentType;

/** The example a record brings: a hint from collection, or a test's own registration. */
function exampleOf(rec: SpoolRecord): ExampleHint | undefined {
  return rec.t === "example" ? rec.example : rec.t === "test" ? rec.test : undefined;
}

/** One record of `batch` as a batch of its own (never with the batch's encoded body). */
function single(batch: Batch, rec: SpoolRecord): Batch {
  return batch.kind === "examples" ? { kind: "examples", dataset: batch.dataset, recs: [rec] } : { kind: batch.kind, recs: [rec] };
}

function isPermanent(err: unknown): boolean {
  return err instanceof UpstreamError && !err.retryable && err.status !== 404;
}

function approxSize(rec: SpoolRecord): number {
  // Good enough to keep batches under the backend's byte limit without serialising twice.
  if (rec.t === "run") return JSON.stringify(rec.op.run).length + (rec.op.attachments ?? []).reduce((n, a) => n + (a.data.length * 3) / 4, 0);
  if (rec.t === "feedback") return 512;
  return 0;
}
