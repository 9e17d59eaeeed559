import { WORKER_ENV } from "../session/worker-env.js";
import type { AckedTest } from "../ledger/ledger.js";
import type { ExampleHint } from "../spool/records.js";
import { ClientTracker } from "./client-tracker.js";
import type { LangsmithClientLike, LangsmithModules } from "./langsmith-types.js";

// The worker half of a run. Installed once per worker by the runner's setup file, before any test
// file is loaded: it points every langsmith client at the collector, and gives the `ls` API what it
// needs to register tests, plus the flush-and-ack the setup file's last `afterAll` calls.

export interface WorkerRuntime {
  active: boolean;
  runKey: string;
  dataset?: string;
  experimentPrefix?: string;
  flushTimeoutMs: number;
  langsmith: LangsmithModules;
  client: LangsmithClientLike;
  tracker: ClientTracker;
  /** Tells the collector about an example as its test is collected (batched, not awaited). */
  hintExample(h: ExampleHint): void;
  /** A problem to name at the end of the run (the file's ack carries it). */
  noteProblem(message: string): void;
  /** Notes a tracked test that ran; the file's ack carries the list to the main process. */
  reportTest(t: AckedTest): void;
  flushAndAck(file: string): Promise<string[]>;
}

const KEY = Symbol.for("tally.worker-runtime");
const g = globalThis as unknown as Record<symbol, WorkerRuntime | undefined>;

export function getRuntime(): WorkerRuntime | undefined {
  return g[KEY];
}

export function installWorker(langsmith: LangsmithModules, env: NodeJS.ProcessEnv = process.env): WorkerRuntime {
  const existing = g[KEY];
  if (existing && existing.langsmith.Client === langsmith.Client) return existing;

  const url = env[WORKER_ENV.url];
  const token = env[WORKER_ENV.token];
  const active = !!url && !!token && env.LANGSMITH_TEST_TRACKING !== "false";
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
  const client = new langsmith.Client(url && token ? { apiUrl: url, apiKey: token } : {});

  async function post(path: string, body: unknown): Promise<unknown> {
    const res = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": token! },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`tally collector answered ${res.status} to ${path}: ${(await res.text()).slice(0, 200)}`);
    return res.json();
  }

  let hints: ExampleHint[] = [];
  let ranTests: AckedTest[] = [];
  let notes: string[] = [];
  let hintTimer: NodeJS.Timeout | undefined;
  function sendHints() {
    clearTimeout(hintTimer);
    hintTimer = undefined;
    if (hints.length === 0) return;
    const batch = hints;
    hints = [];
    tracker.track(post("/_tally/examples", batch).catch(() => undefined));
  }

  const runtime: WorkerRuntime = {
    active,
    runKey: env[WORKER_ENV.runKey] ?? "untracked",
    dataset: env[WORKER_ENV.dataset] || undefined,
    experimentPrefix: env[WORKER_ENV.prefix] || undefined,
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
    noteProblem(message) {
      notes.push(message);
    },
    reportTest(t) {
      if (url && token) ranTests.push(t);
    },
    async flushAndAck(file) {
      if (!url || !token) return [];
      sendHints();
      const problems = [...notes, ...(await tracker.flush(Date.now() + runtime.flushTimeoutMs - 1000))];
      notes = [];
      // A worker may run several files (isolate: false, Jest): each ack carries its own file's tests.
      const tests = ranTests;
      ranTests = [];
      await post("/_tally/ack", { file, worker: env.VITEST_POOL_ID ?? env.JEST_WORKER_ID, problems, tests });
      return problems;
    },
  };
  g[KEY] = runtime;
  return runtime;
}
