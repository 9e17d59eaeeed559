import { type Backend, BackendError, type RunsBatch as PortBatch, type WireStats } from "../backend/port.js";
import type { Ledger } from "../ledger/ledger.js";
import type { Spool } from "../spool/spool.js";
import type { ExampleHint, TestRegistration } from "../protocol/examples.js";
import type { ExperimentClose, SpoolRecord } from "../spool/records.js";
import { exampleId } from "../identity/experiment.js";
import type { ExampleRecord, FeedbackRecord, RunOp } from "../wire/types.js";
import { backoffMs } from "./backoff.js";
import { Circuit } from "./circuit.js";
import type { ExperimentRegistry, ResolvedExperiment } from "./registry.js";

// Write-behind: sends what the spool holds through the backend port, in dependency order (dataset
// and experiment, then examples, then the runs and feedback that reference them, then the close),
// several batches at a time, retrying until told to stop. Workers never wait for any of it. How
// each call looks on the wire is the adapter's business; when and in what order is this file's.

export interface SchedulerOptions {
  spool: Spool;
  backend: Backend;
  registry: ExperimentRegistry;
  ledger: Ledger;
  concurrency?: number;
  maxBatchOps?: number;
  maxBatchBytes?: number;
  /**
   * Records held in memory at most; beyond it they stay in the spool file until there is room, so
   * a backend that is down (or slower than the workers) costs disk, not memory.
   */
  window?: number;
}

type RunsBatch = { kind: "runs"; recs: SpoolRecord[] /** Made once; a retry resends it as it is (same bytes). */; sent?: PortBatch };
type Batch = { kind: "examples"; dataset: string; recs: SpoolRecord[] } | RunsBatch | { kind: "close"; recs: SpoolRecord[] };

export interface DeliveryProgress {
  pending: number;
  sent: number;
  rejected: number;
  lastError?: string;
  /** Why the backend cannot be reached, while it cannot (e.g. "connection refused"). */
  unreachable?: string;
  /** Request bodies sent so far, before and after compression. */
  wire: WireStats;
}

/** How long records just pushed wait for company before they are sent (see push). */
const LINGER_MS = 25;

export class Scheduler {
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
  private loops = 0;
  private retryAt = 0;
  private sent = 0;
  private rejected = 0;
  private lastError: string | undefined;
  private stopped = false;
  private wakers: Array<() => void> = [];
  /** Run batches that failed on the way, to be resent as they are (same records, same bytes). */
  private readonly retries: RunsBatch[] = [];
  /** Records of those batches, which no other batch may take meanwhile. */
  private readonly held = new Set<number>();
  /** Datasets whose experiment is being resolved, and when a failed resolution may be tried again. */
  private readonly resolving = new Set<string>();
  private readonly resolveAt = new Map<string, number>();
  readonly circuit: Circuit;
  private runsInFlight = 0;
  /** Set by drain(): the run is ending, every batch goes as soon as it can. */
  private eager = false;
  /** The first record left in the spool file for lack of room; every later one is there too. */
  private parkedFrom: number | undefined;
  private readonly opts: Required<Omit<SchedulerOptions, "spool" | "backend" | "registry" | "ledger">> & SchedulerOptions;

  constructor(opts: SchedulerOptions) {
    this.opts = { concurrency: 8, maxBatchOps: 200, maxBatchBytes: 16 * 1024 * 1024, window: 4000, ...opts };
    this.circuit = new Circuit();
  }

  /** Starts resolving the dataset's experiment (unless under way or resolved), ahead of its records. */
  prepare(dataset: string, experiment: { name: string; id: string }): void {
    if (!this.stopped) this.resolve(dataset, experiment);
  }

  /** The example id a test's run references on the backend, once its example was written. */
  exampleOfRun(runId: string): string | undefined {
    return this.exampleOf.get(runId);
  }

  push(recs: SpoolRecord[]): void {
    for (const r of recs) {
      // Records go in order: once one is left in the file, so is every later one (a run is never
      // held while the registration of its test is not).
      if (this.parkedFrom === undefined && this.queue.length >= this.opts.window) this.parkedFrom = r.seq;
      if (this.parkedFrom !== undefined) {
        this.parkedFrom = Math.min(this.parkedFrom, r.seq);
        continue;
      }
      if (r.t === "test") this.noteTest(r.test);
      this.queue.push(r);
    }
    // A short wait before sending what a worker just handed over: it lands when a test file ends,
    // right when the runner wants this thread to start the next file's worker; encoding it can
    // wait that long (and more joins it). A full batch, or a run that is ending, goes at once.
    // Examples declared at collection gate their runs: they never wait.
    if (this.eager || this.queue.length >= this.opts.maxBatchOps || recs.some((r) => r.t === "example")) this.kick();
    else this.kickAfter(LINGER_MS);
  }

  /** Records waiting in the spool file only. */
  private parked(): number {
    return this.parkedFrom === undefined ? 0 : this.opts.spool.next - this.parkedFrom;
  }

  /** Takes records back from the spool file once half the window is free. */
  private refill(): void {
    if (this.parkedFrom === undefined || this.queue.length > this.opts.window / 2) return;
    const { spool } = this.opts;
    // Records of a re-opened spool that were sent already stay done (test registrations excepted:
    // their example ids are needed again).
    const recs = spool.readFrom(this.parkedFrom, this.opts.window - this.queue.length);
    const last = recs.at(-1)?.seq;
    this.parkedFrom = last === undefined || last + 1 >= spool.next ? undefined : last + 1;
    const queued = new Set(this.queue.map((r) => r.seq));
    for (const r of recs) {
      if ((spool.isDone(r.seq) && r.t !== "test") || queued.has(r.seq)) continue;
      if (r.t === "test") this.noteTest(r.test);
      this.queue.push(r);
    }
  }

  progress(): DeliveryProgress {
    return {
      // Records in flight stay in the queue until the backend has them: counted once.
      pending: this.queue.length + this.parked(),
      sent: this.sent,
      rejected: this.rejected,
      lastError: this.lastError,
      unreachable: this.circuit.open ? this.circuit.reason : undefined,
      wire: this.opts.backend.wireStats(),
    };
  }

  /**
   * Resolves once nothing is left to send, or at `deadline`, or once nothing got through for
   * `stallMs` (a backend that fails or hangs), or as soon as the backend is known unreachable (see
   * Circuit.givesUp): the rest stays in the spool.
   */
  async drain(deadline: number, onTick?: (p: DeliveryProgress) => void, stallMs = Infinity): Promise<DeliveryProgress> {
    const started = Date.now();
    this.eager = true;
    // A backend that was unreachable a moment ago gets one more try now, not at its next probe.
    this.circuit.probeNow();
    this.kick();
    let progressAt = started;
    let done = this.sent + this.rejected;
    while (this.queue.length + this.parked() > 0 && Date.now() < deadline) {
      if (this.sent + this.rejected !== done) {
        done = this.sent + this.rejected;
        progressAt = Date.now();
      }
      if (this.circuit.givesUp(started)) break;
      const stalled = Date.now() - progressAt >= stallMs;
      if (stalled && (this.lastError !== undefined || this.inflight.size > 0)) break;
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
    clearTimeout(this.kickTimer);
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
      const wait = Math.max(this.retryAt - Date.now(), this.circuit.waitMs());
      if (wait > 0) await this.pause(wait);
      if (this.stopped) return;
      // While the backend is unreachable only one loop goes on (the probe); a success kicks the rest.
      if (!this.circuit.admit()) {
        // Not this loop's turn: another holds the probe (its outcome kicks again), or the probe's
        // time is still ahead, and then a timer must bring a loop back, or nothing would.
        const wait = this.circuit.waitMs();
        if (wait > 0) this.kickAfter(wait);
        return;
      }
      let batch: Batch | undefined;
      try {
        batch = this.take();
        if (!batch) return;
        for (const r of batch.recs) this.inflight.add(r.seq);
        if (batch.kind === "runs") this.runsInFlight++;
        await this.sendOrSplit(batch);
      } finally {
        if (batch?.kind === "runs") this.runsInFlight--;
        this.circuit.settle();
        for (const r of batch?.recs ?? []) this.inflight.delete(r.seq);
        // Only now is the batch's outcome visible to drain().
        if (batch) this.wake();
      }
    }
  }

  private async sendOrSplit(batch: Batch): Promise<void> {
    try {
      await this.send(batch);
      this.circuit.success();
      this.finish(batch.recs);
      return;
    } catch (err) {
      this.lastError = (err as Error).message;
      const unreachable = this.circuit.failure(err);
      if (unreachable || !isPermanent(err)) {
        const wait = this.circuit.retryDelayMs(err, backoffMs(1, (err as BackendError).retryAfterMs));
        this.retryAt = Date.now() + wait;
        if (batch.kind === "runs" && batch.sent) this.holdForRetry(batch);
        // The loops may all have ended (only a probe goes while the circuit is open): one timer wakes them.
        this.kickAfter(wait);
        return;
      }
      if (batch.recs.length === 1) return this.reject(batch.recs[0]!, (err as Error).message);
    }
    // The backend refuses something in this batch for good: send the records one by one, so that
    // one bad run does not take its neighbours down with it.
    for (const rec of batch.recs) await this.sendOrSplit(single(batch, rec));
  }

  /** One timer, the earliest any waiting record asked for: the loops it starts find the rest. */
  private kickTimer: NodeJS.Timeout | undefined;
  private kickAt = 0;
  private kickAfter(ms: number): void {
    const at = Date.now() + ms;
    if (this.stopped || (this.kickTimer && this.kickAt <= at)) return;
    clearTimeout(this.kickTimer);
    this.kickAt = at;
    this.kickTimer = setTimeout(() => {
      this.kickTimer = undefined;
      this.kick();
    }, ms);
    // Never what keeps the process alive: drain() and the CLI keep their own timers.
    this.kickTimer.unref();
  }

  /** A batch is encoded once: one that failed is resent whole, with its bytes. */
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
    this.refill();
  }

  private reject(rec: SpoolRecord, message: string): void {
    const { ledger } = this.opts;
    if (rec.t === "run") ledger.runFailed(rec.op.run.id, message);
    if (rec.t === "feedback") ledger.feedbackFailed(rec.feedback.id, message);
    this.queue = this.queue.filter((r) => r.seq !== rec.seq);
    this.opts.spool.markDone([rec.seq]);
    this.rejected++;
    this.refill();
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
        // Examples need only their dataset: they go while the experiment is still being created.
        this.resolve(hint.dataset, hint.experiment);
        const datasetId = this.opts.registry.peekDataset(hint.dataset);
        if (!datasetId) continue;
        const key = this.exampleKey(datasetId, hint);
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
      bytes += this.opts.spool.sizeOf(rec) ?? approxSize(rec);
    }
    if (known.length > 0) {
      for (const [rec, id] of known) if (rec.t === "test") this.exampleOf.set(rec.test.runId, id);
      this.finish(known.map(([rec]) => rec));
      // Runs that waited on these mappings may be ready now.
      if (!examples && runs.length === 0) return this.take();
    }
    if (examples) return { kind: "examples", ...examples };
    // While a runs batch is on its way, the next waits for it unless it is full: what arrives
    // meanwhile joins it, so a steady stream goes out in a few large bodies rather than one small
    // one per worker flush (measured: 1.5 requests a test before, at loopback). At the end, no wait.
    const full = runs.length >= maxBatchOps! || bytes > maxBatchBytes!;
    if (runs.length > 0 && (full || this.runsInFlight === 0 || this.eager)) return { kind: "runs", recs: runs };
    // An experiment is closed once its examples are all in (that fixes dataset_version); its last
    // runs may still be on their way, which costs the run's end one round trip less.
    const close = this.queue.find((r) => r.t === "close" && !this.inflight.has(r.seq) && !this.examplesPending(r.close.dataset));
    if (close && close.t === "close" && this.resolve(close.close.dataset, close.close.experiment)) {
      return { kind: "close", recs: [close] };
    }
    return undefined;
  }

  /** The example id a hint or registration stands for (the official integration's scheme). */
  private exampleIdOf(datasetId: string, hint: ExampleHint): string {
    return hint.exampleId ?? exampleId(datasetId, hint.inputsHash, hint.outputsHash);
  }

  private exampleKey(datasetId: string, hint: ExampleHint): string {
    return `${datasetId}/${this.exampleIdOf(datasetId, hint)}`;
  }

  private examplesPending(dataset: string): boolean {
    return this.queue.some((r) => (r.t === "test" && r.test.dataset === dataset) || (r.t === "example" && r.example.dataset === dataset));
  }

  /**
   * The dataset's experiment if resolved; otherwise starts resolving it (one attempt at a time per
   * dataset, however many records ask) and returns undefined.
   */
  private resolve(dataset: string, experiment: { name: string; id: string }): ResolvedExperiment | undefined {
    const exp = this.opts.registry.peek(dataset);
    if (exp) return exp;
    if (this.resolving.has(dataset)) return undefined;
    const retryIn = (this.resolveAt.get(dataset) ?? 0) - Date.now();
    if (retryIn > 0) {
      this.kickAfter(retryIn);
      return undefined;
    }
    this.resolving.add(dataset);
    // The dataset is known a round trip before its experiment: its examples can go then.
    if (!this.opts.registry.peekDataset(dataset)) {
      this.opts.registry.datasetId(dataset).then(
        () => this.kick(),
        () => undefined,
      );
    }
    this.opts.registry.ensure(dataset, experiment).then(
      () => {
        this.resolving.delete(dataset);
        this.circuit.success();
        this.kick();
        this.wake();
      },
      (err: unknown) => {
        this.resolving.delete(dataset);
        this.lastError = (err as Error).message;
        this.circuit.failure(err);
        const wait = this.circuit.retryDelayMs(err, backoffMs(2, (err as BackendError).retryAfterMs));
        this.resolveAt.set(dataset, Date.now() + wait);
        this.kickAfter(wait);
        this.wake();
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
    if (!batch.sent) {
      const ops: RunOp[] = [];
      const feedback: FeedbackRecord[] = [];
      for (const rec of batch.recs) {
        if (rec.t === "run") ops.push({ ...rec.op, run: this.rewriteRun(rec.op.run) });
        if (rec.t === "feedback") feedback.push(this.rewriteFeedback(rec.feedback));
      }
      batch.sent = { ops, feedback };
    }
    const { notes } = await this.opts.backend.sendRuns(batch.sent);
    for (const note of notes) if (!this.opts.ledger.problems.includes(note)) this.opts.ledger.problems.push(note);
    for (const op of batch.sent.ops) this.opts.ledger.runDelivered(op);
    for (const f of batch.sent.feedback) this.opts.ledger.feedbackDelivered(f.id);
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

  private async sendExamples(dataset: string, recs: SpoolRecord[]): Promise<void> {
    const datasetId = this.opts.registry.peekDataset(dataset)!;
    const examples = new Map<string, ExampleRecord>();
    for (const rec of recs) {
      const hint = exampleOf(rec);
      if (!hint) continue;
      const id = this.exampleIdOf(datasetId, hint);
      examples.set(id, {
        id,
        dataset_id: datasetId,
        inputs: hint.inputs,
        outputs: hint.referenceOutputs ?? {},
        metadata: hint.metadata ?? undefined,
        split: hint.split ?? undefined,
        created_at: new Date().toISOString(),
      });
    }
    const keys = [...examples.keys()].map((id) => `${datasetId}/${id}`);
    for (const k of keys) this.uploading.add(k);
    try {
      const { asOf } = await this.opts.backend.upsertExamples(datasetId, [...examples.values()]);
      if (asOf && (!this.datasetVersion.has(dataset) || asOf > this.datasetVersion.get(dataset)!)) {
        this.datasetVersion.set(dataset, asOf);
      }
      for (const k of keys) this.uploaded.set(k, k.slice(datasetId.length + 1));
      for (const rec of recs) if (rec.t === "test") this.exampleOf.set(rec.test.runId, this.exampleIdOf(datasetId, rec.test));
    } finally {
      for (const k of keys) this.uploading.delete(k);
    }
  }

  private async sendClose(close: ExperimentClose): Promise<void> {
    const exp = this.opts.registry.peek(close.dataset)!;
    await this.opts.backend.closeExperiment({
      id: exp.id,
      datasetId: exp.datasetId,
      endTime: close.endTime,
      metadata: close.metadata,
      datasetVersion: this.datasetVersion.get(close.dataset) ?? close.endTime,
      gitCommit: close.gitCommit,
    });
  }
}

/** The example a record brings: a hint from collection, or a test's own registration. */
function exampleOf(rec: SpoolRecord): ExampleHint | undefined {
  return rec.t === "example" ? rec.example : rec.t === "test" ? rec.test : undefined;
}

/** One record of `batch` as a batch of its own (never with the batch's encoded body). */
function single(batch: Batch, rec: SpoolRecord): Batch {
  return batch.kind === "examples" ? { kind: "examples", dataset: batch.dataset, recs: [rec] } : { kind: batch.kind, recs: [rec] };
}

function isPermanent(err: unknown): boolean {
  return err instanceof BackendError && !err.retryable && err.status !== 404;
}

/** For records read back from the spool file (the spool knows the size of those it wrote). */
function approxSize(rec: SpoolRecord): number {
  // Good enough to keep batches under the backend's byte limit.
  if (rec.t === "run")
    return JSON.stringify(rec.op.run).length + (rec.op.attachments ?? []).reduce((n, a) => n + (a.data.length * 3) / 4, 0);
  if (rec.t === "feedback") return 512;
  return 0;
}
