import { COLLECTOR_INFO } from "../protocol/collector-info.js";
import { TALLY_ROUTES } from "../protocol/routes.js";
import { trackingEnabled, WORKER_ENV } from "../protocol/worker-env.js";
import type { WorkerAckBody } from "../protocol/bodies.js";
import type { AckedTest } from "../protocol/tracked-test.js";
import type { DeclaredExample } from "../protocol/examples.js";
import { postToCollector } from "./loopback.js";
import { ClientTracker } from "./client-tracker.js";
import type { LangsmithClientLike, LangsmithModules } from "./langsmith-types.js";
import { WorkerPlugins, type WorkerPlugin } from "./plugins.js";
import { testContext } from "./test-context.js";
import { modelCachePlugin } from "./model-cache.js";
import { usagePlugin } from "./usage.js";

// The worker half of a run. Installed once per worker by the runner's setup file, before any test
// file is loaded: it points every langsmith client at the collector, and gives the `ls` API what it
// needs to register tests, plus the flush-and-ack the setup file's last `afterAll` calls.

export interface WorkerRuntime {
  active: boolean;
  runKey: string;
  dataset?: string;
  /** The dataset of a test that names none (neither the `dataset` option nor an `ls.describe`). */
  fallbackDataset?: string;
  experimentPrefix?: string;
  /** How many times each `ls.test` without `config.repetitions` runs (the `trials` option). */
  trials: number;
  flushTimeoutMs: number;
  langsmith: LangsmithModules;
  client: LangsmithClientLike;
  tracker: ClientTracker;
  /** Tells the collector about an example as its test is collected (batched, not awaited). */
  hintExample(h: DeclaredExample): void;
  /**
   * Sends the hints not sent yet; settles once the collector has every hint given so far. A test
   * awaits it before it starts: a worker that dies mid-file has told what it declared.
   */
  hintsSent(): Promise<void>;
  /** A problem to name at the end of the run (the file's ack carries it). */
  noteProblem(message: string): void;
  /** Merges metadata into the span the calling code runs in (see PluginRuntime). */
  annotateCurrentSpan(metadata: Record<string, unknown>): void;
  /** Sees every run the worker's langsmith clients are given (see PluginRuntime); absent without a collector. */
  observeRuns?(observer: (run: Record<string, unknown>, id: unknown) => void): void;
  /** Notes a tracked test that ran; the file's ack carries the list to the main process. */
  reportTest(t: AckedTest): void;
  /** The plugins set up on this runtime (see plugins.ts and registerWorkerPlugin). */
  plugins: WorkerPlugins;
  flushAndAck(file: string): Promise<string[]>;
}

export interface InstallOptions {
  /** Registered as by registerWorkerPlugin. */
  plugins?: WorkerPlugin[];
}

/** Merges metadata into a run tree's (what langsmith sends with the run's end); no-op without one. */
export function annotateRun(run: unknown, metadata: Record<string, unknown>): void {
  if (!run || typeof run !== "object") return;
  const r = run as { extra?: Record<string, unknown> };
  const extra = r.extra ?? {};
  r.extra = { ...extra, metadata: { ...(extra.metadata as Record<string, unknown> | undefined), ...metadata } };
}

const KEY = Symbol.for("tally.worker-runtime");
const g = globalThis as unknown as Record<symbol, WorkerRuntime | undefined>;

export function getRuntime(): WorkerRuntime | undefined {
  return g[KEY];
}

// Registered plugins are set up on every runtime of the worker: Jest installs one per test file (each
// file has its own copy of langsmith), and each copy needs the plugin's setup. On a global symbol,
// like the runtime, so that every copy of this module shares them.
const PLUGINS = Symbol.for("tally.worker-plugins");
const registered: Map<string, WorkerPlugin> = ((globalThis as unknown as Record<symbol, Map<string, WorkerPlugin>>)[PLUGINS] ??= new Map());

/** Attaches a plugin to the worker runtime, now if one is installed, and to every one installed later. */
export function registerWorkerPlugin(plugin: WorkerPlugin): void {
  registered.set(plugin.name, plugin);
  g[KEY]?.plugins.add(plugin);
}

export function installWorker(
  langsmith: LangsmithModules,
  env: NodeJS.ProcessEnv = process.env,
  options: InstallOptions = {},
): WorkerRuntime {
  for (const plugin of options.plugins ?? []) registered.set(plugin.name, plugin);
  const existing = g[KEY];
  if (existing && existing.langsmith.Client === langsmith.Client) {
    for (const plugin of registered.values()) existing.plugins.add(plugin);
    return existing;
  }

  const url = env[WORKER_ENV.url];
  const token = env[WORKER_ENV.token];
  const active = !!url && !!token && trackingEnabled(env);
  if (url && token) {
    // Every client created from here on talks to the collector; the real key stays in the main process.
    env.LANGSMITH_ENDPOINT = url;
    env.LANGSMITH_API_KEY = token;
    delete env.LANGCHAIN_ENDPOINT;
    delete env.LANGCHAIN_API_KEY;
    delete env.LANGSMITH_RUNS_ENDPOINTS;
    // On loopback a buffered multipart body arrives in ~5 ms; the SDK's chunked stream takes ~40.
    env.LANGSMITH_DISABLE_MULTIPART_STREAMING ??= "true";
    if (active && env.LANGSMITH_TRACING === undefined && env.LANGCHAIN_TRACING_V2 === undefined) {
      env.LANGSMITH_TRACING = "true";
    }
  }
  const tracker = new ClientTracker(url ?? "", token ?? "");
  if (url && token) tracker.install(langsmith);
  // Tally's client (every ls.test run and the spans under it) flushes when Tally says: the SDK's own
  // batching re-arms a 250 ms timer per queued operation without clearing the one before, so on an
  // uncompressed endpoint a test of 5 spans went out in ~1.3 requests (measured, langsmith 0.12).
  const client = new langsmith.Client(url && token ? { apiUrl: url, apiKey: token, manualFlushMode: true } : {});
  let flushTimer: NodeJS.Timeout | undefined;
  const flushClient = () => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    void tracker.track(Promise.resolve(client.flush?.()), false).catch(() => undefined);
  };
  /** After a test: what it queued goes out with its neighbours', within FLUSH_EVERY_MS, or now if many wait. */
  const flushSoon = () => {
    if (queuedOps(client) >= FLUSH_AT_OPS) return flushClient();
    if (flushTimer) return;
    flushTimer = setTimeout(flushClient, FLUSH_EVERY_MS);
    // The file's final flush sends whatever is left: this timer never holds a worker open.
    flushTimer.unref?.();
  };

  async function post(path: string, body: unknown): Promise<unknown> {
    return JSON.parse(await postToCollector(url!, token!, path, JSON.stringify(body)));
  }

  let hints: DeclaredExample[] = [];
  let hintsPosted: Promise<unknown> = Promise.resolve();
  let ranTests: AckedTest[] = [];
  let notes: string[] = [];
  let hintTimer: NodeJS.Timeout | undefined;
  function sendHints() {
    clearTimeout(hintTimer);
    hintTimer = undefined;
    if (hints.length === 0) return;
    const batch = hints;
    hints = [];
    const posted = tracker.track(post(TALLY_ROUTES.examples, batch).catch(() => undefined));
    hintsPosted = Promise.all([hintsPosted, posted]);
  }

  const plugins = new WorkerPlugins(
    {
      // A getter: the runtime is made below, and no plugin is set up before it is installed.
      get runtime() {
        return runtime;
      },
      currentTest: () => testContext.getStore()?.seen,
    },
    (message) => notes.push(message),
  );
  const runtime: WorkerRuntime = {
    active,
    runKey: env[WORKER_ENV.runKey] ?? "untracked",
    dataset: env[WORKER_ENV.dataset] || undefined,
    fallbackDataset: env[WORKER_ENV.fallbackDataset] || undefined,
    experimentPrefix: env[WORKER_ENV.prefix] || undefined,
    trials: trialsOf(env[WORKER_ENV.trials]),
    flushTimeoutMs: Number(env[WORKER_ENV.flushTimeout] ?? 120_000),
    langsmith,
    client,
    tracker,
    hintExample(h) {
      // Batched: collection registers a file's tests synchronously, so this is one request per file.
      if (!url || !token) return;
      hints.push(h);
      hintTimer ??= setTimeout(sendHints, 0);
    },
    async hintsSent() {
      sendHints();
      await hintsPosted;
    },
    noteProblem(message) {
      notes.push(message);
    },
    annotateCurrentSpan(metadata) {
      annotateRun(langsmith.getCurrentRunTree(true), metadata);
    },
    ...(url && token
      ? {
          observeRuns(observer: (run: Record<string, unknown>, id: unknown) => void) {
            tracker.runObserver = observer;
          },
        }
      : {}),
    reportTest(t) {
      if (!url || !token) return;
      ranTests.push(t);
      // The run's end is queued from a detached promise just after the test returns: flush after it.
      setImmediate(flushSoon);
    },
    plugins,
    async flushAndAck(file) {
      const deadline = Date.now() + runtime.flushTimeoutMs - 1000;
      // Without a collector there is no ack, but a plugin may still have work of its own to finish.
      if (!url || !token) return runtime.plugins.flush(deadline);
      sendHints();
      const flushed = [...notes, ...(await tracker.flush(deadline))];
      notes = [];
      // After the queues: an evaluator still running until then may have used a plugin.
      const problems = [...flushed, ...(await runtime.plugins.flush(deadline))];
      // A worker may run several files (isolate: false, Jest): each ack carries its own file's tests.
      const tests = ranTests;
      ranTests = [];
      await post(TALLY_ROUTES.ack, { file, worker: env.VITEST_POOL_ID ?? env.JEST_WORKER_ID, problems, tests } satisfies WorkerAckBody);
      return problems;
    },
  };
  g[KEY] = runtime;
  for (const plugin of registered.values()) plugins.add(plugin);
  // The model-call cache is built in, but set up only when it is on: off, nothing of it is loaded.
  const cache = modelCachePlugin(env);
  if (cache) plugins.add(cache);
  // Token usage is built in and always on while tests are tracked: it only reads the runs sent anyway.
  if (active) plugins.add(usagePlugin());
  return runtime;
}

/** The trials the main process resolved (and checked); 1 when unset. */
function trialsOf(raw: string | undefined): number {
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** How long a finished test's run may wait in the worker for company, at most (a crash loses no more). */
const FLUSH_EVERY_MS = 100;
/** Operations queued that are worth a request of their own at once: the batch size the collector asks for. */
const FLUSH_AT_OPS = COLLECTOR_INFO.batch_ingest_config.size_limit;

/** Operations waiting in a langsmith client's queue (internal, so read defensively: 0 if unknown). */
function queuedOps(client: unknown): number {
  const n = (client as { autoBatchQueue?: { items?: unknown[] } }).autoBatchQueue?.items?.length;
  return typeof n === "number" ? n : 0;
}
