// `pnpm bench`: the same eval suite (8 files × 10 tests, nested traceables, feedback) run side by
// side under no tracking (baseline), Tally, and the official `langsmith/vitest` on real Vitest 4.1 —
// and the same three on Jest 30 (`@tally/jest-preset`, `langsmith/jest`; Jest's default workers) —
// against the project's LangSmith stand-in with 0 ms and 300 ms of latency per response. Each run
// gets a fresh server, so what it delivered is counted over HTTP without mixing runs.
//
//   node test/bench/run.ts            full bench (≈ 4 min on 2 cores); writes docs/bench.md
//   node test/bench/run.ts --quick    1 repetition each, 0 ms only; prints, writes nothing
//   … --workers=N                     --maxWorkers=N (default: the runner's, nproc − 1)
//   … --runner=vitest|jest            one runner only (default: both; the targets are Vitest's)
//
// The bench reports; it never exits non-zero because a target was missed.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { startServer } from "../../packages/store/dist/index.js";
import { withReads } from "../support/reads.ts";
import { MATRIX, REPO, runJest, runVitest } from "../support/run-vitest.ts";
import { generateSuite, type SuiteFlavour } from "../support/suite.ts";
import { codeVersion, mdTable, nprocOf, textTable } from "../support/doc-tables.ts";

const FLAVOURS: SuiteFlavour[] = ["baseline", "tally", "official"];
type Runner = "vitest" | "jest";
const LABELS: Record<Runner, Record<SuiteFlavour, string>> = {
  vitest: { baseline: "baseline (no tracking)", tally: "Tally", official: "official langsmith/vitest" },
  jest: { baseline: "Jest baseline (no tracking)", tally: "Tally (Jest preset)", official: "official langsmith/jest" },
};
const TARGETS: Record<number, number> = { 0: 1.1, 300: 1.25 };
const API_KEY = "fake-key";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
/** `--workers=N`: passed to vitest as --maxWorkers (default: Vitest's own, nproc − 1). */
const workers = args.find((a) => a.startsWith("--workers="))?.slice("--workers=".length);
/** `--runner=vitest|jest`: one runner only (default: both; the targets are Vitest's). */
const runnerArg = args.find((a) => a.startsWith("--runner="))?.slice("--runner=".length);
const RUNNERS: Runner[] = runnerArg === "vitest" || runnerArg === "jest" ? [runnerArg] : ["vitest", "jest"];
const unknown = args.filter((a) => a !== "--quick" && !a.startsWith("--workers=") && !a.startsWith("--runner="));
if (unknown.length > 0 || (workers !== undefined && !/^\d+$/.test(workers))) {
  console.error(`usage: node test/bench/run.ts [--quick] [--workers=N]   (unknown: ${unknown.join(" ")})`);
  process.exit(2);
}
const vitestArgs = workers ? [`--maxWorkers=${workers}`] : [];

const LATENCIES = quick ? [0] : [0, 300];
/** Repetitions per latency and flavour. The official one waits on round trips per test (~90 s at 300 ms): once there. */
function repetitions(latency: number, flavour: SuiteFlavour): number {
  if (quick) return 1;
  return flavour === "official" && latency > 0 ? 1 : 3;
}

interface Delivered {
  experiments: number;
  runs: number;
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

interface Sample extends Delivered {
  ms: number;
  code: number | null;
  /** Vitest's own "Duration … (transform …, setup …, import …, tests …)" line. */
  duration: string;
  bytes: UpstreamBytes;
}

const expected = { runs: 0, spans: 0, feedback: 0 };

/** One vitest run of one flavour against a fresh server. */
async function runOnce(runner: Runner, flavour: SuiteFlavour, latency: number, tag: string): Promise<Sample> {
  const server = await startServer({ latencyMs: latency });
  const LABEL = LABELS[runner];
  try {
    const pkg = runner === "jest" ? "jest30" : "vitest4";
    const suite = generateSuite(join(MATRIX, pkg, ".suites", `bench-${flavour}-${latency}`), { flavour, runner });
    expected.runs = suite.expectedRuns;
    expected.spans = suite.expectedRuns * suite.expectedSpansPerRun;
    // Per test: the suite's `correctness`, plus the `pass` feedback both integrations log themselves.
    expected.feedback = suite.expectedRuns * 2;
    const env = { LANGSMITH_API_KEY: API_KEY, LANGSMITH_ENDPOINT: server.url, LANGSMITH_TRACING: "true" };
    // --forceExit for every Jest flavour: the untracked baseline's langsmith client leaves a batching
    // timer behind, and Jest would wait for it ("did not exit one second after the test run").
    const r =
      runner === "jest"
        ? await runJest(pkg, suite.dir, [...vitestArgs, "--forceExit"], env)
        : await runVitest(pkg, suite.dir, vitestArgs, env);
    // Before countDelivered: its own queries have bodies too.
    const bytes = upstreamBytes(server.stats);
    const delivered = await countDelivered(server.url, suite.dataset);
    const duration = (runner === "jest" ? /Time:\s+(.*)/.exec(r.stderr) : /Duration\s+(.*)/.exec(r.stdout))?.[1]?.trim() ?? "?";
    const sample: Sample = { ms: r.ms, code: r.code, duration, bytes, ...delivered };
    const status = r.code === 0 ? "" : `  EXIT ${r.code}`;
    console.log(
      `  ${tag.padEnd(12)} ${LABEL[flavour].padEnd(26)} ${sec(r.ms).padStart(7)}  ` +
        `${delivered.runs}/${expected.runs} runs · ${delivered.experiments} exp · ${delivered.spans} spans · ${delivered.feedback} fb` +
        `${flavour === "baseline" ? "" : ` · upstream bytes: ${bytesLine(bytes)}`}   [${runner}: ${duration}]${status}`,
    );
    if (r.code !== 0) console.log(indent(tail(`${r.stdout}\n${r.stderr}`, 40)));
    return sample;
  } finally {
    await server.close();
  }
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

/** "1.2 MB raw → 210 kB zstd", or "1.2 MB raw, uncompressed". */
function bytesLine(b: UpstreamBytes): string {
  return b.encodings.length === 0 ? `${kb(b.raw)} raw, uncompressed` : `${kb(b.raw)} raw → ${kb(b.wire)} ${b.encodings.join("+")}`;
}

/** What reached the server for the dataset, read over HTTP as any LangSmith client would. */
async function countDelivered(url: string, datasetName: string): Promise<Delivered> {
  const reads = withReads(url, async () => {});
  const [dataset] = await reads.datasets(datasetName);
  const sessions = dataset ? await reads.experimentsOf(dataset.id) : [];
  if (sessions.length === 0) return { experiments: 0, runs: 0, spans: 0, feedback: 0 };
  const runs = (await Promise.all(sessions.map((s) => reads.runsOf(s.id)))).flat();
  const roots = runs.filter((r) => !r.parent_run_id);
  const feedback = await reads.feedbackFor(roots.map((r) => r.id));
  return { experiments: sessions.length, runs: roots.length, spans: runs.length - roots.length, feedback: feedback.length };
}

// ---- run the plan ----------------------------------------------------------------------------

const started = Date.now();
const vitestVersion = pkgVersion(join(MATRIX, "vitest4", "node_modules", "vitest", "package.json"));
const langsmithVersion = pkgVersion(join(MATRIX, "vitest4", "node_modules", "langsmith", "package.json"));
const nproc = nprocOf();
console.log(
  `tally bench: vitest ${vitestVersion} · langsmith ${langsmithVersion} · node ${process.version} · ${nproc} CPUs` +
    `${workers ? ` · --maxWorkers=${workers}` : ""}${quick ? " · --quick" : ""}`,
);

const code = codeVersion();
const distAtStart = distStamp();

// Timings mean little on a busy machine: say so up front rather than afterwards.
const loadAtStart = loadavg()[0]!;
if (loadAtStart > 0.5 * Number(nproc)) {
  console.log(`warning: load average ${loadAtStart.toFixed(2)} on ${nproc} CPUs: other work is running, timings will be noisy`);
}

const samples = new Map<string, Sample[]>();
/** Every timed run in the order it ran, for the log in docs/bench.md. */
const log: string[] = [];
const key = (runner: Runner, latency: number, flavour: SuiteFlavour) => `${runner}:${latency}:${flavour}`;

/** Warm-up, then every latency's rounds, for one runner's three flavours. */
async function benchRunner(runner: Runner): Promise<void> {
  const LABEL = LABELS[runner];
  // Untimed warm-up: the first process after a while pays for cold disk caches and would skew
  // whichever flavour happened to go first.
  console.log(`\n${runner}: warm-up (not counted)`);
  for (const flavour of FLAVOURS) await runOnce(runner, flavour, 0, "warm-up");
  for (const latency of LATENCIES) {
    const rounds = Math.max(...FLAVOURS.map((f) => repetitions(latency, f)));
    for (let round = 0; round < rounds; round++) {
      console.log(`\n${runner} · ${latency} ms latency · round ${round + 1}/${rounds}`);
      // Rotate the order each round so machine noise (and any warm-up effect) hits every flavour alike.
      const order = FLAVOURS.map((_, i) => FLAVOURS[(i + round) % FLAVOURS.length]!);
      for (const flavour of order) {
        if (round >= repetitions(latency, flavour)) continue;
        const s = await runOnce(runner, flavour, latency, `run ${round + 1}`);
        samples.set(key(runner, latency, flavour), [...(samples.get(key(runner, latency, flavour)) ?? []), s]);
        log.push(
          `| ${latency} ms | ${round + 1} | ${LABEL[flavour]} | ${sec(s.ms)}${s.code === 0 ? "" : ` (exit ${s.code})`} | ` +
            `${flavour === "baseline" ? "—" : `${s.runs}/${expected.runs}`} | ${s.duration} |`,
        );
      }
    }
  }
}
for (const runner of RUNNERS) await benchRunner(runner);

// ---- report ----------------------------------------------------------------------------------

const header = [
  "latency",
  "flavour",
  "wall time: median (min–max, n)",
  "vs baseline",
  "runs delivered",
  "experiments",
  "spans",
  "feedback",
  "upstream bytes (median)",
];
const rows: string[][] = [];
const ratios = new Map<number, number>();
for (const runner of RUNNERS)
  for (const latency of LATENCIES) {
    const LABEL = LABELS[runner];
    const base = median(samples.get(key(runner, latency, "baseline"))!.map((s) => s.ms));
    for (const flavour of FLAVOURS) {
      const list = samples.get(key(runner, latency, flavour))!;
      const ms = list.map((s) => s.ms);
      const med = median(ms);
      const ratio = med / base;
      if (flavour === "tally" && runner === "vitest") ratios.set(latency, ratio);
      const failed = list.filter((s) => s.code !== 0).length;
      const range = list.length > 1 ? ` (${sec(Math.min(...ms))}–${sec(Math.max(...ms))}, n=${list.length})` : " (n=1)";
      rows.push([
        `${latency} ms`,
        LABEL[flavour] + (failed ? ` — ${failed} run(s) exited non-zero` : ""),
        sec(med) + range,
        flavour === "baseline" ? "1.00×" : `${ratio.toFixed(2)}×`,
        flavour === "baseline"
          ? "— (untracked)"
          : spread(
              list.map((s) => s.runs),
              `/${expected.runs}`,
            ),
        flavour === "baseline" ? "—" : spread(list.map((s) => s.experiments)),
        flavour === "baseline"
          ? "—"
          : spread(
              list.map((s) => s.spans),
              `/${expected.spans}`,
            ),
        flavour === "baseline"
          ? "—"
          : spread(
              list.map((s) => s.feedback),
              `/${expected.feedback}`,
            ),
        flavour === "baseline" ? "—" : bytesLine(medianBytes(list.map((s) => s.bytes))),
      ]);
    }
  }

const checks: string[] = [];
for (const latency of RUNNERS.includes("vitest") ? LATENCIES : []) {
  const target = TARGETS[latency]!;
  const ratio = ratios.get(latency)!;
  const pass = ratio <= target;
  checks.push(
    `${pass ? "PASS" : "FAIL"}  Tally ≤ ${target.toFixed(2)}× baseline at ${latency} ms: measured ${ratio.toFixed(2)}×` +
      (pass ? "" : "  ← target missed"),
  );
}
const missed = checks.some((c) => c.startsWith("FAIL"));
const totalSec = Math.round((Date.now() - started) / 1000);
const rebuilt = distStamp() !== distAtStart;
if (rebuilt) console.log("\nwarning: packages/*/dist changed while the bench ran (a rebuild): runs may mix two versions of Tally");
const load = `1-min load average ${loadAtStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end`;

console.log(`\n${textTable(header, rows)}`);
console.log("");
for (const c of checks) console.log(c);
if (missed) console.log("\nAt least one target was missed (the bench reports it; its exit code stays 0).");
console.log(`\nBench took ${totalSec} s (${load}).`);

if (!quick) {
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const md = [
    "# Benchmark",
    "",
    "Generated by `pnpm bench` (`node test/bench/run.ts`); do not edit by hand.",
    "",
    `- date: ${date}`,
    `- machine: ${nproc} CPUs (\`nproc\`), ${cpus()[0]?.model ?? "unknown CPU"}`,
    `- node ${process.version} · vitest ${vitestVersion} · langsmith ${langsmithVersion}`,
    `- ${load}; the bench took ${totalSec} s`,
    `- code: ${code}${rebuilt ? " — warning: packages/*/dist changed during the bench, runs may mix two builds" : ""}`,
    "",
    "The same suite (8 files × 10 `ls.test`, each calling a traced app with 4 nested spans and logging",
    "one `correctness` feedback) runs on real Vitest under three flavours: untracked (baseline), Tally",
    "(`@tally/vitest-plugin`) and the official `langsmith/vitest`. Each run gets a fresh LangSmith",
    "stand-in (`@tally/core` server) that delays every response by the given latency; all flavours run",
    "with `LANGSMITH_TRACING=true`. Wall time is the whole `vitest run` process; what was delivered is",
    "counted over HTTP afterwards (the dataset's experiments, their root runs, child spans, feedback).",
    "Baseline and Tally are repeated 3×, the official flavour 3× at 0 ms and once at 300 ms, with the",
    "order rotated each round; one untimed warm-up run per flavour comes first. The Jest rows run the",
    "same suite as TypeScript files (babel-jest) on Jest 30 under `@tally/jest-preset` and the official",
    "`langsmith/jest`, with Jest's default workers and `--forceExit` (without it the untracked baseline never",
    "exits: its langsmith client leaves a timer); the targets below are the Vitest plugin's. Vitest runs with",
    workers
      ? `\`--maxWorkers=${workers}\`.`
      : `its defaults: on ${nproc} CPUs that is ${Math.max(Number(nproc) - 1, 1)} worker(s) (\`nproc − 1\`), so here the 8 files run ${Number(nproc) - 1 > 1 ? "in parallel" : "one after another"}.`,
    "",
    mdTable(header, rows),
    "",
    "Expected per tracked flavour: one root run per test (80), 4 child spans each (320), and 2 feedback",
    "per test (160: the suite's `correctness` plus the `pass` that both integrations log).",
    "",
    "Upstream bytes are the request bodies the stand-in received during the run, before and after the",
    "client's compression (the stand-in advertises zstd and gzip, as LangSmith does). For Tally that is",
    "what its sender (and experiment set-up) put on the wire; its workers send to the loopback collector",
    "uncompressed. For the official integration it is what the workers' langsmith clients sent.",
    "",
    "## Targets",
    "",
    ...checks.map((c) => `- ${c.replace(/\s+/g, " ")}`),
    "",
    "## Every timed run",
    "",
    "In the order they ran; the last column is Vitest's own summary line.",
    "",
    "| latency | round | flavour | wall time | runs | vitest Duration |",
    "| --- | --- | --- | --- | --- | --- |",
    ...log,
    "",
  ].join("\n");
  writeFileSync(join(REPO, "docs", "bench.md"), md);
  console.log(`wrote docs/bench.md`);
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

/** Bytes in SI units, as `ls -h --si` and network tools print them. */
function kb(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)} kB`;
  return `${(n / 1_000_000).toFixed(1)} MB`;
}

function sec(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** "80/80", or "78–80/80" when repetitions disagree. */
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
  for (const pkg of ["core", "vitest-plugin"]) walk(join(REPO, "packages", pkg, "dist"));
  return newest;
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

function indent(text: string): string {
  return text.replace(/^/gm, "    ");
}
