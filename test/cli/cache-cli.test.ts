// `tally cache stats | prune | clear`, run as the real command (from dist: build first) against a
// cache folder written the way runs write it: entries through CacheStore, usage logs line by line.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { expect, test } from "vitest";
import type { CacheEntry } from "../../packages/core/src/cache/entry.js";
import { CacheStore } from "../../packages/core/src/cache/store.js";
import { humanBytes } from "../../packages/store/src/cli/cache.js";
import { REPO, runNode } from "../support/run-vitest.js";

const TALLY = join(REPO, "packages", "store", "bin", "tally.mjs");
const SECRET = "SECRET-BODY-TEXT";

function tally(args: string[], cwd: string, env: Record<string, string | undefined> = {}) {
  return runNode([TALLY, "cache", ...args], cwd, env, 60_000);
}

const key = (name: string) => createHash("sha256").update(name).digest("hex");

// Seven entries on three hosts, and two runs: "zz-first" (started 2026-01-01 10:00) and "aa-second"
// (started 2026-01-02 10:00), named so that their names sort against their times.
const OLD = "2025-12-31T00:00:00.000Z";
const ENTRIES = {
  e1: { host: "api.openai.com", mtime: OLD }, // used by zz-first only
  e2: { host: "api.openai.com", mtime: OLD }, // used by aa-second
  e3: { host: "api.openai.com", mtime: OLD }, // never used
  e4: { host: "api.openai.com", mtime: "2026-01-02T12:00:00.000Z" }, // recorded during aa-second, not used
  e5: { host: "api.anthropic.com", mtime: OLD }, // used by both
  e6: { host: "api.anthropic.com", mtime: OLD }, // never used
  e7: { host: "127.0.0.1:8080", mtime: "2026-01-01T12:00:00.000Z" }, // recorded between the runs, not used
} as const;
type Name = keyof typeof ENTRIES;

const USAGE = {
  "zz-first": [
    ["2026-01-01T10:00:00.000Z", "e1"],
    ["2026-01-01T10:05:00.000Z", "e5"],
  ],
  "aa-second": [
    ["2026-01-02T10:00:00.000Z", "e2"],
    ["2026-01-02T10:01:00.000Z", "e5"],
    ["2026-01-02T10:02:00.000Z", "e2"], // a second worker of the same run
  ],
} as const;

/** A cache folder as runs leave it; returns the folder and each entry's file. */
function filledCache(): { dir: string; cwd: string; files: Record<Name, string> } {
  const cwd = mkdtempSync(join(tmpdir(), "tally-cache-cli-"));
  const dir = join(cwd, "cache");
  const store = new CacheStore(dir);
  const files = {} as Record<Name, string>;
  for (const [name, { host, mtime }] of Object.entries(ENTRIES) as Array<[Name, (typeof ENTRIES)[Name]]>) {
    const entry: CacheEntry = {
      version: 1,
      key: key(name),
      request: { method: "POST", url: `https://${host}/v1/chat`, body: { json: { prompt: SECRET } } },
      response: { status: 200, statusText: "OK", headers: { "content-type": "application/json" }, body: SECRET.repeat(300) },
      recordedAt: mtime,
    };
    const file = store.write(host, entry);
    utimesSync(file, new Date(mtime), new Date(mtime));
    files[name] = file;
  }
  mkdirSync(join(dir, ".usage"), { recursive: true });
  for (const [run, lines] of Object.entries(USAGE)) {
    writeFileSync(join(dir, ".usage", `${run}.log`), lines.map(([at, name]) => `${at} ${key(name)}\n`).join(""));
  }
  return { dir, cwd, files };
}

function entryFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".json"))
    .map((f) => join(dir, f))
    .sort();
}

const rel = (dir: string, names: Name[], files: Record<Name, string>) => names.map((n) => relative(dir, files[n])).sort();

test("stats: entries, size, hosts and the runs oldest first; --json is the CacheStats object", async () => {
  const { dir, cwd, files } = filledCache();
  const r = await tally(["stats", "--cache-dir", dir], cwd);
  expect(r.code, r.stderr).toBe(0);
  const total = Object.values(files).reduce((n, f) => n + statSync(f).size, 0);
  expect(r.stdout).toContain(`tally cache: ${dir}\n`);
  expect(r.stdout).toContain(`  7 entries, ${humanBytes(total)}\n`);
  expect(r.stdout).toMatch(/7 entries, \d+(\.\d)? kB/);
  expect(r.stdout).toMatch(/api\.openai\.com\s+4 entries\s+\d+(\.\d)? kB/);
  expect(r.stdout).toMatch(/api\.anthropic\.com\s+2 entries/);
  expect(r.stdout).toMatch(/127\.0\.0\.1_8080\s+1 entry\s/);
  expect(r.stdout).toContain("2 runs in the usage log, oldest first:");
  expect(r.stdout).toMatch(
    /zz-first\s+started 2026-01-01 10:00:00Z\s+used 2 entries\n\s+aa-second\s+started 2026-01-02 10:00:00Z\s+used 2 entries/,
  );
  expect(r.stdout).not.toContain(SECRET);

  const j = await tally(["stats", "--json"], cwd, { TALLY_CACHE_DIR: dir });
  expect(j.code, j.stderr).toBe(0);
  expect(JSON.parse(j.stdout)).toEqual({
    dir,
    entries: 7,
    bytes: total,
    byHost: {
      "api.openai.com": { entries: 4, bytes: expect.any(Number) },
      "api.anthropic.com": { entries: 2, bytes: expect.any(Number) },
      "127.0.0.1_8080": { entries: 1, bytes: expect.any(Number) },
    },
    runs: [
      { runKey: "zz-first", startedAt: "2026-01-01T10:00:00.000Z", used: 2 },
      { runKey: "aa-second", startedAt: "2026-01-02T10:00:00.000Z", used: 2 },
    ],
  });
  expect(j.stdout).not.toContain(SECRET);
});

test("stats shows only the latest runs when the log has many", async () => {
  const { dir, cwd } = filledCache();
  for (let i = 1; i <= 12; i++) {
    writeFileSync(
      join(dir, ".usage", `run-${String(i).padStart(2, "0")}.log`),
      `2026-02-${String(i).padStart(2, "0")}T00:00:00.000Z ${key("e1")}\n`,
    );
  }
  const r = await tally(["stats", "--cache-dir", dir], cwd);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain("14 runs in the usage log, oldest first:");
  expect(r.stdout).toContain("… 4 earlier runs not shown");
  expect(r.stdout).not.toContain("zz-first");
  expect(r.stdout).toContain("run-03");
  expect(r.stdout).toMatch(/run-12\s+started 2026-02-12 00:00:00Z\s+used 1 entry\n$/);
});

test("prune --dry-run lists what it would drop and deletes nothing", async () => {
  const { dir, cwd, files } = filledCache();
  const before = entryFiles(dir);
  const r = await tally(["prune", "--since", "aa-second", "--dry-run", "--cache-dir", dir], cwd);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain(
    "tally cache prune: since run aa-second (started 2026-01-02 10:00:00Z): would drop 4 entries, keep 3 (dry run: nothing deleted)",
  );
  const listed = r.stdout
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.trim())
    .sort();
  expect(listed).toEqual(rel(dir, ["e1", "e3", "e6", "e7"], files));
  expect(entryFiles(dir)).toEqual(before);
});

test("prune drops exactly the entries no run used since that run started, keeping those recorded since", async () => {
  const { dir, cwd, files } = filledCache();
  const r = await tally(["prune", "--since", "aa-second", "--cache-dir", dir], cwd);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain("dropped 4 entries, kept 3");
  expect(entryFiles(dir)).toEqual([files.e2, files.e4, files.e5].sort());
  expect(r.stdout).not.toContain(SECRET);

  // Against the older run: what either run used, and what was recorded since it started, stays.
  const older = filledCache();
  const o = await tally(["prune", "--since", "zz-first", "--cache-dir", older.dir], older.cwd);
  expect(o.code, o.stderr).toBe(0);
  expect(o.stdout).toContain("tally cache prune: since run zz-first (started 2026-01-01 10:00:00Z): dropped 2 entries, kept 5");
  expect(entryFiles(older.dir)).toEqual([older.files.e1, older.files.e2, older.files.e4, older.files.e5, older.files.e7].sort());
});

test("prune --since last prunes against the newest run", async () => {
  const { dir, cwd, files } = filledCache();
  const r = await tally(["prune", "--since", "last", "--cache-dir", dir], cwd);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain("since run aa-second");
  expect(entryFiles(dir)).toEqual([files.e2, files.e4, files.e5].sort());
});

test("prune without --since, or with an unknown run, exits 2 naming the runs and deletes nothing", async () => {
  const { dir, cwd } = filledCache();
  const before = entryFiles(dir);
  const none = await tally(["prune", "--cache-dir", dir], cwd);
  expect(none.code).toBe(2);
  expect(none.stderr).toContain("pass --since RUN");
  expect(none.stderr).toContain("--since last");
  expect(none.stderr).toMatch(/zz-first\s+started 2026-01-01 10:00:00Z\n\s+aa-second\s+started 2026-01-02 10:00:00Z/);

  const unknown = await tally(["prune", "--since", "nope", "--cache-dir", dir], cwd);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain(`tally cache prune: no run "nope" in ${dir}/.usage (runs: zz-first, aa-second)`);
  expect(entryFiles(dir)).toEqual(before);

  const empty = mkdtempSync(join(tmpdir(), "tally-cache-cli-"));
  const nothing = await tally(["prune", "--since", "last", "--cache-dir", empty], empty);
  expect(nothing.code).toBe(2);
  expect(nothing.stderr).toContain("no run has used the cache");
});

test("clear removes every entry and the usage log, keeping the .gitignore", async () => {
  const { dir, cwd } = filledCache();
  expect(existsSync(join(dir, ".gitignore"))).toBe(true);
  const r = await tally(["clear", "--cache-dir", dir], cwd);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain(`tally cache clear: removed 7 entries and the usage log from ${dir}`);
  expect(readdirSync(dir)).toEqual([".gitignore"]);
});

test("an empty or missing cache folder is said plainly; the default folder is ./.tally-cache", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "tally-cache-cli-"));
  const missing = await tally(["stats"], cwd);
  expect(missing.code, missing.stderr).toBe(0);
  expect(missing.stdout).toBe(`tally cache: no cache folder at ${join(cwd, ".tally-cache")}: nothing cached yet\n`);

  mkdirSync(join(cwd, ".tally-cache"));
  const empty = await tally(["stats"], cwd);
  expect(empty.code, empty.stderr).toBe(0);
  expect(empty.stdout).toBe(`tally cache: ${join(cwd, ".tally-cache")} is empty: nothing cached yet\n`);
  const json = await tally(["stats", "--json"], cwd);
  expect(JSON.parse(json.stdout)).toEqual({ dir: join(cwd, ".tally-cache"), entries: 0, bytes: 0, byHost: {}, runs: [] });

  const cleared = await tally(["clear", "--cache-dir", "nowhere"], cwd);
  expect(cleared.code).toBe(0);
  expect(cleared.stdout).toContain("nothing to clear");
});

test("usage: tally cache alone, --help, an unknown subcommand or option", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "tally-cache-cli-"));
  const alone = await tally([], cwd);
  expect(alone.code).toBe(1);
  expect(alone.stdout).toContain("tally cache prune --since RUN|last");
  const help = await tally(["--help"], cwd);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain("tally cache stats [--cache-dir DIR] [--json]");
  const unknown = await tally(["tidy"], cwd);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain('tally cache: unknown command "tidy"');
  expect(unknown.stderr).toContain("tally cache clear [--cache-dir DIR]");
  const badOption = await tally(["clear", "--since", "last"], cwd);
  expect(badOption.code).toBe(2);
  expect(badOption.stderr).toContain("tally cache clear:");
  const top = await runNode([TALLY, "--help"], cwd, {});
  expect(top.code).toBe(0);
  expect(top.stdout).toContain("tally cache prune --since RUN|last [--dry-run] [--cache-dir DIR]");
});

test("humanBytes", () => {
  expect(humanBytes(0)).toBe("0 B");
  expect(humanBytes(999)).toBe("999 B");
  expect(humanBytes(12_345)).toBe("12.3 kB");
  expect(humanBytes(123_456)).toBe("123 kB");
  expect(humanBytes(999_999)).toBe("1.0 MB");
  expect(humanBytes(5 * 1024 * 1024)).toBe("5.2 MB");
});
