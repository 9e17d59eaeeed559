import { readFileSync } from "node:fs";
import type { CacheStore } from "./store.js";

// What `tally cache stats | prune | clear` do, apart from printing.

export interface CacheStats {
  dir: string;
  entries: number;
  bytes: number;
  byHost: Record<string, { entries: number; bytes: number }>;
  /** Runs with a usage log, oldest first, with how many entries each used. */
  runs: Array<{ runKey: string; startedAt: string; used: number }>;
}

export function cacheStats(store: CacheStore): CacheStats {
  const byHost: CacheStats["byHost"] = {};
  let bytes = 0;
  const entries = store.entries();
  for (const e of entries) {
    const h = (byHost[e.host] ??= { entries: 0, bytes: 0 });
    h.entries++;
    h.bytes += e.bytes;
    bytes += e.bytes;
  }
  return { dir: store.dir, entries: entries.length, bytes, byHost, runs: runsOf(store.usage()) };
}

export interface PruneResult {
  since: string;
  kept: number;
  dropped: Array<{ host: string; key: string; file: string }>;
}

/**
 * Drops the entries no run has used since run `since` started (its first use), except those recorded
 * since then (by the entry's `recordedAt`: a checkout renews every file's time). `since` is a run key
 * from the usage log, or "last" for the newest run.
 */
export function pruneCache(store: CacheStore, since: string, dryRun = false): PruneResult {
  const usage = store.usage();
  const runs = runsOf(usage);
  const run = since === "last" ? runs.at(-1) : runs.find((r) => r.runKey === since);
  if (!run) {
    const known = runs.map((r) => r.runKey);
    throw new Error(
      known.length
        ? `no run "${since}" in ${store.dir}/.usage (runs: ${known.slice(-5).join(", ")}${known.length > 5 ? ", …" : ""})`
        : `no run has used the cache in ${store.dir} yet: nothing to prune against`,
    );
  }
  const t0 = Date.parse(run.startedAt);
  const usedSince = new Set<string>();
  for (const used of usage.values()) for (const [key, at] of used) if (at >= t0) usedSince.add(key);
  const dropped = [];
  let kept = 0;
  for (const e of store.entries()) {
    if (usedSince.has(e.key) || recordedAt(e.file, e.mtimeMs) >= t0) kept++;
    else dropped.push({ host: e.host, key: e.key, file: e.file });
  }
  if (!dryRun) for (const d of dropped) store.remove(d.file);
  return { since: run.runKey, kept, dropped };
}

/** When an entry was recorded, by its own word; its file's time when that cannot be read. */
function recordedAt(file: string, mtimeMs: number): number {
  try {
    const at = (JSON.parse(readFileSync(file, "utf8")) as { recordedAt?: unknown }).recordedAt;
    const t = typeof at === "string" ? Date.parse(at) : Number.NaN;
    return Number.isFinite(t) ? t : mtimeMs;
  } catch {
    return mtimeMs;
  }
}

function runsOf(usage: Map<string, Map<string, number>>): CacheStats["runs"] {
  const runs = [...usage].map(([runKey, used]) => {
    // A loop, not Math.min(...): a run of many entries would overflow the call's arguments.
    let first = Number.POSITIVE_INFINITY;
    for (const at of used.values()) if (at < first) first = at;
    return { runKey, first, used: used.size };
  });
  runs.sort((a, b) => a.first - b.first);
  return runs
    .filter((r) => Number.isFinite(r.first))
    .map((r) => ({ runKey: r.runKey, startedAt: new Date(r.first).toISOString(), used: r.used }));
}
