import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startServer } from "../../packages/store/dist/index.js";
import { resentRuns, startFaultProxy, type Fault, type FaultProxy } from "./fault-proxy.ts";
import { withReads, type Run } from "./reads.ts";
import { cleanEnv, jestArgv, MATRIX, REPO, runJest, runNode, runVitest, vitestArgv, type ProcessResult } from "./run-vitest.ts";
import { generateSuite, type GeneratedSuite, type SuiteSpec } from "./suite.ts";

// The delivery scenarios of docs/reliability.md: a generated suite run by real vitest or jest, its
// collector sending through a fault-injecting proxy to the project's server. The e2e tests assert on
// the outcomes; `pnpm reliability` prints them as the document's table. No vitest imports, so that
// Node runs this file directly for the script.

export type Runner = "vitest" | "jest";

/** An API key shaped like a real one: every scenario also checks it never appears in what Tally writes. */
export const SECRET_KEY = "lsv2_pt_0123456789abcdef0123456789abcdef_tallysecret";

export interface FaultScenario {
  id: string;
  injected: string;
  faults: Fault[];
  rate: number;
  slowMs?: number;
}

export const FAULT_SCENARIOS: FaultScenario[] = [
  { id: "no faults (reference)", injected: "nothing", faults: [], rate: 0 },
  {
    id: "rate limited",
    injected: "429 on 30 % of requests, half of them with `Retry-After: 1`",
    faults: ["429", "429-retry-after"],
    rate: 0.3,
  },
  { id: "server errors", injected: "500, 502 or 503 on 30 % of requests", faults: ["500", "502", "503"], rate: 0.3 },
  { id: "slow backend", injected: "30 % of requests answered after 2 s", faults: ["slow"], rate: 0.3, slowMs: 2_000 },
  {
    id: "dropped connections",
    injected: "30 % of connections dropped: half before the backend saw the request, half after it processed it",
    faults: ["drop", "drop-after"],
    rate: 0.3,
  },
];

export interface Delivery {
  experiments: number;
  /** Root runs of the experiment (one per test). */
  runs: number;
  /** Root runs whose id appears more than once in the backend. */
  duplicateRows: number;
  spans: number;
  feedback: number;
  /** Root runs whose example is in the dataset. */
  linked: number;
}

export interface Outcome {
  runner: Runner;
  expected: number;
  delivery: Delivery;
  /** Runs the backend accepted more than once (a retry after a lost answer); upserted by id. */
  resent: number;
  injected: number;
  requests: number;
  wallMs: number;
  result: ProcessResult;
  /** Spool folders left in `<suite>/.tally/spool` after the run. */
  spoolLeft: number;
  /** Files under the suite's `.tally/` (spool, store, setup) that contain SECRET_KEY. */
  keyInFiles: string[];
}

const SMALL: Pick<SuiteSpec, "files" | "tests"> = { files: 4, tests: 5 };

export function suiteDir(name: string, runner: Runner): string {
  return join(MATRIX, runner === "jest" ? "jest30" : "vitest4", ".suites", `reliability-${name.replace(/\W+/g, "-")}`);
}

/** The backend's environment for a run: `endpoint` with the key, or none at all (the embedded store). */
function backendEnv(endpoint: string | undefined): Record<string, string> {
  return endpoint ? { LANGSMITH_API_KEY: SECRET_KEY, LANGSMITH_ENDPOINT: endpoint, LANGSMITH_TRACING: "true" } : {};
}

/** Runs the suite once with the runner's own binary, against `endpoint` (undefined: the embedded store). */
export function runSuite(
  runner: Runner,
  suite: GeneratedSuite,
  endpoint: string | undefined,
  env: Record<string, string> = {},
  args: string[] = [],
) {
  const vars = { ...backendEnv(endpoint), ...env };
  // Jest's default reporter goes to stderr, like Tally's lines under Jest: one string to search.
  return runner === "jest" ? runJest("jest30", suite.dir, args, vars) : runVitest("vitest4", suite.dir, args, vars);
}

export async function runFaultScenario(s: FaultScenario, runner: Runner): Promise<Outcome> {
  const backend = await startBackendServer();
  const proxy = await startFaultProxy({ target: backend.url, faults: s.faults, rate: s.rate, slowMs: s.slowMs, seed: 7 });
  try {
    const suite = generateSuite(suiteDir(s.id, runner), { flavour: "tally", runner, ...SMALL, dataset: `reliability-${runner}` });
    const result = await runSuite(runner, suite, proxy.url);
    return await outcome(runner, suite, result, backend, proxy);
  } finally {
    await proxy.close();
    await backend.close();
  }
}

export async function outcome(
  runner: Runner,
  suite: GeneratedSuite,
  result: ProcessResult,
  backend: Reads,
  proxy: FaultProxy,
): Promise<Outcome> {
  const injected = Object.values(proxy.stats.injected).reduce((a, b) => a + (b ?? 0), 0);
  return {
    runner,
    expected: suite.expectedRuns,
    delivery: await delivered(backend, suite.dataset),
    resent: resentRuns(proxy.stats),
    injected,
    requests: proxy.stats.requests,
    wallMs: result.ms,
    result,
    spoolLeft: spoolFolders(suite.dir).length,
    keyInFiles: filesContaining(join(suite.dir, ".tally"), SECRET_KEY),
  };
}

export type Reads = ReturnType<typeof withReads>;

export async function startBackendServer(): Promise<Reads> {
  const server = await startServer({});
  return withReads(server.url, () => server.close());
}

/** What the backend holds for a dataset's experiment(s), counted over HTTP. */
export async function delivered(backend: Reads, dataset: string): Promise<Delivery> {
  const [ds] = await backend.datasets(dataset);
  if (!ds) return { experiments: 0, runs: 0, duplicateRows: 0, spans: 0, feedback: 0, linked: 0 };
  const experiments = await backend.experimentsOf(ds.id);
  const runs: Run[] = [];
  for (const e of experiments) runs.push(...(await backend.runsOf(e.id)));
  const roots = runs.filter((r) => !r.parent_run_id);
  const examples = new Set((await backend.examplesOf(ds.id)).map((e: { id: string }) => e.id));
  const feedback = roots.length > 0 ? await backend.feedbackFor(roots.map((r) => r.id)) : [];
  return {
    experiments: experiments.length,
    runs: roots.length,
    duplicateRows: roots.length - new Set(roots.map((r) => r.id)).size,
    spans: runs.length - roots.length,
    feedback: feedback.length,
    linked: roots.filter((r) => r.reference_example_id && examples.has(r.reference_example_id)).length,
  };
}

export function spoolFolders(suiteDir: string): string[] {
  const root = join(suiteDir, ".tally", "spool");
  return existsSync(root) ? readdirSync(root) : [];
}

/** Runs `tally flush` in a suite's folder (the CLI of the repo's store package). */
export function tallyFlush(dir: string, endpoint: string): Promise<ProcessResult> {
  const bin = join(REPO, "packages", "store", "bin", "tally.mjs");
  return runNode([bin, "flush"], dir, backendEnv(endpoint));
}

/** Every file under `dir` whose bytes contain `needle`. */
export function filesContaining(dir: string, needle: string): string[] {
  if (!existsSync(dir)) return [];
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && readFileBytes(p).includes(needle)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}

function readFileBytes(p: string): string {
  return readFileSync(p).toString("latin1");
}

/** The end of a run stops retrying after this long without progress (the default is 10 s). */
export const STALL = { TALLY_DRAIN_STALL_MS: "3000" };

export interface DownOutcome {
  /** The run while the backend was down. */
  down: Outcome;
  /** After the backend came back and `then` sent the spool. */
  after: Outcome;
  then: "tally flush" | "next run";
  thenOutput: string;
}

/**
 * Backend down for a whole run; then back, and the spool is sent by `tally flush` or by the next
 * test run (which also records its own experiment).
 */
export async function runBackendDown(runner: Runner, then: DownOutcome["then"]): Promise<DownOutcome> {
  const backend = await startBackendServer();
  const proxy = await startFaultProxy({ target: backend.url, faults: [], rate: 0, down: true });
  try {
    const suite = generateSuite(suiteDir(`down-${then}`, runner), { flavour: "tally", runner, ...SMALL, dataset: `down-${runner}` });
    const first = await runSuite(runner, suite, proxy.url, STALL);
    const down = await outcome(runner, suite, first, backend, proxy);
    proxy.setDown(false);
    const second = then === "tally flush" ? await tallyFlush(suite.dir, proxy.url) : await runSuite(runner, suite, proxy.url, STALL);
    const after = await outcome(runner, suite, second, backend, proxy);
    return { down, after, then, thenOutput: second.stdout + second.stderr };
  } finally {
    await proxy.close();
    await backend.close();
  }
}

export interface KilledOutcome {
  /** Root runs of tests the collector had acknowledged when the main process was killed. */
  acknowledged: string[];
  /** Of those, the ones in the backend after `tally flush`. */
  deliveredAfterFlush: string[];
  flushOutput: string;
  spoolLeft: number;
}

/**
 * `kill -9` of the runner's main process mid-run, with the backend unreachable so that nothing
 * acknowledged has left yet; then `tally flush` with the backend back.
 */
export async function runMainKilled(runner: Runner): Promise<KilledOutcome> {
  const backend = await startBackendServer();
  const proxy = await startFaultProxy({ target: backend.url, faults: [], rate: 0, down: true });
  try {
    const suite = generateSuite(suiteDir("killed", runner), { flavour: "tally", runner, ...SMALL, dataset: `killed-${runner}` });
    // A last file that outlives the kill: the run is still in progress when the process dies.
    const ext = runner === "jest" ? "ts" : "mjs";
    const head = runner === "jest" ? "" : `import { test } from "vitest";\n`;
    writeFileSync(
      join(suite.dir, "evals", `zz-slow.test.${ext}`),
      `${head}test("slow", () => new Promise((r) => setTimeout(r, 60000)), 70000);\n`,
    );
    const argv = runner === "jest" ? jestArgv("jest30", ["--runInBand"]) : vitestArgv("vitest4", ["--maxWorkers=2"]);
    const child = spawn(process.execPath, argv, {
      cwd: suite.dir,
      env: cleanEnv(backendEnv(proxy.url)),
      stdio: "ignore",
      detached: true,
    });
    const exited = new Promise((r) => child.on("exit", r));
    // Wait until every ls.test file's runs are in the spool (acknowledged), then kill the whole group.
    const deadline = Date.now() + 60_000;
    let acknowledged: string[] = [];
    while (Date.now() < deadline) {
      acknowledged = spooledRootRuns(suite.dir);
      if (acknowledged.length >= suite.expectedRuns) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(-child.pid!, "SIGKILL");
    await exited;
    proxy.setDown(false);
    const flushed = await tallyFlush(suite.dir, proxy.url);
    const present = new Set((await backend.allRootRunIds()).map(String));
    return {
      acknowledged,
      deliveredAfterFlush: acknowledged.filter((id) => present.has(id)),
      flushOutput: flushed.stdout + flushed.stderr,
      spoolLeft: spoolFolders(suite.dir).length,
    };
  } finally {
    await proxy.close();
    await backend.close();
  }
}

/** The lines of run records in a suite's spools, as written (JSON, one record each). */
export function spooledRunLines(dir: string): string[] {
  return spoolFolders(dir).flatMap((folder) => {
    const file = join(dir, ".tally", "spool", folder, "records.jsonl");
    return existsSync(file)
      ? readFileSync(file, "utf8")
          .split("\n")
          .filter((line) => line.includes('"t":"run"'))
      : [];
  });
}

/** Root run creates the spool holds (what the collector acknowledged to workers). */
export function spooledRootRuns(dir: string): string[] {
  const ids = new Set<string>();
  for (const line of spooledRunLines(dir)) {
    try {
      const rec = JSON.parse(line) as {
        op?: { kind: string; run: { id: string; parent_run_id?: string | null; reference_example_id?: string } };
      };
      const run = rec.op?.run;
      if (run && !run.parent_run_id && run.reference_example_id) ids.add(run.id);
    } catch {
      // A line being written right now.
    }
  }
  return [...ids];
}

export interface ConcurrentOutcome {
  results: ProcessResult[];
  /** Root runs per experiment of the dataset, in the local store both runs share. */
  runsPerExperiment: number[];
  duplicateRows: number;
  expectedPerRun: number;
}

/** Two runs of the same suite at the same time in the same project, on the embedded store. */
export async function runTwoAtOnce(runner: Runner): Promise<ConcurrentOutcome> {
  const suite = generateSuite(suiteDir("two-at-once", runner), { flavour: "tally", runner, ...SMALL, dataset: `two-${runner}` });
  const results = await Promise.all([runSuite(runner, suite, undefined), runSuite(runner, suite, undefined)]);
  const server = await startServer({ dbPath: join(suite.dir, ".tally", "tally.db") });
  const store = withReads(server.url, () => server.close());
  try {
    const [ds] = await store.datasets(suite.dataset);
    const experiments = ds ? await store.experimentsOf(ds.id) : [];
    const perExperiment: number[] = [];
    let duplicateRows = 0;
    for (const e of experiments) {
      const roots = (await store.runsOf(e.id)).filter((r) => !r.parent_run_id);
      perExperiment.push(roots.length);
      duplicateRows += roots.length - new Set(roots.map((r) => r.id)).size;
    }
    return { results, runsPerExperiment: perExperiment, duplicateRows, expectedPerRun: suite.expectedRuns };
  } finally {
    await store.close();
  }
}

export interface Crash {
  id: string;
  injected: string;
  /** The body of the crashing `ls.test` and its timeout. */
  body: string;
  timeoutMs?: number;
  /** Extra runner arguments. */
  args?: Record<Runner, string[]>;
}

export const CRASHES: Crash[] = [
  { id: "process.exit", injected: "a test calls `process.exit(3)`", body: "process.exit(3);" },
  {
    id: "uncaught exception",
    injected: "a test throws from a timer (an uncaught exception)",
    body: `setTimeout(() => { throw new Error("uncaught boom"); }, 0); await new Promise((r) => setTimeout(r, 100));`,
  },
  {
    id: "test timeout",
    injected: "a test never settles and hits its 500 ms timeout",
    body: "await new Promise(() => {});",
    timeoutMs: 500,
  },
  {
    id: "bail",
    injected: "a failing test with `--bail=1` (Jest: `--bail`)",
    body: `throw new Error("fails, and the run bails");`,
    args: { vitest: ["--bail=1"], jest: ["--bail"] },
  },
];

export interface CrashOutcome {
  delivery: Delivery;
  /** Tests the runner reports as run (passed or failed). */
  ran: string[];
  /** Of those, the ones whose run is not in the backend. */
  missing: string[];
  /** Of the missing, those the end of the run names (the test, or its file's worker). */
  namedMissing: string[];
  /** Healthy files' tests delivered, of those that ran. */
  healthyDelivered: number;
  healthyRan: number;
  result: ProcessResult;
  wallMs: number;
}

/** A suite with one file whose third test crashes its worker (or the run) in the way `c` says. */
export async function runCrash(c: Crash, runner: Runner): Promise<CrashOutcome> {
  const backend = await startBackendServer();
  try {
    const dataset = `crash-${runner}`;
    const jestOptions = `workerIdleMemoryLimit: "1GB",`; // workers even when Jest's cache says "in band"
    const suite = generateSuite(suiteDir(`crash-${c.id}`, runner), { flavour: "tally", runner, files: 3, tests: 4, dataset, jestOptions });
    const ext = runner === "jest" ? "ts" : "mjs";
    const imp = runner === "jest" ? `import * as ls from "@tally/jest-preset";` : `import * as ls from "@tally/vitest-plugin";`;
    const t = (name: string, body: string, timeout = "") =>
      `  ls.test(${JSON.stringify(name)}, { inputs: { q: ${JSON.stringify(name)} } }, async () => { ${body} }${timeout});`;
    writeFileSync(
      join(suite.dir, "evals", `crash.test.${ext}`),
      `${imp}\nls.describe(${JSON.stringify(dataset)}, () => {\n` +
        [
          t("crash file: before 0", "return { ok: 0 };"),
          t("crash file: before 1", "return { ok: 1 };"),
          t("crash file: the crash", c.body, c.timeoutMs ? `, ${c.timeoutMs}` : ""),
          t("crash file: after", "return { ok: 2 };"),
        ].join("\n") +
        `\n});\n`,
    );
    const json = join(suite.dir, "results.json");
    // Jest leaves the JSON out when it bails; its verbose lines say the same.
    const jsonArgs =
      runner === "jest"
        ? ["--json", `--outputFile=${json}`, "--verbose"]
        : ["--reporter=default", "--reporter=json", `--outputFile=${json}`];
    const result = await runSuite(runner, suite, backend.url, {}, ["--maxWorkers=2", ...jsonArgs, ...(c.args?.[runner] ?? [])]);
    const output = result.stdout + result.stderr;
    const ran = existsSync(json) ? testsThatRan(JSON.parse(readFileSync(json, "utf8"))) : testsInVerboseOutput(output);
    const [ds] = await backend.datasets(dataset);
    const exps = ds ? await backend.experimentsOf(ds.id) : [];
    const names = new Set<string>();
    for (const e of exps) for (const r of await backend.runsOf(e.id)) if (!r.parent_run_id) names.add(r.name);
    const missing = ran.filter((r) => !names.has(r.title));
    const namedMissing = missing.filter(
      (m) =>
        output.split("\n").some((l) => l.includes("missing run:") && l.includes(m.title)) ||
        output.split("\n").some((l) => l.includes("worker stopped before its final flush") && l.includes(m.file)),
    );
    const healthy = ran.filter((r) => !r.file.includes("crash.test"));
    return {
      delivery: await delivered(backend, dataset),
      ran: ran.map((r) => r.title),
      missing: missing.map((m) => m.title),
      namedMissing: namedMissing.map((m) => m.title),
      healthyRan: healthy.length,
      healthyDelivered: healthy.filter((h) => names.has(h.title)).length,
      result,
      wallMs: result.ms,
    };
  } finally {
    await backend.close();
  }
}

/** Tests a Jest-format JSON report (Vitest's json reporter writes the same) says ran. */
function testsThatRan(report: { testResults?: Array<{ name: string; assertionResults?: Array<{ title: string; status: string }> }> }) {
  const out: Array<{ file: string; title: string }> = [];
  for (const f of report.testResults ?? []) {
    for (const a of f.assertionResults ?? []) {
      if (a.status === "passed" || a.status === "failed") out.push({ file: f.name.replace(/^.*\/evals\//, "evals/"), title: a.title });
    }
  }
  return out;
}

/** Tests Jest's `--verbose` lines say ran: `✓ title (N ms)` / `✕ title` under `PASS|FAIL <file>`. */
function testsInVerboseOutput(output: string) {
  const out: Array<{ file: string; title: string }> = [];
  let file = "";
  for (const line of output.split("\n")) {
    const header = line.match(/^(?:PASS|FAIL) (\S+)/);
    if (header) file = header[1]!;
    const t = line.match(/^\s+[✓✕√×] (.+?)(?: \(\d+ ms\))?$/);
    if (t && file) out.push({ file, title: t[1]! });
  }
  return out;
}
