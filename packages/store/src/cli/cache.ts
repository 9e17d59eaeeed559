// `tally cache stats | prune | clear`: the model-call cache's folder, seen and tidied from the command
// line. The logic is @tally/core/cache's (cacheStats, pruneCache, CacheStore); this file parses and
// prints. It prints file names, hosts and run keys only, never anything from an entry's body.
import { existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CACHE_ENV, type CacheStats, CacheStore, cacheSettingsFromEnv, cacheStats, pruneCache } from "@tally/core/cache";

export const CACHE_USAGE = `Usage:
  tally cache stats [--cache-dir DIR] [--json]
      Entries and size, per host, and the runs that used the cache (from its usage log).
  tally cache prune --since RUN|last [--dry-run] [--cache-dir DIR]
      Drop the entries no run has used since run RUN started (or the newest run, with "last");
      entries recorded since then are kept. --dry-run only lists them.
  tally cache clear [--cache-dir DIR]
      Remove every entry and the usage log (the folder's .gitignore stays).

Options:
  --cache-dir DIR  The cache folder (default: ./.tally-cache, or TALLY_CACHE_DIR)
`;

/** Runs shown by `stats`, the newest ones, when the log has more. */
const SHOWN_RUNS = 10;
/** Files listed by `prune`. */
const SHOWN_FILES = 10;
/** Run keys named when `prune` has no --since. */
const SHOWN_KEYS = 5;

type Out = (line: string) => void;

const OPTIONS = {
  stats: { "cache-dir": { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  prune: {
    "cache-dir": { type: "string" },
    since: { type: "string" },
    "dry-run": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
  clear: { "cache-dir": { type: "string" }, help: { type: "boolean", short: "h" } },
} as const;

type Sub = keyof typeof OPTIONS;

export function cache(argv: string[]): number {
  const out: Out = (l) => process.stdout.write(`${l}\n`);
  const err: Out = (l) => process.stderr.write(`${l}\n`);
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    process.stdout.write(CACHE_USAGE);
    return sub === undefined ? 1 : 0;
  }
  if (!Object.hasOwn(OPTIONS, sub)) {
    process.stderr.write(`tally cache: unknown command "${sub}"\n\n${CACHE_USAGE}`);
    return 1;
  }
  const name = `tally cache ${sub}`;
  let values: { "cache-dir"?: string; json?: boolean; since?: string; "dry-run"?: boolean; help?: boolean };
  try {
    values = parseArgs({ args: rest, options: OPTIONS[sub as Sub], allowPositionals: false, strict: true }).values as typeof values;
  } catch (e) {
    process.stderr.write(`${name}: ${(e as Error).message}\n\n${CACHE_USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(CACHE_USAGE);
    return 0;
  }
  const store = new CacheStore(cacheDir(values["cache-dir"]));
  try {
    if (sub === "stats") return stats(store, !!values.json, out);
    if (sub === "prune") return prune(store, values.since, !!values["dry-run"], out, err);
    return clear(store, out);
  } catch (e) {
    err(`${name}: ${(e as Error).message}`);
    return 2;
  }
}

/** --cache-dir, else TALLY_CACHE_DIR, else ./.tally-cache: the plugin's own rule (cacheSettingsFromEnv). */
function cacheDir(flag: string | undefined): string {
  // Only the folder is read: the mode and hosts in the environment are not this command's business
  // (and a bad TALLY_CACHE value must not stop `tally cache clear`).
  const env = { [CACHE_ENV.dir]: flag ?? process.env[CACHE_ENV.dir] };
  return resolve(cacheSettingsFromEnv(env, process.cwd()).dir);
}

function stats(store: CacheStore, json: boolean, out: Out): number {
  const s = cacheStats(store);
  if (json) {
    out(JSON.stringify(s, null, 2));
    return 0;
  }
  if (s.entries === 0 && s.runs.length === 0) {
    out(`tally cache: ${existsSync(store.dir) ? `${store.dir} is empty` : `no cache folder at ${store.dir}`}: nothing cached yet`);
    return 0;
  }
  out(`tally cache: ${store.dir}`);
  out(`  ${plural(s.entries, "entry", "entries")}, ${humanBytes(s.bytes)}`);
  const hosts = Object.entries(s.byHost).sort(([a], [b]) => a.localeCompare(b));
  const hostWidth = Math.max(0, ...hosts.map(([h]) => h.length));
  for (const [host, h] of hosts) {
    out(`    ${host.padEnd(hostWidth)}  ${plural(h.entries, "entry", "entries").padStart(12)}  ${humanBytes(h.bytes).padStart(9)}`);
  }
  printRuns(s.runs, out);
  return 0;
}

function printRuns(runs: CacheStats["runs"], out: Out): void {
  if (runs.length === 0) {
    out("  no run has used the cache yet (no usage log)");
    return;
  }
  out(`  ${plural(runs.length, "run", "runs")} in the usage log, oldest first:`);
  const shown = runs.slice(-SHOWN_RUNS);
  if (shown.length < runs.length) out(`    … ${plural(runs.length - shown.length, "earlier run", "earlier runs")} not shown`);
  const keyWidth = Math.max(...shown.map((r) => r.runKey.length));
  for (const r of shown) out(`    ${r.runKey.padEnd(keyWidth)}  started ${when(r.startedAt)}  used ${plural(r.used, "entry", "entries")}`);
}

function prune(store: CacheStore, since: string | undefined, dryRun: boolean, out: Out, err: Out): number {
  if (since === undefined || since === "") {
    const runs = cacheStats(store).runs;
    err("tally cache prune: pass --since RUN (a run key from the usage log) or --since last (the newest run):");
    err("  entries no run has used since that run started are dropped; those recorded since then are kept.");
    if (runs.length === 0) err(`  No run has used the cache in ${store.dir} yet: there is nothing to prune against.`);
    else {
      err(`  Latest runs (oldest first):`);
      const latest = runs.slice(-SHOWN_KEYS);
      const width = Math.max(...latest.map((r) => r.runKey.length));
      for (const r of latest) err(`    ${r.runKey.padEnd(width)}  started ${when(r.startedAt)}`);
    }
    return 2;
  }
  const result = pruneCache(store, since, dryRun);
  const run = cacheStats(store).runs.find((r) => r.runKey === result.since);
  const n = result.dropped.length;
  const head = `tally cache prune: since run ${result.since}${run ? ` (started ${when(run.startedAt)})` : ""}`;
  out(
    dryRun
      ? `${head}: would drop ${plural(n, "entry", "entries")}, keep ${result.kept} (dry run: nothing deleted)`
      : `${head}: dropped ${plural(n, "entry", "entries")}, kept ${result.kept}`,
  );
  const names = result.dropped.map((d) => relative(store.dir, d.file)).sort();
  for (const name of names.slice(0, SHOWN_FILES)) out(`  ${name}`);
  if (n > SHOWN_FILES) out(`  … and ${n - SHOWN_FILES} more`);
  return 0;
}

function clear(store: CacheStore, out: Out): number {
  if (!existsSync(store.dir)) {
    out(`tally cache clear: no cache folder at ${store.dir}: nothing to clear`);
    return 0;
  }
  const n = store.clear();
  out(`tally cache clear: removed ${plural(n, "entry", "entries")} and the usage log from ${store.dir}`);
  return 0;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** 512 B, 12.3 kB, 4.5 MB (powers of 1000). */
export function humanBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = bytes;
  let i = -1;
  while (v >= 999.5 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 99.95 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** 2026-01-02T10:00:00.000Z → 2026-01-02 10:00:00Z */
function when(iso: string): string {
  return iso.replace("T", " ").replace(/\.\d+Z$/, "Z");
}
