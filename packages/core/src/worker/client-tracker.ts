import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { COLLECTOR_INFO } from "../protocol/collector-info.js";
import type { LangsmithClientLike, LangsmithModules } from "./langsmith-types.js";
import { postToCollector } from "./loopback.js";

// Every langsmith client in the worker, Tally's and any the user's code makes, must (a) send to the
// collector and (b) be flushed before the worker is stopped. Clients cannot be enumerated, so the
// methods every send goes through are wrapped on the prototype: the first call registers the
// instance (and points it at the collector), and every promise they return is tracked.

const TRACKED = Symbol.for("tally.tracked-prototype");
/** What a run's create or update carried, as langsmith's client got it. */
export type RunPayload = Record<string, unknown>;
/** Sees every run create and update any langsmith client in the worker is given, with the run's id. */
export type RunObserver = (run: RunPayload, id: unknown) => void;

/** Calls that are new work (a run, a feedback) as opposed to a flush sending what was queued. */
const WORK_METHODS = new Set(["createRun", "updateRun", "createFeedback", "logEvaluationFeedback"]);
const METHODS = [...WORK_METHODS, "batchIngestRuns", "multipartIngestRuns"];

/**
 * Where a langsmith package keeps the CommonJS modules that define Client and RunTree: `dist/*.cjs`
 * up to 0.10, `lib/*.js` from 0.11 (generated from langsmith-javascript, `.mjs` beside them).
 */
function commonJsModules(root: string): { client: string; runTrees: string } | undefined {
  for (const [dir, ext] of [
    ["dist", ".cjs"],
    ["lib", ".js"],
  ] as const) {
    const client = join(root, dir, `client${ext}`);
    if (existsSync(client)) return { client, runTrees: join(root, dir, `run_trees${ext}`) };
  }
  return undefined;
}

export class ClientTracker {
  readonly clients = new Set<LangsmithClientLike>();
  private readonly pending = new Set<Promise<unknown>>();
  /** Grows on every tracked call: lets flush() see that new work appeared while it waited. */
  private generation = 0;
  /** Set by a plugin that reads the runs (token usage): called before the client queues the run. */
  runObserver: RunObserver | undefined;

  constructor(
    readonly collectorUrl: string,
    readonly token: string,
  ) {}

  private commonJs: { require: NodeJS.Require; client: string; runTrees: string } | undefined;

  install(mods: LangsmithModules): void {
    for (const cls of [mods.Client, ...(mods.extraClientClasses ?? [])]) this.patch(cls.prototype as Record<string | symbol, unknown>);
    if (mods.projectRequire) {
      try {
        // Resolving does not load anything; only the paths are needed to look in require's cache.
        const root = dirname(mods.projectRequire.resolve("langsmith/package.json"));
        const modules = commonJsModules(root);
        if (modules) this.commonJs = { require: mods.projectRequire, ...modules };
      } catch {
        // No CommonJS build resolvable from the project: nothing to adopt.
      }
    }
  }

  /**
   * Adopts a CommonJS copy of langsmith once something has loaded it: its Client methods are
   * wrapped from then on, and its shared client (what its \`traceable\` uses) is registered now.
   */
  adoptCommonJs(): void {
    const cjs = this.commonJs;
    if (!cjs) return;
    const client = cjs.require.cache[cjs.client]?.exports as { Client?: { prototype: object } } | undefined;
    if (!client?.Client) return;
    this.patch(client.Client.prototype as Record<string | symbol, unknown>);
    const runTrees = cjs.require.cache[cjs.runTrees]?.exports as { RunTree?: { getSharedClient?: () => LangsmithClientLike } } | undefined;
    const shared = runTrees?.RunTree?.getSharedClient?.();
    if (shared) this.register(shared);
  }

  register(client: LangsmithClientLike): void {
    if (this.clients.has(client)) return;
    // A client built with an explicit apiUrl/apiKey would bypass the collector and its spool.
    if (client.apiUrl !== this.collectorUrl) {
      client.apiUrl = this.collectorUrl;
      client.apiKey = this.token;
    }
    this.clients.add(client);
  }

  track<T>(p: Promise<T>, isNewWork = true): Promise<T> {
    if (isNewWork) this.generation++;
    this.pending.add(p);
    const done = () => this.pending.delete(p);
    p.then(done, done);
    return p;
  }

  /**
   * Waits until every client's queue is sent and every tracked promise settled, repeating while new
   * work keeps appearing (a run's end is enqueued from a detached promise after the test returns, and
   * an evaluation nobody awaited may log feedback late).
   */
  async flush(deadline: number): Promise<string[]> {
    const problems: string[] = [];
    this.adoptCommonJs();
    for (let stable = false; !stable && Date.now() < deadline; ) {
      const before = this.generation;
      // Let run ends that traceable enqueues from a detached promise reach the queues first.
      await new Promise((r) => setTimeout(r, 1));
      const work: Promise<unknown>[] = [...this.pending];
      for (const c of this.clients) {
        // flush() sends the queue now instead of after the SDK's 250 ms batching debounce (and works in
        // manualFlushMode, where awaitPendingTraceBatches is a no-op); then wait for what is in flight.
        work.push(
          // (In manualFlushMode flush() is the whole job, and awaitPendingTraceBatches only warns.)
          Promise.resolve(c.flush?.()).then(() => (c.manualFlushMode ? undefined : c.awaitPendingTraceBatches?.())),
        );
      }
      const results = await Promise.allSettled(work);
      for (const r of results) {
        if (r.status === "rejected") problems.push(`a langsmith call failed: ${(r.reason as Error)?.message ?? r.reason}`);
      }
      // Done when a whole round (which began with a tick for detached run ends) saw no new work.
      stable = this.generation === before && this.pending.size === 0;
    }
    if (this.pending.size > 0) problems.push(`${this.pending.size} langsmith calls were still running when the flush timed out`);
    return problems;
  }

  private patch(proto: Record<string | symbol, unknown>): void {
    if (proto[TRACKED]) {
      // Already wrapped in this worker (isolate: false, or a second setup file run): reuse it.
      (proto[TRACKED] as { tracker: ClientTracker }).tracker = this;
      return;
    }
    const holder: Holder = { tracker: this as ClientTracker };
    proto[TRACKED] = holder;
    patchTransportOn(proto, holder);
    const multipart = proto.multipartIngestRuns;
    for (const name of METHODS) {
      const original = proto[name];
      if (typeof original !== "function") continue;
      // createRun(run) and updateRun(runId, run): which argument is the run, decided once per method.
      const runArg = name === "createRun" ? 0 : name === "updateRun" ? 1 : -1;
      proto[name] = function (this: LangsmithClientLike, ...args: unknown[]) {
        holder.tracker.register(this);
        if (runArg >= 0 && holder.tracker.runObserver) observe(holder.tracker.runObserver, args, runArg);
        // The collector asks for JSON batches (see protocol/collector-info.ts), which cannot carry attachments.
        const viaMultipart = name === "batchIngestRuns" && typeof multipart === "function" && hasAttachments(args[0]);
        const out = ((viaMultipart ? multipart : original) as (...a: unknown[]) => unknown).apply(this, args);
        return out instanceof Promise ? holder.tracker.track(out, WORK_METHODS.has(name)) : out;
      };
    }
  }
}

/** Hands the observer a run's payload (with its id); an observer's failure never fails the SDK's call. */
function observe(observer: RunObserver, args: unknown[], at: number): void {
  const run = args[at];
  if (!run || typeof run !== "object") return;
  try {
    observer(run as RunPayload, at === 1 ? args[0] : (run as RunPayload).id);
  } catch {
    // Usage is a report's extra: a payload it cannot read must not break the user's tracing.
  }
}

/**
 * How a client pointed at the collector reaches it: the body the SDK prepared and serialised goes
 * out through node:http (see loopback.ts), and the collector's /info is known without asking. Both
 * methods have this shape from langsmith 0.3 to 0.12; anything else (another endpoint, an option
 * that names one) goes the SDK's own way.
 */
type Holder = { tracker: ClientTracker };
type Body = string | Uint8Array | ArrayBuffer | Blob;

function patchTransportOn(proto: Record<string | symbol, unknown>, holder: Holder): void {
  const postBatch = proto._postBatchIngestRuns;
  if (typeof postBatch === "function") {
    proto._postBatchIngestRuns = async function (this: LangsmithClientLike, body: Body, options?: { apiUrl?: string; apiKey?: string }) {
      const { collectorUrl, token } = holder.tracker;
      const bytes = collectorUrl && (options?.apiUrl ?? this.apiUrl) === collectorUrl ? await bytesOf(body) : undefined;
      if (bytes === undefined) return postBatch.call(this, body, options);
      await postToCollector(collectorUrl, token, "/runs/batch", bytes);
    };
  }
  const serverInfo = proto._getServerInfo;
  if (typeof serverInfo === "function") {
    proto._getServerInfo = function (this: LangsmithClientLike) {
      const { collectorUrl } = holder.tracker;
      return collectorUrl && this.apiUrl === collectorUrl ? Promise.resolve(COLLECTOR_INFO) : serverInfo.call(this);
    };
  }
}

/** The body as bytes, if it is one of the shapes the SDK serialises to; undefined otherwise. */
async function bytesOf(body: Body): Promise<string | Uint8Array | undefined> {
  if (typeof body === "string" || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (typeof Blob !== "undefined" && body instanceof Blob) return new Uint8Array(await body.arrayBuffer());
  return undefined;
}

/** Whether a batch (`{ runCreates, runUpdates }`) has a run with attachments. */
function hasAttachments(batch: unknown): boolean {
  const { runCreates = [], runUpdates = [] } = (batch ?? {}) as { runCreates?: unknown[]; runUpdates?: unknown[] };
  return [...runCreates, ...runUpdates].some((run) => {
    const attachments = (run as { attachments?: object } | null)?.attachments;
    return !!attachments && Object.keys(attachments).length > 0;
  });
}
