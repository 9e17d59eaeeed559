import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { type CacheEntry, ENTRY_VERSION } from "./entry.js";
import { cacheStats, pruneCache } from "./maintenance.js";
import { CacheStore } from "./store.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function newStore(): CacheStore {
  const d = mkdtempSync(join(tmpdir(), "tally-cache-maint-"));
  dirs.push(d);
  return new CacheStore(d);
}

const key = (name: string) => name.padStart(64, "0");

function entry(k: string, recordedAt: Date, body = "{}"): CacheEntry {
  return {
    version: ENTRY_VERSION,
    key: k,
    request: { method: "POST", url: "https://x.example/v1", body: null },
    response: { status: 200, statusText: "OK", headers: {}, body, bodyEncoding: "utf8" },
    recordedAt: recordedAt.toISOString(),
  };
}

const T = (iso: string) => new Date(iso);

/**
 * Writes an entry recorded at `recorded` (its `recordedAt`, what prune goes by) and gives its file
 * that modification time too, unless `mtime` says otherwise (a checkout renews it).
 */
function put(store: CacheStore, host: string, name: string, recorded: Date, body?: string, mtime: Date = recorded): string {
  const file = store.write(host, entry(key(name), recorded, body));
  utimesSync(file, mtime, mtime);
  return file;
}

/** Writes `text` as an entry's file, with that modification time. */
function putRaw(store: CacheStore, host: string, name: string, text: string, mtime: Date): string {
  mkdirSync(join(store.dir, host), { recursive: true });
  const file = join(store.dir, host, `${key(name)}.json`);
  writeFileSync(file, text);
  utimesSync(file, mtime, mtime);
  return file;
}

/** A run's usage log, as its workers write it (one store, so one process, per run). */
function use(store: CacheStore, runKey: string, uses: Array<[string, Date]>): void {
  const s = new CacheStore(store.dir);
  for (const [name, at] of uses) s.noteUse(runKey, key(name), at);
}

describe("cacheStats", () => {
  test("counts entries and bytes per host, and lists runs oldest first with how many entries each used", () => {
    const store = newStore();
    const a1 = put(store, "api.openai.com", "a1", T("2025-01-01"), "x".repeat(100));
    const a2 = put(store, "api.openai.com", "a2", T("2025-01-01"));
    const b1 = put(store, "127.0.0.1:4010", "b1", T("2025-01-01"), "y".repeat(10));
    // Written second but started first: runs are ordered by their first use, not by name or file time.
    use(store, "run-z", [
      [`a1`, T("2025-02-01T00:00:00Z")],
      [`a2`, T("2025-02-01T00:01:00Z")],
    ]);
    use(store, "run-a", [
      [`b1`, T("2025-03-01T00:00:00Z")],
      [`a1`, T("2025-03-01T00:00:01Z")],
      [`a2`, T("2025-03-01T00:00:02Z")],
    ]);
    use(store, "run-m", [[`a1`, T("2025-01-15T00:00:00Z")]]);
    writeFileSync(join(store.dir, "api.openai.com", `${key("a3")}.json.1-x.tmp`), "{");

    const stats = cacheStats(store);
    const size = (f: string) => statSync(f).size;
    expect(stats).toEqual({
      dir: store.dir,
      entries: 3,
      bytes: size(a1) + size(a2) + size(b1),
      byHost: {
        "api.openai.com": { entries: 2, bytes: size(a1) + size(a2) },
        "127.0.0.1_4010": { entries: 1, bytes: size(b1) },
      },
      runs: [
        { runKey: "run-m", startedAt: "2025-01-15T00:00:00.000Z", used: 1 },
        { runKey: "run-z", startedAt: "2025-02-01T00:00:00.000Z", used: 2 },
        { runKey: "run-a", startedAt: "2025-03-01T00:00:00.000Z", used: 3 },
      ],
    });
  });

  test("an empty or missing folder; a usage log without a valid line is not a run", () => {
    const store = newStore();
    expect(cacheStats(store)).toEqual({ dir: store.dir, entries: 0, bytes: 0, byHost: {}, runs: [] });
    mkdirSync(join(store.dir, ".usage"), { recursive: true });
    writeFileSync(join(store.dir, ".usage/broken.log"), "garbage\n");
    expect(cacheStats(store).runs).toEqual([]);
    const missing = new CacheStore(join(store.dir, "nope"));
    expect(cacheStats(missing)).toMatchObject({ entries: 0, bytes: 0, byHost: {}, runs: [] });
  });
});

describe("pruneCache", () => {
  // Run "old" started 2025-01-10, run "new" 2025-02-10.
  //   used-both:  recorded long ago, used by both runs        → kept whatever the run
  //   used-old:   recorded long ago, used by "old" only       → kept since "old", dropped since "new"
  //   unused:     recorded long ago, used by none             → dropped
  //   rec-mid:    recorded 2025-01-20 (after "old" started), used by none → kept since "old", dropped since "new"
  //   rec-late:   recorded 2025-02-20 (after "new" started)  → kept
  //   other-host: recorded long ago, used by "new"           → kept
  function fixture() {
    const store = newStore();
    const long = T("2024-06-01T00:00:00Z");
    const files = {
      usedBoth: put(store, "api.openai.com", "used-both", long),
      usedOld: put(store, "api.openai.com", "used-old", long),
      unused: put(store, "api.openai.com", "unused", long),
      recMid: put(store, "api.openai.com", "rec-mid", T("2025-01-20T00:00:00Z")),
      recLate: put(store, "api.openai.com", "rec-late", T("2025-02-20T00:00:00Z")),
      otherHost: put(store, "api.anthropic.com", "other-host", long),
    };
    use(store, "old", [
      ["used-both", T("2025-01-10T00:00:00Z")],
      ["used-old", T("2025-01-10T00:00:05Z")],
    ]);
    use(store, "new", [
      ["used-both", T("2025-02-10T00:00:00Z")],
      ["other-host", T("2025-02-10T00:00:01Z")],
    ]);
    return { store, files };
  }

  const names = (r: { dropped: Array<{ key: string }> }) => r.dropped.map((d) => d.key.replace(/^0+/, "")).sort();

  test("since a run: keeps what was used or recorded since it started, deletes the rest", () => {
    const { store, files } = fixture();
    const r = pruneCache(store, "new");
    expect(r.since).toBe("new");
    expect(names(r)).toEqual(["rec-mid", "unused", "used-old"]);
    expect(r.kept).toBe(3);
    expect(r.dropped.find((d) => d.key === key("unused"))).toEqual({ host: "api.openai.com", key: key("unused"), file: files.unused });
    for (const f of [files.unused, files.usedOld, files.recMid]) expect(existsSync(f), f).toBe(false);
    for (const f of [files.usedBoth, files.recLate, files.otherHost]) expect(existsSync(f), f).toBe(true);
    expect(cacheStats(store).entries).toBe(3);
  });

  test("since the older run keeps more", () => {
    const { store } = fixture();
    const r = pruneCache(store, "old");
    expect(names(r)).toEqual(["unused"]);
    expect(r.kept).toBe(5);
  });

  test('"last" is the run that started last', () => {
    const { store } = fixture();
    const r = pruneCache(store, "last", true);
    expect(r.since).toBe("new");
    expect(names(r)).toEqual(["rec-mid", "unused", "used-old"]);
  });

  test("a use by an older run after the newer one started counts as a use since it", () => {
    const { store } = fixture();
    // The "old" run's log gets a line dated after "new" started (e.g. a long run still going).
    new CacheStore(store.dir).noteUse("old", key("unused"), T("2025-02-11T00:00:00Z"));
    expect(names(pruneCache(store, "new", true))).toEqual(["rec-mid", "used-old"]);
  });

  test("a dry run deletes nothing but reports the same", () => {
    const { store, files } = fixture();
    const dry = pruneCache(store, "new", true);
    expect(names(dry)).toEqual(["rec-mid", "unused", "used-old"]);
    expect(dry.kept).toBe(3);
    for (const f of Object.values(files)) expect(existsSync(f), f).toBe(true);
    expect(pruneCache(store, "new")).toEqual(dry);
    expect(cacheStats(store).entries).toBe(3);
  });

  test("the usage logs and .gitignore are never pruned", () => {
    const { store } = fixture();
    pruneCache(store, "new");
    expect(existsSync(join(store.dir, ".usage/old.log"))).toBe(true);
    expect(existsSync(join(store.dir, ".usage/new.log"))).toBe(true);
    expect(existsSync(join(store.dir, ".gitignore"))).toBe(true);
  });

  test("an unknown run is an error listing the runs there are", () => {
    const { store, files } = fixture();
    expect(() => pruneCache(store, "nope")).toThrow(`no run "nope" in ${store.dir}/.usage (runs: old, new)`);
    for (const f of Object.values(files)) expect(existsSync(f)).toBe(true);
  });

  test("the error lists the last five runs only", () => {
    const store = newStore();
    for (let i = 1; i <= 7; i++) use(store, `r${i}`, [["k", T(`2025-01-0${i}T00:00:00Z`)]]);
    expect(() => pruneCache(store, "nope")).toThrow(`(runs: r3, r4, r5, r6, r7, …)`);
  });

  test("an entry is as old as its recordedAt says, whatever its file's time (a checkout renews it)", () => {
    const { store } = fixture();
    const now = new Date();
    // Recorded long ago, unused, but just checked out: its file is brand new.
    const checkedOut = put(store, "api.openai.com", "checked-out", T("2024-06-01T00:00:00Z"), undefined, now);
    // Recorded after "new" started, but its file's time went back (restored from an archive, say).
    const restored = put(store, "api.openai.com", "restored", T("2025-02-15T00:00:00Z"), undefined, T("2024-01-01T00:00:00Z"));
    const r = pruneCache(store, "new");
    expect(names(r)).toEqual(["checked-out", "rec-mid", "unused", "used-old"]);
    expect(r.kept).toBe(4);
    expect(existsSync(checkedOut)).toBe(false);
    expect(existsSync(restored)).toBe(true);
  });

  test("the file's time stands in for a recordedAt that cannot be read", () => {
    const { store } = fixture();
    const old = T("2024-06-01T00:00:00Z");
    const late = T("2025-02-20T00:00:00Z");
    const recordedAt = (v: unknown) => JSON.stringify({ ...entry(key("x"), old), recordedAt: v });
    putRaw(store, "h.example", "truncated-old", '{"version":1,"recordedAt":"2025-02-2', old);
    putRaw(store, "h.example", "truncated-late", '{"version":1,"recordedAt":"2024-01-0', late);
    putRaw(store, "h.example", "no-date-old", recordedAt(undefined), old);
    putRaw(store, "h.example", "no-date-late", recordedAt(undefined), late);
    putRaw(store, "h.example", "bad-date-old", recordedAt("yesterday"), old);
    putRaw(store, "h.example", "bad-date-late", recordedAt(null), late);
    const r = pruneCache(store, "new", true);
    expect(names(r)).toEqual(["bad-date-old", "no-date-old", "rec-mid", "truncated-old", "unused", "used-old"]);
    expect(r.kept).toBe(6);
  });

  test("with no usage log at all it is an error, and nothing is deleted", () => {
    const store = newStore();
    const file = put(store, "api.openai.com", "a", T("2024-01-01"));
    expect(() => pruneCache(store, "last")).toThrow(`no run has used the cache in ${store.dir} yet: nothing to prune against`);
    expect(() => pruneCache(store, "some-run")).toThrow(/no run has used the cache/);
    expect(existsSync(file)).toBe(true);
  });
});
