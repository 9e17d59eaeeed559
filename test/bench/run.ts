// `pnpm bench`: what Tally costs a test run, measured against the same tests run by plain Vitest
// (and Jest 30) with no plugin and tracing off, side by side on this machine. Every row of the
// report is one comparison (issue 14):
//
//   v0, v300      Vitest, 8 files × 10 `ls.test` (each calls a traced app: 4 spans, 1 feedback),
//                 LangSmith stand-in answering after 0 / 300 ms: baseline, Tally, the SDK's own
//                 tracing alone (no Tally, for context) and the official `langsmith/vitest`.
//   voff          Vitest, Tally installed with LANGSMITH_TEST_TRACKING=false.
//   v10k, v1k     Vitest, 20 files × 500 (and × 50) tests, --pool=threads --maxWorkers=4: wall time,
//                 peak RSS of the vitest process (its worker threads live in it) and delivery.
//   vdown         Vitest, the backend down for the whole run (connection refused): Tally's wall time
//                 against Tally with the backend up, its peak RSS, Vitest's "close timed out"
//                 warning, then `tally flush` into a fresh stand-in and what arrived.
//   vcache        Vitest, 4 files × 10 `ls.test` whose app calls a model (an OpenAI-style stand-in
//                 answering after 200 ms): baseline, Tally recording every call (TALLY_CACHE=record),
//                 and Tally replaying them from the cache (TALLY_CACHE=replay), with the calls each made.
//   j0, j300, joff  the first three on Jest 30 (`@tally/jest-preset`, `langsmith/jest`).
//   stats         no runner: the statistics the end of a run adds (the experiment's spread and the
//                 noise-aware comparison with its baseline) for 10,000 tests × 3 trials against a
//                 baseline as large, timed by test/bench/stats-perf.ts in fresh processes: the first
//                 call in ms (what a run's end pays) next to the 200 ms target.
//
//   node test/bench/run.ts              full bench (≈ 12 min on 2 cores); writes docs/bench.md
//   node test/bench/run.ts --quick      1 repetition, 0 ms rows only, big rows at a tenth; writes nothing
//   … --only=v0,vdown                   these rows only (ids above); writes nothing
//   … --runner=vitest|jest              one runner's rows only
//   … --workers=N                       --maxWorkers=N for the 8×10 rows (default: the runner's, nproc − 1)
//
// Each sample gets a fresh stand-in server (so what it delivered is counted over HTTP without
// mixing runs) and a freshly generated suite. The bench reports; it never exits non-zero because a
// target was missed, and a sample that crashes or times out is reported as such.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { startServer } from "../../packages/store/dist/index.js";
import { codeVersion, mdTable, nprocOf, textTable } from "../support/doc-tables.ts";
import { withReads } from "../support/reads.ts";
import { cleanEnv, jestArgv, MATRIX, REPO, vitestArgv } from "../support/run-vitest.ts";
import { generateSuite, type SuiteFlavour } from "../support/suite.ts";
import { startOpenAiStandin } from "../support/model-standins.ts";

// ---- what is measured ------------------------------------------------------------------------

type Runner = "vitest" | "jest";

/**
 * What one sample runs. "sdk" is the baseline's suite with LANGSMITH_TRACING on; "tally-off" and
 * "tally-down" are Tally's suite with tracking off, and with the backend unreachable.
 */
type Flavour = "baseline" | "tally" | "sdk" | "official" | "tally-off" | "tally-down" | "tally-record" | "tally-replay";

const SUITE_OF: Record<Flavour, SuiteFlavour> = {
  baseline: "baseline",
  sdk: "baseline",
  tally: "tally",
  "tally-off": "tally",
  "tally-down": "tally",
  "tally-record": "tally",
  "tally-replay": "tally",
  official: "official",
};

const LABELS: Record<Runner, Record<Flavour, string>> = {
  vitest: {
    baseline: "baseline (plain Vitest, tracing off)",
    tally: "Tally",
    sdk: "SDK tracing alone (no Tally)",
    official: "official langsmith/vitest",
    "tally-off": "Tally, LANGSMITH_TEST_TRACKING=false",
    "tally-down": "Tally, backend down",
    "tally-record": "Tally, model cache recording",
    "tally-replay": "Tally, model cache replaying",
  },
  jest: {
    baseline: "baseline (plain Jest, tracing off)",
    tally: "Tally (Jest preset)",
    sdk: "SDK tracing alone (no Tally)",
    official: "official langsmith/jest",
    "tally-off": "Tally (Jest preset), LANGSMITH_TEST_TRACKING=false",
    "tally-down": "Tally (Jest preset), backend down",
    "tally-record": "Tally (Jest preset), model cache recording",
    "tally-replay": "Tally (Jest preset), model cache replaying",
  },
};

interface Row {
  id: string;
  runner: Runner;
  /** e.g. "Vitest 8×10, 0 ms". */
  title: string;
  files: number;
  tests: number;
  latency: number;
  /** The runner's extra arguments (pool, workers). */
  args: string[];
  /** flavours[0] is the reference every other flavour of the row is compared with, round by round. */
  flavours: Flavour[];
  /** Samples per flavour where it is not the default (3; 1 with --quick). */
  reps: Partial<Record<Flavour, number>>;
  /** Past it, a sample's process group is killed and the sample reported as timed out. */
  timeoutMs: number;
  /** The app calls a model stand-in answering after this many ms (on one port for the whole row). */
  modelLatencyMs?: number;
}

const API_KEY = "fake-key";
const TIME = "/usr/bin/time";
const TALLY_BIN = join(REPO, "packages", "store", "bin", "tally.mjs");

// ---- command line ----------------------------------------------------------------------------

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const workers = option("workers");
const runnerArg = option("runner");
const onlyArg = option("only");
const unknown = args.filter((a) => a !== "--quick" && !/^--(workers|runner|only)=/.test(a));
const ROWS = defineRows();
const only = onlyArg?.split(",").filter(Boolean);
/** The row of the end-of-run statistics: in-process timings, no runner (see statsSamples). */
const STATS_ROW = "stats";
const badIds = (only ?? []).filter((id) => id !== STATS_ROW && !ROWS.some((r) => r.id === id));
if (
  unknown.length > 0 ||
  badIds.length > 0 ||
  (workers !== undefined && !/^\d+$/.test(workers)) ||
  (runnerArg !== undefined && runnerArg !== "vitest" && runnerArg !== "jest")
) {
  console.error(
    "usage: node test/bench/run.ts [--quick] [--only=ID,…] [--runner=vitest|jest] [--workers=N]\n" +
      `  row ids: ${[...ROWS.map((r) => r.id), STATS_ROW].join(", ")}\n  not understood: ${[...unknown, ...badIds].join(" ")}`,
  );
  process.exit(2);
}
const selected = ROWS.filter(
  (r) => (!only || only.includes(r.id)) && (!runnerArg || r.runner === runnerArg) && (!quick || r.latency === 0),
);
/** The statistics row runs when --only names it, or with every row (not when --runner picks one runner's). */
const statsSelected = only ? only.includes(STATS_ROW) : !runnerArg;
/** Only a full run rewrites docs/bench.md. */
const writesDoc = !quick && !only;

function defineRows(): Row[] {
  // --quick: the big rows at a tenth of their size, so the whole thing takes a couple of minutes.
  const scale = quick ? 10 : 1;
  const small = { files: 8, tests: 10, args: workers ? [`--maxWorkers=${workers}`] : [], timeoutMs: 300_000 };
  const threads = ["--pool=threads", "--maxWorkers=4"];
  const rows: Row[] = [];
  for (const runner of ["vitest", "jest"] as const) {
    const name = runner === "vitest" ? "Vitest" : "Jest";
    const p = runner[0];
    const all: Flavour[] = ["baseline", "tally", "sdk", "official"];
    rows.push(
      { ...small, id: `${p}0`, runner, title: `${name} 8×10, 0 ms`, latency: 0, flavours: all, reps: {} },
      // The official integration waits on a round trip per test: ~90 s at 300 ms, so once.
      { ...small, id: `${p}300`, runner, title: `${name} 8×10, 300 ms`, latency: 300, flavours: all, reps: { official: 1 } },
      { ...small, id: `${p}off`, runner, title: `${name} 8×10, tracking off`, latency: 0, flavours: ["baseline", "tally-off"], reps: {} },
    );
    if (runner === "jest") continue;
    const big = 500 / scale;
    rows.push(
      {
        id: "v10k",
        runner,
        title: `Vitest 20×${big} = ${(20 * big).toLocaleString("en")} tests, threads ×4`,
        files: 20,
        tests: big,
        latency: 0,
        args: threads,
        flavours: ["baseline", "tally", "sdk"],
        reps: { sdk: 1 },
        timeoutMs: 300_000,
      },
      {
        id: "v1k",
        runner,
        title: `Vitest 20×${50 / scale} = ${(1000 / scale).toLocaleString("en")} tests, threads ×4`,
        files: 20,
        tests: 50 / scale,
        latency: 0,
        args: threads,
        flavours: ["baseline", "tally"],
        reps: {},
        timeoutMs: 300_000,
      },
      {
        ...small,
        id: "vcache",
        runner,
        title: "Vitest 4×10, model calls at 200 ms",
        files: 4,
        latency: 0,
        modelLatencyMs: 200,
        flavours: ["baseline", "tally-record", "tally-replay"],
        reps: {},
      },
      // 120 s: while the backend is down Tally's main process may grow its heap until it crashes.
      {
        ...small,
        id: "vdown",
        runner,
        title: "Vitest 8×10, backend down",
        latency: 0,
        flavours: ["tally", "tally-down"],
        reps: {},
        timeoutMs: 120_000,
      },
    );
  }
  // Vitest's rows first, as they ran in earlier benches.
  return rows.sort((a, b) => Number(a.runner === "jest") - Number(b.runner === "jest"));
}

function repsOf(row: Row, flavour: Flavour): number {
  return quick ? 1 : (row.reps[flavour] ?? 3);
}

// ---- one sample ------------------------------------------------------------------------------

interface Delivered {
  experiments: number;
  /** Root runs: one per test for the test integrations; one per app call ("trace") for the SDK alone. */
  runs: number;
  /** Runs of the app's 4 traceables: child runs of the test runs, or every run for the SDK alone. */
  spans: number;
  feedback: number;
}

/** Request bodies the backend received during the run: for Tally, what its sender put on the wire. */
interface UpstreamBytes {
  /** Decoded, i.e. before the client compressed them. */
  raw: number;
  /** As they came over the wire. */
  wire: number;
  /** Content-Encodings seen, e.g. ["zstd"]; empty when every body was plain. */
  encodings: string[];
}

interface Proc {
  /** "0", "1", "signal 6", "timeout after 120 s". */
  exit: string;
  ok: boolean;
  timedOut: boolean;
  ms: number;
  /** Peak resident set size in MB, when it could be measured. */
  rssMb?: number;
  /** stdout and stderr, without /usr/bin/time's report. */
  output: string;
  stdout: string;
  stderr: string;
}

interface FlushResult {
  exit: string;
  ms: number;
  delivered: Delivered;
  output: string;
}

interface Sample {
  round: number;
  proc: Proc;
  /** The runner's own summary line (Vitest's Duration, Jest's Time). */
  summary: string;
  delivered: Delivered;
  bytes: UpstreamBytes;
  /** Requests the stand-in answered during the run (before the bench's own reads). */
  requests: number;
  /** Vitest's "close timed out after …ms": something kept the process from exiting. */
  closeTimedOut: boolean;
  /** Backend-down samples: `tally flush` into a fresh stand-in afterwards. */
  flush?: FlushResult;
  /** Rows with model calls: the calls that reached the model stand-in. */
  modelCalls?: number;
}

const NOTHING: Delivered = { experiments: 0, runs: 0, spans: 0, feedback: 0 };

function expectedOf(row: Row) {
  const runs = row.files * row.tests;
  // Per test: the suite's `correctness`, plus the `pass` feedback both integrations log themselves.
  return { runs, spans: runs * 4, feedback: runs * 2 };
}

/** What each flavour's process gets in its environment (on top of the bench's, minus LANGSMITH_*). */
function envOf(flavour: Flavour, endpoint: string): Record<string, string> {
  const backend = { LANGSMITH_API_KEY: API_KEY, LANGSMITH_ENDPOINT: endpoint };
  // The baseline: tracing off and nowhere to send anything. The app still imports `traceable`
  // from langsmith, as a user's app does; with tracing off it records nothing.
  if (flavour === "baseline") return {};
  // Tracking off, tracing not asked for: what is left is the cost of having the plugin installed.
  if (flavour === "tally-off") return { ...backend, LANGSMITH_TEST_TRACKING: "false" };
  if (flavour === "tally-record") return { ...backend, LANGSMITH_TRACING: "true", TALLY_CACHE: "record" };
  if (flavour === "tally-replay") return { ...backend, LANGSMITH_TRACING: "true", TALLY_CACHE: "replay" };
  return { ...backend, LANGSMITH_TRACING: "true" };
}

async function runSample(row: Row, flavour: Flavour, round: number, tag: string): Promise<Sample> {
  const down = flavour === "tally-down";
  // Backend down: an address where nothing listens (connection refused). The same port gets a
  // fresh stand-in afterwards for `tally flush`: a spool goes back to the endpoint it was meant for.
  const deadPort = down ? await freePort() : undefined;
  const server = down ? undefined : await startServer({ latencyMs: row.latency });
  const model =
    row.modelLatencyMs === undefined ? undefined : await startOpenAiStandin({ latencyMs: row.modelLatencyMs, port: await modelPort(row) });
  try {
    const pkg = row.runner === "jest" ? "jest30" : "vitest4";
    const suite = generateSuite(join(MATRIX, pkg, ".suites", `bench-${row.id}-${flavour}`), {
      flavour: SUITE_OF[flavour],
      runner: row.runner,
      files: row.files,
      tests: row.tests,
      modelCalls: !!model,
    });
    const endpoint = server?.url ?? `http://127.0.0.1:${deadPort}`;
    // The suite is generated afresh for every sample, so its .tally (and spool) is this sample's own.
    const tallyDir = join(suite.dir, ".tally");
    const env = {
      ...envOf(flavour, endpoint),
      ...(down ? { TALLY_DIR: tallyDir } : {}),
      // The row's cache outlives each sample's suite: recording samples fill it, replaying ones read it.
      ...(model ? { OPENAI_BASE_URL: model.url, TALLY_CACHE_DIR: join(MATRIX, pkg, ".suites", `bench-${row.id}-cache`) } : {}),
    };
    // --forceExit for every Jest flavour: a langsmith client that traced leaves a batching timer
    // behind, and Jest would wait for it ("did not exit one second after the test run").
    const argv = row.runner === "jest" ? jestArgv(pkg, [...row.args, "--forceExit"]) : vitestArgv(pkg, row.args);
    const proc = await runMeasured(argv, suite.dir, env, row.timeoutMs);
    // Before counting: the bench's own queries have bodies too.
    const bytes = server ? upstreamBytes(server.stats) : { raw: 0, wire: 0, encodings: [] };
    const requests = server?.stats.requests ?? 0;
    const delivered = server ? await countDelivered(server.url, flavour, suite.dataset) : NOTHING;
    const summary = (row.runner === "jest" ? /Time:\s+(.*)/.exec(proc.stderr) : /Duration\s+(.*)/.exec(proc.stdout))?.[1]?.trim() ?? "?";
    const sample: Sample = {
      round,
      proc,
      summary,
      delivered,
      bytes,
      requests,
      closeTimedOut: /close timed out/.test(proc.output),
      ...(model ? { modelCalls: model.requests.length } : {}),
    };
    if (down) sample.flush = await flushInto(deadPort!, tallyDir, suite.dataset);
    printSample(row, flavour, tag, sample);
    return sample;
  } finally {
    await server?.close();
    await model?.close();
  }
}

const modelPorts = new Map<string, number>();
/** One port per row: a cache entry's key holds the model's URL, so replays must ask the same one. */
async function modelPort(row: Row): Promise<number> {
  if (!modelPorts.has(row.id)) modelPorts.set(row.id, await freePort());
  return modelPorts.get(row.id)!;
}

function printSample(row: Row, flavour: Flavour, tag: string, s: Sample): void {
  const exp = expectedOf(row);
  const d = s.delivered;
  const what =
    flavour === "baseline" || flavour === "tally-off"
      ? `${s.requests} requests to the stand-in`
      : flavour === "tally-down"
        ? `close timed out: ${s.closeTimedOut ? "YES" : "no"} · then tally flush (${s.flush!.exit}, ${sec(s.flush!.ms)}): ` +
          `${s.flush!.delivered.runs}/${exp.runs} runs · ${s.flush!.delivered.spans} spans · ${s.flush!.delivered.feedback} fb`
        : `${d.runs}/${exp.runs} ${flavour === "sdk" ? "traces" : "runs"} · ${d.experiments} exp · ${d.spans} spans · ${d.feedback} fb` +
          ` · ${s.requests} requests · upstream bytes: ${bytesLine(s.bytes)}`;
  const calls = s.modelCalls === undefined ? "" : ` · ${s.modelCalls} model calls`;
  console.log(
    `  ${tag.padEnd(8)} ${LABELS[row.runner][flavour].padEnd(36)} ${sec(s.proc.ms).padStart(8)} ${mb(s.proc.rssMb).padStart(8)}  ` +
      `${what}${calls}   [${row.runner}: ${s.summary}]${s.proc.ok ? "" : `  EXIT ${s.proc.exit}`}`,
  );
  if (!s.proc.ok) console.log(indent(tail(s.proc.output, 15)));
  if (s.flush && s.flush.exit !== "0") console.log(indent(tail(s.flush.output, 10)));
}

/** `tally flush` of one sample's spool into a fresh stand-in on the port the run could not reach. */
async function flushInto(port: number, tallyDir: string, dataset: string): Promise<FlushResult> {
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ port });
  } catch (err) {
    return { exit: `no stand-in on port ${port}: ${(err as Error).message}`, ms: 0, delivered: NOTHING, output: "" };
  }
  try {
    const env = { LANGSMITH_API_KEY: API_KEY, LANGSMITH_ENDPOINT: server.url };
    const p = await runMeasured([TALLY_BIN, "flush", "--dir", tallyDir], REPO, env, 180_000);
    return { exit: p.exit, ms: p.ms, delivered: await countDelivered(server.url, "tally", dataset), output: p.output };
  } finally {
    await server.close();
  }
}

// ---- processes: wall time and peak RSS -------------------------------------------------------

const HAVE_TIME = existsSync(TIME);
/** Process groups still running, killed if the bench itself is interrupted. */
const running = new Set<number>();
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    for (const pid of running) killGroup(pid);
    process.exit(130);
  });
}

/**
 * Runs `node argv…` to its end under GNU time, whose "Maximum resident set size" is the peak RSS of
 * the process (with Vitest's thread pool, workers included: they are threads of it) or of its
 * largest reaped child process (Jest's and Vitest's forks workers), whichever is higher. It runs in
 * its own process group so that a timeout kills the runner and its workers, not just `time`.
 */
function runMeasured(argv: string[], cwd: string, env: Record<string, string>, timeoutMs: number): Promise<Proc> {
  const started = performance.now();
  const [cmd, cmdArgs] = HAVE_TIME ? [TIME, ["-v", process.execPath, ...argv]] : [process.execPath, argv];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, cmdArgs, { cwd, env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"], detached: true });
    const pid = child.pid!;
    running.add(pid);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    let timedOutRssMb: number | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // A killed `time` reports nothing: read the node process's own high-water mark first.
      timedOutRssMb = highWaterMb(HAVE_TIME ? childPid(pid) : pid);
      killGroup(pid);
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(pid);
      const ms = performance.now() - started;
      const { rest, rssKb, signalled } = splitTimeReport(stderr);
      const exit = timedOut ? `timeout after ${sec(timeoutMs)}` : signalled ? `signal ${signalled}` : signal ? signal : String(code);
      resolve({
        exit,
        ok: exit === "0",
        timedOut,
        ms,
        rssMb: timedOut ? timedOutRssMb : rssKb === undefined ? undefined : rssKb / 1024,
        output: `${stdout}\n${rest}`,
        stdout,
        stderr: rest,
      });
    });
  });
}

/** Separates GNU time's `-v` report (always at the end of stderr) from the program's own stderr. */
function splitTimeReport(stderr: string): { rest: string; rssKb?: number; signalled?: string } {
  const at = stderr.lastIndexOf("\tCommand being timed:");
  if (at < 0) return { rest: stderr };
  // Before the report, time may say how the command ended.
  const before = stderr.slice(0, at);
  const ended = /(?:^|\n)(Command (?:exited with non-zero status|terminated by signal) (\d+))\n?$/.exec(before);
  const report = stderr.slice(at);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(report)?.[1];
  return {
    rest: ended ? before.slice(0, ended.index) : before,
    rssKb: rss === undefined ? undefined : Number(rss),
    signalled: ended?.[1]?.includes("signal") ? ended[2] : undefined,
  };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** The (first) child of `pid`: the node process `time` started. */
function childPid(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

/** VmHWM: the peak RSS of a live process, in MB. */
function highWaterMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** A loopback port nothing listens on: bound for a moment, then let go. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

// ---- what arrived ----------------------------------------------------------------------------

/**
 * What reached the stand-in, read over HTTP as any LangSmith client would. Counts come from
 * `POST /runs/stats` (LangSmith's own aggregate read) rather than listing every run: at 10,000
 * tests that is 50,000 runs, 500 pages of /runs/query, where two stats requests take under a second.
 */
async function countDelivered(url: string, flavour: Flavour, datasetName: string): Promise<Delivered> {
  if (flavour === "sdk") {
    // Plain traces go to the default project, in no experiment: count every run the stand-in has
    // (it is this sample's alone). The SDK-only suite logs no feedback (its `ls` is the baseline's).
    const roots = await runStats(url, { is_root: true });
    const all = await runStats(url, {});
    return { experiments: 0, runs: roots.run_count, spans: all.run_count, feedback: 0 };
  }
  const reads = withReads(url, async () => {});
  const [dataset] = await reads.datasets(datasetName);
  const sessions = dataset ? await reads.experimentsOf(dataset.id) : [];
  if (sessions.length === 0) return NOTHING;
  const session = sessions.map((s) => s.id);
  const roots = await runStats(url, { session, is_root: true });
  const children = await runStats(url, { session, is_root: false });
  const feedback = Object.values(roots.feedback_stats).reduce((n, s) => n + s.n, 0);
  return { experiments: sessions.length, runs: roots.run_count, spans: children.run_count, feedback };
}

interface RunStats {
  run_count: number;
  /** Feedback on the matched runs, per key. */
  feedback_stats: Record<string, { n: number }>;
}

async function runStats(url: string, query: Record<string, unknown>): Promise<RunStats> {
  const res = await fetch(`${url}/runs/stats`, {
    method: "POST",
    headers: { "x-api-key": API_KEY, "content-type": "application/json" },
    body: JSON.stringify(query),
  });
  if (!res.ok) throw new Error(`POST /runs/stats: ${res.status} ${await res.text()}`);
  return (await res.json()) as RunStats;
}

function upstreamBytes(stats: { bodyBytes: { wire: number; decoded: number }; byEncoding: Record<string, number> }): UpstreamBytes {
  return {
    raw: stats.bodyBytes.decoded,
    wire: stats.bodyBytes.wire,
    encodings: Object.keys(stats.byEncoding)
      .filter((e) => e !== "identity")
      .sort(),
  };
}

// ---- run the plan ----------------------------------------------------------------------------

const started = Date.now();
const vitestVersion = pkgVersion(join(MATRIX, "vitest4", "node_modules", "vitest", "package.json"));
const jestVersion = pkgVersion(join(MATRIX, "jest30", "node_modules", "jest", "package.json"));
const langsmithVersion = pkgVersion(join(MATRIX, "vitest4", "node_modules", "langsmith", "package.json"));
const nproc = nprocOf();
console.log(
  `tally bench: vitest ${vitestVersion} · jest ${jestVersion} · langsmith ${langsmithVersion} · node ${process.version} · ${nproc} CPUs` +
    `${workers ? ` · --maxWorkers=${workers}` : ""}${quick ? " · --quick" : ""} · rows: ${[...selected.map((r) => r.id), ...(statsSelected ? [STATS_ROW] : [])].join(", ")}`,
);
if (!HAVE_TIME) console.log(`warning: no ${TIME}: peak RSS is not measured`);

const code = codeVersion();
const distAtStart = distStamp();

// Timings mean little on a busy machine: say so up front rather than afterwards.
const loadAtStart = loadavg()[0]!;
if (loadAtStart > 0.5 * Number(nproc)) {
  console.log(`warning: load average ${loadAtStart.toFixed(2)} on ${nproc} CPUs: other work is running, timings will be noisy`);
}

const samples = new Map<string, Sample[]>();
const samplesOf = (row: Row, flavour: Flavour) => samples.get(`${row.id}:${flavour}`) ?? [];
/** Every timed run in the order it ran, for the log in docs/bench.md. */
const log: string[] = [];

/**
 * Untimed: the first process after a while pays for cold disk caches and would skew whichever
 * flavour happened to go first. One run of each suite the runner's rows use, at 8×10 and 0 ms.
 */
async function warmUp(runner: Runner, rows: Row[]): Promise<void> {
  const flavours = new Set(rows.flatMap((r) => r.flavours).map((f) => (f === "tally-off" || f === "tally-down" ? "tally" : f)));
  const row = ROWS.find((r) => r.id === `${runner[0]}0`)!;
  console.log(`\n${runner}: warm-up (not counted)`);
  for (const f of flavours) await runSample({ ...row, id: `${runner[0]}-warm-up` }, f, 0, "warm-up");
}

/** Rounds of the row's flavours, in an order that rotates each round so noise hits every flavour alike. */
async function benchRow(row: Row): Promise<void> {
  // Recording samples fill the row's cache afresh (the model's port, so every key, is this bench's).
  if (row.modelLatencyMs !== undefined)
    rmSync(join(MATRIX, "vitest4", ".suites", `bench-${row.id}-cache`), { recursive: true, force: true });
  const rounds = Math.max(...row.flavours.map((f) => repsOf(row, f)));
  for (let round = 0; round < rounds; round++) {
    console.log(`\n${row.id}: ${row.title} · round ${round + 1}/${rounds}`);
    const order = row.flavours.map((_, i) => row.flavours[(i + round) % row.flavours.length]!);
    for (const flavour of order) {
      if (round >= repsOf(row, flavour)) continue;
      const s = await runSample(row, flavour, round, `run ${round + 1}`);
      samples.set(`${row.id}:${flavour}`, [...samplesOf(row, flavour), s]);
      log.push(
        `| ${row.id} | ${round + 1} | ${LABELS[row.runner][flavour]} | ${sec(s.proc.ms)} | ${s.proc.exit} | ${mb(s.proc.rssMb)} | ` +
          `${deliveredCell(row, flavour, [s], "runs")} | ${s.summary} |`,
      );
    }
  }
}

for (const runner of ["vitest", "jest"] as const) {
  const rows = selected.filter((r) => r.runner === runner);
  if (rows.length === 0) continue;
  await warmUp(runner, rows);
  for (const row of rows) await benchRow(row);
}

// ---- the end-of-run statistics -----------------------------------------------------------------

type StatsCase = "worst" | "typical";
const STATS_TARGET_MS = 200;
const STATS_TITLE = "End-of-run statistics, 10,000 tests × 3 trials vs a baseline";
const STATS_CASES: Record<StatsCase, string> = {
  worst: "both score keys continuous (worst case)",
  typical: "one 0/1 key, one continuous",
};

interface StatsSample {
  /** The first call in a fresh process (ms): what a run's end pays. */
  first: number;
  /** The median of the calls after it in that process (ms). */
  warm: number;
}

/**
 * Each case in fresh processes, alternating, 3 of each (1 with --quick): stats-perf.ts times the
 * very functions the run's report calls (spreadOf and compareVerdicts) on the report's shapes.
 */
function statsSamples(): Map<StatsCase, StatsSample[]> {
  const out = new Map<StatsCase, StatsSample[]>([
    ["worst", []],
    ["typical", []],
  ]);
  const reps = quick ? 1 : 3;
  for (let round = 0; round < reps; round++) {
    console.log(`\n${STATS_ROW}: ${STATS_TITLE} · round ${round + 1}/${reps}`);
    for (const c of ["worst", "typical"] as const) {
      const text = execFileSync(process.execPath, [join(REPO, "test", "bench", "stats-perf.ts"), `--case=${c}`, "--json"], {
        encoding: "utf8",
        timeout: 120_000,
      });
      const s = JSON.parse(text.trim().split("\n").at(-1)!) as StatsSample;
      out.get(c)!.push(s);
      log.push(`| ${STATS_ROW} | ${round + 1} | ${STATS_CASES[c]} | first call ${ms(s.first)}, then ${ms(s.warm)} | 0 | — | — | — |`);
    }
  }
  return out;
}
const stats = statsSelected ? statsSamples() : undefined;

// ---- report ----------------------------------------------------------------------------------

/** The flavour's samples, each with the reference flavour's sample of the same round. */
function pairs(row: Row, flavour: Flavour): Array<[Sample, Sample]> {
  const ref = timed(samplesOf(row, row.flavours[0]!));
  return timed(samplesOf(row, flavour)).flatMap((s) => {
    const r = ref.find((x) => x.round === s.round);
    return r ? [[s, r] as [Sample, Sample]] : [];
  });
}

/**
 * The samples whose times count: those that exited 0. A sample that failed (a rebuild caught half
 * way, a crash) says nothing about speed; it is listed as failed instead. When every sample failed,
 * all of them count, so that a flavour that always crashes or times out still shows its times.
 */
function timed(list: Sample[]): Sample[] {
  const ok = list.filter((s) => s.proc.ok);
  return ok.length ? ok : list;
}

/** Wall time against the reference: the median of the rounds' ratios. */
function ratioOf(row: Row, flavour: Flavour): number | undefined {
  const p = pairs(row, flavour);
  return p.length ? median(p.map(([s, r]) => s.proc.ms / r.proc.ms)) : undefined;
}

/** Peak RSS over the reference, MB: the median of the rounds' differences. */
function rssOverOf(row: Row, flavour: Flavour): number | undefined {
  const p = pairs(row, flavour).filter(([s, r]) => s.proc.rssMb !== undefined && r.proc.rssMb !== undefined);
  return p.length ? median(p.map(([s, r]) => s.proc.rssMb! - r.proc.rssMb!)) : undefined;
}

/** One delivery column of the table for a flavour's samples. */
function deliveredCell(row: Row, flavour: Flavour, list: Sample[], what: "runs" | "experiments" | "spans" | "feedback"): string {
  const exp = expectedOf(row);
  const of = what === "experiments" ? "" : `/${exp[what]}`;
  if (flavour === "baseline" || flavour === "tally-off") {
    // Nothing should arrive: say how many requests the stand-in got at all, as evidence.
    return what === "runs" ? `— (${spread(list.map((s) => s.requests))} requests)` : "—";
  }
  if (flavour === "sdk" && (what === "feedback" || what === "experiments")) return "—";
  if (flavour === "tally-down") {
    const after = list.map((s) => s.flush?.delivered[what] ?? 0);
    return `${spread(list.map((s) => s.delivered[what]))} → ${spread(after)}${of} after flush`;
  }
  return spread(
    list.map((s) => s.delivered[what]),
    of,
  );
}

const header = [
  "row",
  "flavour",
  "wall time: median (min–max, n)",
  "vs reference",
  "peak RSS (median)",
  "runs delivered",
  "experiments",
  "spans",
  "feedback",
  "upstream bytes (median)",
];
const table: string[][] = [];
for (const row of selected)
  for (const flavour of row.flavours) {
    const list = samplesOf(row, flavour);
    if (list.length === 0) continue;
    const counted = timed(list);
    const ms = counted.map((s) => s.proc.ms);
    const failed = list.filter((s) => !s.proc.ok).map((s) => s.proc.exit);
    const range = counted.length > 1 ? ` (${sec(Math.min(...ms))}–${sec(Math.max(...ms))}, n=${counted.length})` : " (n=1)";
    const ratio = ratioOf(row, flavour);
    const rss = counted.flatMap((s) => (s.proc.rssMb === undefined ? [] : [s.proc.rssMb]));
    const tracked = flavour !== "baseline" && flavour !== "tally-off" && flavour !== "tally-down";
    table.push([
      row.title,
      LABELS[row.runner][flavour] +
        (failed.length
          ? ` — ${failed.length} of ${list.length} run(s) failed (exit ${[...new Set(failed)].join(", ")})${counted.length < list.length ? ", not in the times" : ""}`
          : ""),
      sec(median(ms)) + range,
      flavour === row.flavours[0] ? "1.00× (reference)" : ratio === undefined ? "?" : `${ratio.toFixed(2)}×`,
      rss.length ? mb(median(rss)) : "?",
      deliveredCell(row, flavour, list, "runs"),
      deliveredCell(row, flavour, list, "experiments"),
      deliveredCell(row, flavour, list, "spans"),
      deliveredCell(row, flavour, list, "feedback"),
      tracked ? bytesLine(medianBytes(list.map((s) => s.bytes))) : "—",
    ]);
  }

/** The statistics row's table: per case, the first call and the warm calls, with the target. */
const statsHeader = ["row", "case", "first call: median (min–max, n)", "warm calls: median", "target"];
const statsTable: string[][] = [...(stats ?? [])].map(([c, list]) => {
  const first = list.map((s) => s.first);
  return [
    STATS_TITLE,
    STATS_CASES[c],
    `${ms(median(first))}${list.length > 1 ? ` (${ms(Math.min(...first))}–${ms(Math.max(...first))}, n=${list.length})` : " (n=1)"}`,
    ms(median(list.map((s) => s.warm))),
    `≤ ${STATS_TARGET_MS} ms`,
  ];
});

/** The issue's targets, for the rows that ran. */
function judge(): string[] {
  const out: string[] = [];
  const check = (pass: boolean, text: string) => out.push(`${pass ? "PASS" : "FAIL"}  ${text}${pass ? "" : "  ← target missed"}`);
  if (stats) {
    const worst = median(stats.get("worst")!.map((s) => s.first));
    const typical = median(stats.get("typical")!.map((s) => s.first));
    check(
      worst <= STATS_TARGET_MS,
      `${STATS_TITLE}: the statistics add ≤ ${STATS_TARGET_MS} ms to a run's end: measured ${ms(worst)} (${STATS_CASES.worst}), ${ms(typical)} (${STATS_CASES.typical}), first call in a fresh process`,
    );
  }
  const ran = (id: string) => selected.find((r) => r.id === id && samplesOf(r, r.flavours[0]!).length > 0);
  const wall = (id: string, flavour: Flavour, target: number, what: string) => {
    const row = ran(id);
    const ratio = row && ratioOf(row, flavour);
    if (row && ratio !== undefined) check(ratio <= target, `${row.title}: ${what} ≤ ${target.toFixed(2)}×: measured ${ratio.toFixed(3)}×`);
  };
  for (const p of ["v", "j"]) {
    wall(`${p}0`, "tally", 1.1, "Tally vs baseline");
    wall(`${p}300`, "tally", 1.18, "Tally vs baseline");
    wall(`${p}off`, "tally-off", 1.03, "Tally with tracking off vs baseline");
    if (p === "v") {
      wall("v10k", "tally", 1.5, "Tally vs baseline");
      const big = ran("v10k");
      const over = big && rssOverOf(big, "tally");
      if (big && over !== undefined)
        check(over <= 150, `${big.title}: Tally's peak RSS ≤ baseline + 150 MB: measured +${Math.round(over)} MB`);
      if (big) {
        const exp = expectedOf(big);
        const list = samplesOf(big, "tally");
        const all = list.every(
          (s) => s.delivered.runs === exp.runs && s.delivered.spans === exp.spans && s.delivered.feedback === exp.feedback,
        );
        check(all, `${big.title}: Tally delivered every run, span and feedback in every sample (${list.length})`);
      }
      wall("vdown", "tally-down", 1.5, "backend down vs backend up, Tally's wall time");
      const down = ran("vdown");
      const list = down ? samplesOf(down, "tally-down") : [];
      if (down && list.length) {
        const rss = list.map((s) => s.proc.rssMb ?? Number.POSITIVE_INFINITY);
        check(
          Math.max(...rss) <= 400,
          `${down.title}: peak RSS ≤ 400 MB: measured ${list.map((s) => `${mb(s.proc.rssMb)} (exit ${s.proc.exit})`).join(", ")}`,
        );
        const warned = list.filter((s) => s.closeTimedOut).length;
        check(warned === 0, `${down.title}: no "close timed out" from Vitest: ${warned} of ${list.length} run(s) printed it`);
        const exp = expectedOf(down);
        const flushed = list.map((s) => s.flush?.delivered ?? NOTHING);
        check(
          flushed.every((d) => d.runs === exp.runs && d.spans === exp.spans && d.feedback === exp.feedback),
          `${down.title}: \`tally flush\` delivered ${exp.runs}/${exp.runs} runs (and every span and feedback): ` +
            flushed.map((d) => `${d.runs}/${exp.runs} runs, ${d.spans} spans, ${d.feedback} fb`).join("; "),
        );
      }
      const cached = ran("vcache");
      if (cached) {
        const replays = samplesOf(cached, "tally-replay");
        const calls = replays.map((s) => s.modelCalls ?? -1);
        check(
          replays.length > 0 && calls.every((n) => n === 0) && replays.every((s) => s.proc.ok),
          `${cached.title}: replaying made no model call and passed, in every sample: ${calls.join(", ")} calls`,
        );
        const replay = ratioOf(cached, "tally-replay");
        const record = ratioOf(cached, "tally-record");
        if (replay !== undefined && record !== undefined) {
          check(
            replay < record,
            `${cached.title}: replaying is faster than recording: ${replay.toFixed(2)}× vs ${record.toFixed(2)}× the baseline`,
          );
        }
      }
    }
  }
  return out;
}
const checks = judge();

const missed = checks.some((c) => c.startsWith("FAIL"));
const totalSec = Math.round((Date.now() - started) / 1000);
const rebuilt = distStamp() !== distAtStart;
if (rebuilt) console.log("\nwarning: packages/*/dist changed while the bench ran (a rebuild): runs may mix two versions of Tally");
const load = `1-min load average ${loadAtStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end`;

if (table.length > 0) console.log(`\n${textTable(header, table)}`);
if (statsTable.length > 0) console.log(`\n${textTable(statsHeader, statsTable)}`);
console.log("");
for (const c of checks) console.log(c);
if (missed) console.log("\nAt least one target was missed (the bench reports it; its exit code stays 0).");
console.log(`\nBench took ${totalSec} s (${load}).`);

if (writesDoc) {
  writeFileSync(join(REPO, "docs", "bench.md"), documentText());
  console.log("wrote docs/bench.md");
}

function documentText(): string {
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const defaultWorkers = Math.max(Number(nproc) - 1, 1);
  return [
    "# Benchmark",
    "",
    "Generated by `pnpm bench` (`node test/bench/run.ts`); do not edit by hand.",
    "",
    `- date: ${date}`,
    `- machine: ${nproc} CPUs (\`nproc\`), ${cpus()[0]?.model ?? "unknown CPU"}`,
    `- node ${process.version} · vitest ${vitestVersion} · jest ${jestVersion} · langsmith ${langsmithVersion}`,
    `- ${load}; the bench took ${totalSec} s`,
    `- code: ${code}${rebuilt ? " — warning: packages/*/dist changed during the bench, runs may mix two builds" : ""}`,
    "",
    "## How it is measured",
    "",
    "Every row compares flavours of the same generated suite: files of `ls.test` cases, each calling a",
    "small traced app (`app` → `retrieve`, `generate` → `format`: 4 `traceable` spans) and logging one",
    "`correctness` feedback. Each sample is one whole runner process (`vitest run`, `jest --ci`) against",
    "a fresh LangSmith stand-in (the `@tally/store` server, delaying every response by the row's latency);",
    "what arrived is counted over HTTP afterwards with `POST /runs/stats` (root runs, child spans and the",
    "feedback on the root runs of the dataset's experiments).",
    "",
    "- **baseline**: plain Vitest / Jest running the same test bodies through a stand-in `ls` that wraps",
    "  `test`/`describe` and imports nothing from langsmith, with **tracing off**: no `LANGSMITH_TRACING`,",
    "  no API key, no endpoint, so nothing is sent (its runs column shows the requests the stand-in got).",
    "  The generated app still imports `traceable` from `langsmith/traceable`, as a user's app does; with",
    "  tracing off it records nothing. This is the test run a user has before adding any LangSmith tracking.",
    "- **Tally**: `@tally/vitest-plugin` (or `@tally/jest-preset`) with `LANGSMITH_TRACING=true`, the",
    "  stand-in's endpoint and a key.",
    "- **SDK tracing alone (no Tally)**: the baseline's suite with `LANGSMITH_TRACING=true`, endpoint and",
    "  key: the app's traceables post their traces to the default project, in no experiment. For context:",
    "  this is what earlier versions of this bench called the baseline. Its runs column counts root runs",
    "  (one `app` trace per test) and its spans column every run (4 per test); it logs no feedback.",
    "  The SDK sends from a timer, in batches, and nothing in a plain test run waits for them: whatever",
    "  is still queued when a worker exits is lost, which its delivered counts show.",
    "- **official**: `langsmith/vitest` (or `langsmith/jest`), same environment as Tally.",
    "- **tracking off**: Tally's suite with `LANGSMITH_TEST_TRACKING=false`, the endpoint and key set and",
    "  `LANGSMITH_TRACING` unset: the cost of having the plugin installed and switched off.",
    "",
    "Each row's flavours run in rounds, one sample of each per round, in an order that rotates every round",
    "so that machine noise hits each alike; one untimed warm-up run per suite comes first. A row's ratio",
    "is the median over rounds of (flavour's wall time / the reference's wall time in the same round);",
    "the reference is the baseline, except in the backend-down row (Tally with the backend up). Samples:",
    "3 per flavour, except the official integration at 300 ms (it waits on a round trip per test, ~90 s)",
    "and the SDK alone at 10,000 tests: once each. A sample that failed (non-zero exit, crash, timeout)",
    "is listed as such and left out of the times and ratios, unless every sample of its flavour failed;",
    "the backend-down row's peak RSS target counts every sample.",
    "",
    "Peak RSS is GNU time's (`/usr/bin/time -v`) maximum resident set size: for Vitest's thread pool that",
    "is the vitest process with all its worker threads; where workers are child processes (Jest; Vitest's",
    "default forks pool in the 8×10 rows) it is the largest single process, not the sum.",
    "",
    `The 8×10 rows run with the runner's default workers${workers ? ` (here \`--maxWorkers=${workers}\`)` : `: on ${nproc} CPUs that is ${defaultWorkers} (\`nproc − 1\`)`};`,
    "Jest always with `--forceExit` (a langsmith client that traced leaves a batching timer that Jest",
    "would wait for). The 1,000 and 10,000-test rows are 20 files × 50 and × 500 tests with",
    "`--pool=threads --maxWorkers=4`, 0 ms latency.",
    "",
    "The backend-down row points `LANGSMITH_ENDPOINT` at a loopback port where nothing listens",
    "(connection refused) with a key set; each sample has its own `TALLY_DIR`, so its own spool. After",
    "the run a fresh stand-in listens on that same port (a spool goes back to the endpoint it was",
    "recorded for) and `tally flush --dir <that TALLY_DIR>` sends it; its column shows what arrived",
    "during the run → after the flush. Its samples time out after 120 s (killed, reported as such).",
    "",
    mdTable(header, table),
    "",
    ...(statsTable.length > 0
      ? [
          "The end-of-run statistics (row `stats`, no runner): what the run's report computes once the tests",
          "have run, for 10,000 tests × 3 trials against a baseline as large: the experiment's spread",
          "(`spreadOf`: the pass rate's Wilson interval, each key's bootstrap interval over examples, pass@k",
          "and pass^k per example) and the noise-aware comparison (`compareVerdicts`: paired bootstrap",
          "intervals and permutation p-values of the pass rate and each key), 2,000 resamples, by",
          "`test/bench/stats-perf.ts` in a fresh process per sample, each case's processes alternating. The",
          "first call is what a run's end pays (nothing compiled yet); the warm calls are the same process's",
          "next five.",
          "",
          mdTable(statsHeader, statsTable),
          "",
        ]
      : []),
    "Expected per tracked flavour and test: one root run, 4 child spans and 2 feedback (the suite's",
    "`correctness` plus the `pass` that both integrations log).",
    "",
    "Upstream bytes are the request bodies the stand-in received during the run, before and after the",
    "client's compression (the stand-in advertises zstd and gzip, as LangSmith does). For Tally that is",
    "what its sender (and experiment set-up) put on the wire; its workers send to the loopback collector",
    "uncompressed. For the official integration and the SDK alone it is what the workers' langsmith",
    "clients sent.",
    "",
    "## Targets",
    "",
    ...checks.map((c) => `- ${c.replace(/\s+/g, " ")}`),
    "",
    "## Every timed run",
    "",
    "In the order they ran; the last column is the runner's own summary line (Vitest's Duration, Jest's Time).",
    "",
    "| row | round | flavour | wall time | exit | peak RSS | runs | runner's summary |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...log,
    "",
  ].join("\n");
}

// ---- helpers ---------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The sample with the median wire size (so its raw size and encodings belong to the same run). */
function medianBytes(xs: UpstreamBytes[]): UpstreamBytes {
  return [...xs].sort((a, b) => a.wire - b.wire)[(xs.length - 1) >> 1]!;
}

/** "1.2 MB raw → 210 kB zstd", or "1.2 MB raw, uncompressed". */
function bytesLine(b: UpstreamBytes): string {
  return b.encodings.length === 0 ? `${kb(b.raw)} raw, uncompressed` : `${kb(b.raw)} raw → ${kb(b.wire)} ${b.encodings.join("+")}`;
}

/** Bytes in SI units, as `ls -h --si` and network tools print them. */
function kb(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)} kB`;
  return `${(n / 1_000_000).toFixed(1)} MB`;
}

/** Resident memory in MiB (as `time` and `top` count it). */
function mb(n: number | undefined): string {
  return n === undefined ? "?" : `${Math.round(n)} MB`;
}

function sec(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function ms(n: number): string {
  return `${Math.round(n)} ms`;
}

/** "80", or "78–80" when samples disagree. */
function spread(xs: number[], suffix = ""): string {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return (lo === hi ? `${lo}` : `${lo}–${hi}`) + suffix;
}

function pkgVersion(file: string): string {
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}

/** Newest modification time among the built files Tally runs from. */
function distStamp(): number {
  let newest = 0;
  const walk = (dir: string) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const pkg of ["core", "store", "vitest-plugin", "jest-preset"]) walk(join(REPO, "packages", pkg, "dist"));
  return newest;
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

function indent(text: string): string {
  return text.replace(/^/gm, "    ");
}
