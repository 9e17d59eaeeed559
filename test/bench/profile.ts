// Where does a tracked run's extra time go? Runs the bench suite under variants that add Tally one
// piece at a time, with probes that timestamp the phases of the vitest process and of its workers:
//
//   baseline      untracked tests, no plugin
//   plugin-only   untracked tests (baseline `ls`) + `plugins: [tally()]`: setup shim, collector, reporter, flush+ack
//   tracking-off  Tally's `ls` with LANGSMITH_TEST_TRACKING=false: as above + Tally's ls.test wrapper, untracked
//   tally         the full Tally flavour
//   tally-external  the same, with Tally's own dist files externalized (loaded by Node, not by Vitest's
//                 module runner), as they would be from node_modules rather than a workspace link
//
//   node test/bench/profile.ts [--latency=0] [--reps=2] [--variants=baseline,tally] [--timeline]
//
// (tally-external is not in the default set: it measured no difference.)
//
// Probes: a reporter (main process) and a setup file after Tally's (workers) that append JSON lines
// to <suite>/.probe/. Worker-side HTTP calls are timed by wrapping `fetch`; `context.annotate` too.
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startServer } from "../../packages/store/dist/index.js";
import { MATRIX, runVitest } from "../support/run-vitest.ts";
import { generateSuite } from "../support/suite.ts";

type Variant = "baseline" | "plugin-only" | "tracking-off" | "tally" | "tally-external";
const DEFAULT: Variant[] = ["baseline", "plugin-only", "tracking-off", "tally"];

const opt = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? dflt;
const latency = Number(opt("latency", "0"));
const reps = Number(opt("reps", "2"));
const variants = opt("variants", DEFAULT.join(",")).split(",") as Variant[];
/** Print the merged timeline (main, workers, backend requests) of each variant's last run. */
const timeline = process.argv.includes("--timeline");
const now = () => performance.timeOrigin + performance.now();

const PROBE_REPORTER = `import { appendFileSync, mkdirSync } from "node:fs";
const dir = new URL("./.probe/", import.meta.url).pathname;
mkdirSync(dir, { recursive: true });
const now = () => performance.timeOrigin + performance.now();
const ev = (e, x = {}) => appendFileSync(dir + "main.jsonl", JSON.stringify({ e, t: now(), ...x }) + "\\n");
ev("main-start", { t: performance.timeOrigin });
process.on("exit", () => ev("main-exit"));
export default class Probe {
  onInit() { ev("onInit"); }
  onTestRunStart() { ev("onTestRunStart"); }
  onTestModuleStart(m) { ev("moduleStart", { file: m.moduleId }); }
  onTestModuleEnd(m) { ev("moduleEnd", { file: m.moduleId }); }
  onTestRunEnd() {
    ev("onTestRunEnd");
    // Tally's reporter removes its worker variables from process.env once its finish() returned.
    const keys = () => Object.keys(process.env).filter((k) => k.startsWith("TALLY_")).length;
    if (keys() > 0) {
      const timer = setInterval(() => { if (keys() === 0) { clearInterval(timer); ev("tally-finish-returned", { path: "active handles: " + process.getActiveResourcesInfo().join(",") }); } }, 2);
      timer.unref();
    }
  }
}
export { ev };
`;

const PROBE_SETUP = `import { afterAll, beforeEach, afterEach } from "vitest";
import { appendFileSync, mkdirSync } from "node:fs";
const dir = new URL("./.probe/", import.meta.url).pathname;
mkdirSync(dir, { recursive: true });
const file = dir + "worker-" + process.pid + ".jsonl";
const now = () => performance.timeOrigin + performance.now();
const ev = (e, x = {}) => appendFileSync(file, JSON.stringify({ e, t: now(), pid: process.pid, ...x }) + "\\n");
if (!globalThis.__probe) {
  globalThis.__probe = true;
  ev("worker-start", { t: performance.timeOrigin });
  const original = globalThis.fetch;
  globalThis.fetch = async function (input, init) {
    const t0 = now();
    const url = typeof input === "string" ? input : input.url ?? String(input);
    try { return await original.call(this, input, init); }
    finally { ev("fetch", { t0, ms: now() - t0, path: new URL(url).pathname, method: init?.method ?? "GET" }); }
  };
}
ev("setup-loaded");
beforeEach((ctx) => {
  ev("test-start", { name: ctx.task.name });
  const annotate = ctx.annotate;
  if (typeof annotate === "function") {
    ctx.annotate = async function (...a) { const t0 = now(); try { return await annotate.apply(this, a); } finally { ev("annotate", { t0, ms: now() - t0 }); } };
  }
});
afterEach((ctx) => ev("test-end", { name: ctx.task.name }));
afterAll(() => ev("probe-afterAll"));
`;

interface Ev {
  e: string;
  t: number;
  pid?: number;
  ms?: number;
  t0?: number;
  path?: string;
  file?: string;
  name?: string;
}

async function runVariant(variant: Variant, showTimeline: boolean): Promise<Record<string, number>> {
  const backend: Ev[] = [];
  const server = await startServer({ latencyMs: latency, logger: (line) => backend.push({ e: "backend", t: now(), path: line }) });
  try {
    const flavour = variant === "baseline" || variant === "plugin-only" ? "baseline" : "tally";
    const dir = join(MATRIX, "vitest4", ".suites", `profile-${variant}`);
    generateSuite(dir, { flavour });
    writeFileSync(join(dir, "probe-reporter.mjs"), PROBE_REPORTER);
    writeFileSync(join(dir, "probe-setup.mjs"), PROBE_SETUP);
    const plugin = variant !== "baseline";
    writeFileSync(
      join(dir, "vitest.config.mjs"),
      `import Probe, { ev } from "./probe-reporter.mjs";\n` +
        (plugin ? `ev("plugin-import");\nconst { tally } = await import("@tally/vitest-plugin/plugin");\nev("plugin-imported");\n` : "") +
        `export default {\n  ${plugin ? "plugins: [tally()]," : ""}\n` +
        `  test: { include: ["evals/**/*.test.mjs"], testTimeout: 60000, hookTimeout: 60000, setupFiles: ["./probe-setup.mjs"], reporters: ["default", new Probe()],` +
        (variant === "tally-external" ? ` server: { deps: { external: [/\\/packages\\/(core|vitest-plugin)\\/dist\\//] } },` : "") +
        ` },\n};\n`,
    );
    rmSync(join(dir, ".probe"), { recursive: true, force: true });
    const r = await runVitest("vitest4", dir, [], {
      LANGSMITH_API_KEY: "fake-key",
      LANGSMITH_ENDPOINT: server.url,
      LANGSMITH_TRACING: "true",
      ...(variant === "tracking-off" ? { LANGSMITH_TEST_TRACKING: "false" } : {}),
    });
    const closedAt = Date.now();
    if (r.code !== 0) console.log(r.stdout.slice(-3000), r.stderr.slice(-3000));
    return analyse(dir, r.ms, closedAt, backend, showTimeline ? variant : undefined);
  } finally {
    await server.close();
  }
}

function read(file: string): Ev[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Ev);
}

function analyse(dir: string, wallMs: number, closedAt: number, backend: Ev[], timelineOf?: string): Record<string, number> {
  const probe = join(dir, ".probe");
  const main = read(join(probe, "main.jsonl"));
  const workers = readdirSync(probe)
    .filter((f) => f.startsWith("worker-"))
    .map((f) => read(join(probe, f)));
  const all = workers.flat();
  const at = (e: string) => main.find((x) => x.e === e)?.t ?? NaN;
  const first = (evs: Ev[], e: string) => Math.min(...evs.filter((x) => x.e === e).map((x) => x.t));
  const last = (evs: Ev[], e: string) => Math.max(...evs.filter((x) => x.e === e).map((x) => x.t));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

  const spawnedAt = closedAt - wallMs;
  if (timelineOf)
    printTimeline(timelineOf, [
      ...main.map((e) => ({ ...e, src: "main" })),
      ...workers.flatMap((w) => w.map((e) => ({ ...e, src: `worker ${e.pid}` }))),
      ...backend.map((e) => ({ ...e, src: "backend" })),
    ]);
  const lastBackend = backend.length ? backend[backend.length - 1]!.t : NaN;
  const perWorker = workers.map((w) => {
    const start = w.find((x) => x.e === "worker-start")!.t;
    const setup = w.find((x) => x.e === "setup-loaded")!.t;
    const tests = w.filter((x) => x.e === "test-start");
    const ends = w.filter((x) => x.e === "test-end");
    const probeAfterAll = w.find((x) => x.e === "probe-afterAll")?.t ?? NaN;
    const ack = w.find((x) => x.e === "fetch" && x.path === "/_tally/ack");
    return {
      startToSetup: setup - start,
      setupToFirstTest: first(tests, "test-start") - setup,
      testsSpan: last(ends, "test-end") - first(tests, "test-start"),
      lastTestToProbeAfterAll: probeAfterAll - last(ends, "test-end"),
      flushAck: ack ? ack.t - probeAfterAll : 0,
      startToFirstTest: first(tests, "test-start") - start,
      lifetime: Math.max(...w.map((x) => x.t)) - start,
      start,
      end: Math.max(...w.map((x) => x.t)),
    };
  });
  const byStart = [...perWorker].sort((a, b) => a.start - b.start);
  const gaps = byStart.slice(1).map((w, i) => w.start - byStart[i]!.end);
  const testMs = all
    .filter((x) => x.e === "test-end")
    .map((end) => end.t - all.find((s) => s.e === "test-start" && s.pid === end.pid && s.name === end.name)!.t);
  const fetches = (path: string) => all.filter((x) => x.e === "fetch" && x.path === path).map((x) => x.ms!);
  const register = fetches("/_tally/tests");
  const annotate = all.filter((x) => x.e === "annotate").map((x) => x.ms!);
  const firstWorker = first(all, "worker-start");
  const lastTestEnd = last(all, "test-end");
  return {
    "wall (parent-measured)": wallMs,
    "spawn → main process start": at("main-start") - spawnedAt,
    "main start → config evaluated (incl. plugin import)": at("onInit") - at("main-start"),
    "  of which plugin import": at("plugin-imported") - at("plugin-import") || 0,
    "onInit → onTestRunStart": at("onTestRunStart") - at("onInit"),
    "onTestRunStart → first worker process starts": firstWorker - at("onTestRunStart"),
    "first worker start → last test end": lastTestEnd - firstWorker,
    "last test end → onTestRunEnd": at("onTestRunEnd") - lastTestEnd,
    "onTestRunEnd → main process exit": at("main-exit") - at("onTestRunEnd"),
    "  onTestRunEnd → last backend request done": lastBackend - at("onTestRunEnd"),
    "  last backend request done → main exit": at("main-exit") - lastBackend,
    "backend requests (count)": backend.length,
    "main exit → parent sees close": closedAt - at("main-exit"),
    "workers (processes)": workers.length,
    "per worker: lifetime (start → last event)": mean(perWorker.map((w) => w.lifetime)),
    "per worker: gap to the next worker's start": mean(gaps),
    "per worker: start → first test": mean(perWorker.map((w) => w.startToFirstTest)),
    "per worker: start → setup files loaded": mean(perWorker.map((w) => w.startToSetup)),
    "per worker: setup loaded → first test": mean(perWorker.map((w) => w.setupToFirstTest)),
    "per worker: first test start → last test end": mean(perWorker.map((w) => w.testsSpan)),
    "per worker: last test end → probe afterAll": mean(perWorker.map((w) => w.lastTestToProbeAfterAll)),
    "per worker: Tally flush+ack (afterAll)": mean(perWorker.map((w) => w.flushAck)),
    "per test: mean duration (beforeEach → afterEach)": mean(testMs),
    "per test: registerTest POST /_tally/tests (mean)": mean(register),
    "per test: ctx.annotate (mean)": mean(annotate),
    "worker fetches (count)": all.filter((x) => x.e === "fetch").length,
    "worker fetch time (sum)": sum(all.filter((x) => x.e === "fetch").map((x) => x.ms!)),
  };
}

function printTimeline(variant: string, evs: Array<Ev & { src: string }>): void {
  evs.sort((a, b) => a.t - b.t);
  const t0 = evs[0]!.t;
  console.log(`\n--- timeline: ${variant} (ms from main process start; per-test events and backend runs/feedback posts elided) ---`);
  for (const e of evs) {
    if (e.e === "test-start" || e.e === "test-end" || e.e === "annotate") continue;
    if (e.e === "fetch" && e.path === "/_tally/tests") continue;
    const what =
      e.e === "fetch"
        ? `fetch ${e.path} (${Math.round(e.ms!)} ms)`
        : e.e === "backend"
          ? e.path!
          : `${e.e}${e.file ? ` ${e.file.split("/").pop()}` : ""}${e.path ? ` ${e.path}` : ""}`;
    console.log(`${String(Math.round(e.t - t0)).padStart(7)}  ${e.src.padEnd(13)} ${what}`);
  }
}

const results = new Map<Variant, Array<Record<string, number>>>();
for (let i = 0; i < reps; i++) {
  for (const v of variants) {
    const r = await runVariant(v, timeline && i === reps - 1);
    console.log(`${v.padEnd(13)} rep ${i + 1}: ${(r["wall (parent-measured)"]! / 1000).toFixed(2)} s`);
    results.set(v, [...(results.get(v) ?? []), r]);
  }
}

const keys = Object.keys(results.get(variants[0]!)![0]!);
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const w0 = Math.max(...keys.map((k) => k.length));
console.log(`\nlatency ${latency} ms · median of ${reps} · ms\n`);
console.log("".padEnd(w0) + variants.map((v) => v.padStart(14)).join(""));
for (const k of keys) {
  console.log(k.padEnd(w0) + variants.map((v) => String(Math.round(med(results.get(v)!.map((r) => r[k]!)))).padStart(14)).join(""));
}
