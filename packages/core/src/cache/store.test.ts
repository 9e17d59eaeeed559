import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import { type CacheEntry, ENTRY_VERSION, entryProblem } from "./entry.js";
import { CacheStore, hostFolder } from "./store.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const repoRoot = resolve(here, "../../../..");
const NODE = join(repoRoot, "node_modules/.bin/node");

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "tally-cache-store-"));
  dirs.push(d);
  return d;
}

const HOST = "api.openai.com";
const key = (n: number | string) => String(n).padStart(64, "0");

function entry(k: string, body = '{"ok":true}'): CacheEntry {
  return {
    version: ENTRY_VERSION,
    key: k,
    request: { method: "POST", url: "https://api.openai.com/v1/chat/completions", body: { json: { n: k } } },
    response: { status: 200, statusText: "OK", headers: { "content-type": "application/json" }, body, bodyEncoding: "utf8" },
    recordedAt: "2025-01-01T00:00:00.000Z",
  };
}

/** Every file under dir, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();
}

describe("files", () => {
  test("an entry lives in <dir>/<host folder>/<key>.json", () => {
    const store = new CacheStore("/c");
    expect(store.fileOf("api.openai.com", key(1))).toBe(`/c/api.openai.com/${key(1)}.json`);
    expect(store.fileOf("127.0.0.1:8080", key(1))).toBe(`/c/127.0.0.1_8080/${key(1)}.json`);
  });

  test("hostFolder: lower case, anything but letters, digits, dots and dashes becomes _", () => {
    expect(hostFolder("API.OpenAI.com")).toBe("api.openai.com");
    expect(hostFolder("127.0.0.1:8080")).toBe("127.0.0.1_8080");
    expect(hostFolder("[::1]:80")).toBe("___1__80");
    expect(hostFolder("my-res.openai.azure.com")).toBe("my-res.openai.azure.com");
  });
});

describe("read and write", () => {
  test("missing, then written, then read back whole", () => {
    const dir = tmp();
    const store = new CacheStore(dir);
    const file = store.fileOf(HOST, key(1));
    expect(store.read(HOST, key(1))).toEqual({ missing: true, file });
    expect(store.write(HOST, entry(key(1)))).toBe(file);
    expect(store.read(HOST, key(1))).toEqual({ entry: entry(key(1)), file });
    // Readable in a diff: indented, one trailing newline.
    const text = readFileSync(file, "utf8");
    expect(text).toBe(`${JSON.stringify(entry(key(1)), null, 2)}\n`);
  });

  test("a truncated file (half of a whole entry) reads as corrupt, saying why", () => {
    const dir = tmp();
    const store = new CacheStore(dir);
    const file = store.write(HOST, entry(key(1)));
    const whole = readFileSync(file, "utf8");
    writeFileSync(file, whole.slice(0, Math.floor(whole.length / 2)));
    const r = store.read(HOST, key(1));
    expect(r).toEqual({ corrupt: expect.stringMatching(/not valid JSON \(\d+ bytes; truncated\?\)/), file });
    expect((r as { corrupt: string }).corrupt).toContain(`(${Math.floor(whole.length / 2)} bytes`);
  });

  test("an empty file is corrupt", () => {
    const dir = tmp();
    const store = new CacheStore(dir);
    const file = store.write(HOST, entry(key(1)));
    writeFileSync(file, "");
    expect(store.read(HOST, key(1))).toMatchObject({ corrupt: expect.stringContaining("not valid JSON"), file });
  });

  test("a whole entry under another key's name is corrupt", () => {
    const dir = tmp();
    const store = new CacheStore(dir);
    const file1 = store.write(HOST, entry(key(1)));
    const file2 = store.fileOf(HOST, key(2));
    writeFileSync(file2, readFileSync(file1));
    expect(store.read(HOST, key(2))).toEqual({ corrupt: `key "${key(1)}" does not match its file name`, file: file2 });
  });

  test("valid JSON of the wrong shape is corrupt, with entryProblem's reason", () => {
    const dir = tmp();
    const store = new CacheStore(dir);
    const file = store.write(HOST, entry(key(1)));
    writeFileSync(file, JSON.stringify({ ...entry(key(1)), version: 9 }));
    expect(store.read(HOST, key(1))).toEqual({ corrupt: "version 9, expected 1", file });
    writeFileSync(file, "[]");
    expect(store.read(HOST, key(1))).toMatchObject({ corrupt: expect.stringMatching(/^version/) });
  });

  test("a file that cannot be read is corrupt with the system's message", () => {
    const dir = tmp();
    const store = new CacheStore(dir);
    mkdirSync(store.fileOf(HOST, key(1)), { recursive: true });
    expect(store.read(HOST, key(1))).toMatchObject({ corrupt: expect.stringContaining("EISDIR") });
  });

  test("a write replaces the file by rename (a new inode) and leaves no temporary file", () => {
    const dir = tmp();
    const store = new CacheStore(dir);
    const file = store.write(HOST, entry(key(1), "first"));
    const ino = statSync(file).ino;
    store.write(HOST, entry(key(1), "second"));
    expect(statSync(file).ino).not.toBe(ino);
    expect((store.read(HOST, key(1)) as { entry: CacheEntry }).entry.response.body).toBe("second");
    expect(filesUnder(dir)).toEqual([".gitignore", `${HOST}/${key(1)}.json`]);
  });

  test(".gitignore keeps the usage log and temporary files out; written once, never over the user's", () => {
    const dir = tmp();
    const store = new CacheStore(dir);
    store.write(HOST, entry(key(1)));
    const file = join(dir, ".gitignore");
    expect(readFileSync(file, "utf8")).toBe(".usage/\n*.tmp\n");
    writeFileSync(file, "# mine\n.usage/\n");
    store.write(HOST, entry(key(2)));
    store.noteUse("run", key(2));
    new CacheStore(dir).write(HOST, entry(key(3)));
    new CacheStore(dir).noteUse("run", key(3));
    expect(readFileSync(file, "utf8")).toBe("# mine\n.usage/\n");
  });

  test("noteUse alone creates the folder and its .gitignore", () => {
    const dir = join(tmp(), "fresh");
    new CacheStore(dir).noteUse("run-1", key(1));
    expect(filesUnder(dir)).toEqual([".gitignore", ".usage/run-1.log"]);
    expect(readFileSync(join(dir, ".gitignore"), "utf8")).toContain(".usage/");
  });
});

describe("usage", () => {
  test("noteUse writes a key once per store, with its time; another key is another line", () => {
    const dir = tmp();
    const store = new CacheStore(dir);
    const t = new Date("2025-03-01T10:00:00.000Z");
    store.noteUse("run-1", key(1), t);
    store.noteUse("run-1", key(1), new Date("2025-03-01T11:00:00.000Z"));
    store.noteUse("run-1", key(1));
    store.noteUse("run-1", key(2), new Date("2025-03-01T12:00:00.000Z"));
    expect(readFileSync(join(dir, ".usage/run-1.log"), "utf8")).toBe(
      `2025-03-01T10:00:00.000Z ${key(1)}\n2025-03-01T12:00:00.000Z ${key(2)}\n`,
    );
  });

  test("a run key is made safe as a file name", () => {
    const dir = tmp();
    new CacheStore(dir).noteUse("ci/run:42 x", key(1));
    expect(readdirSync(join(dir, ".usage"))).toEqual(["ci-run-42-x.log"]);
    expect([...new CacheStore(dir).usage().keys()]).toEqual(["ci-run-42-x"]);
  });

  test("usage(): each run's keys with their first use; lines that are not 'time key' are skipped", () => {
    const dir = tmp();
    mkdirSync(join(dir, ".usage"), { recursive: true });
    writeFileSync(
      join(dir, ".usage/r1.log"),
      [
        `2025-01-02T00:00:00.000Z ${key(1)}`,
        "garbage",
        `not-a-date ${key(2)}`,
        `2025-01-01T00:00:00.000Z ${key(1)}`,
        `2025-01-03T00:00:00.000Z ${key(3)}`,
        `2025-01-04T00:00:00.000Z`,
        "",
      ].join("\n"),
    );
    writeFileSync(join(dir, ".usage/notes.txt"), "ignored");
    const usage = new CacheStore(dir).usage();
    expect([...usage.keys()]).toEqual(["r1"]);
    expect(usage.get("r1")).toEqual(
      new Map([
        [key(1), Date.parse("2025-01-02T00:00:00.000Z")],
        [key(3), Date.parse("2025-01-03T00:00:00.000Z")],
      ]),
    );
    expect(new CacheStore(join(dir, "none")).usage().size).toBe(0);
  });
});

describe("listing and clearing", () => {
  test("entries(): every <host>/<key>.json with its size; not .usage, .gitignore, temporary or other files", () => {
    const dir = tmp();
    const store = new CacheStore(dir);
    store.write("api.openai.com", entry(key(1)));
    store.write("api.openai.com", entry(key(2), "x".repeat(1000)));
    store.write("127.0.0.1:9", entry(key(3)));
    store.noteUse("run", key(1));
    writeFileSync(join(dir, "api.openai.com", `${key(4)}.json.123-abc.tmp`), "{");
    writeFileSync(join(dir, "api.openai.com", "README"), "x");
    writeFileSync(join(dir, "stray.json"), "{}");
    // Folders starting with a dot are never host folders.
    mkdirSync(join(dir, ".git"));
    writeFileSync(join(dir, ".git", `${key(5)}.json`), "{}");
    const list = store.entries().sort((a, b) => a.key.localeCompare(b.key));
    expect(list.map((e) => [e.host, e.key])).toEqual([
      ["api.openai.com", key(1)],
      ["api.openai.com", key(2)],
      ["127.0.0.1_9", key(3)],
    ]);
    for (const e of list) {
      expect(e.file).toBe(join(dir, e.host, `${e.key}.json`));
      expect(e.bytes).toBe(statSync(e.file).size);
      expect(e.mtimeMs).toBe(statSync(e.file).mtimeMs);
    }
    expect(list[1]!.bytes).toBeGreaterThan(1000);
    expect(new CacheStore(join(dir, "nope")).entries()).toEqual([]);
  });

  test("remove() deletes one entry file", () => {
    const dir = tmp();
    const store = new CacheStore(dir);
    const file = store.write(HOST, entry(key(1)));
    store.write(HOST, entry(key(2)));
    store.remove(file);
    expect(store.entries().map((e) => e.key)).toEqual([key(2)]);
  });

  test("clear() removes the host folders and the usage log, keeps other files, and counts the entries", () => {
    const dir = tmp();
    const store = new CacheStore(dir);
    store.write("a.example", entry(key(1)));
    store.write("b.example", entry(key(2)));
    store.noteUse("run", key(1));
    writeFileSync(join(dir, "README.md"), "about this cache");
    mkdirSync(join(dir, ".git"));
    writeFileSync(join(dir, ".git", "config"), "x");
    expect(store.clear()).toBe(2);
    expect(filesUnder(dir)).toEqual([".git/config", ".gitignore", "README.md"]);
    expect(store.clear()).toBe(0);
    expect(new CacheStore(join(dir, "nope")).clear()).toBe(0);
  });
});

describe("concurrent writers", () => {
  // Child processes import store.ts from source: type stripping alone cannot handle its parameter
  // property (`constructor(readonly dir)`), hence --experimental-transform-types, and its `./entry.js`
  // imports need resolving to the .ts files.
  const RESOLVE_TS = `
    import { registerHooks } from "node:module";
    registerHooks({
      resolve(specifier, context, next) {
        try { return next(specifier, context); } catch (err) {
          if (/^\\.\\.?\\//.test(specifier) && specifier.endsWith(".js")) return next(specifier.slice(0, -3) + ".ts", context);
          throw err;
        }
      },
    });`;

  const CHILD = `
    import { readdirSync, writeFileSync } from "node:fs";
    import { CacheStore } from ${JSON.stringify(pathToFileURL(join(here, "store.ts")).href)};
    const [dir, id, barrier, n] = process.argv.slice(-4);
    const entry = (key, body) => ({
      version: 1, key,
      request: { method: "POST", url: "https://api.openai.com/v1/x", body: { json: { id } } },
      response: { status: 200, statusText: "OK", headers: {}, body, bodyEncoding: "utf8" },
      recordedAt: new Date().toISOString(),
    });
    // Start together: each says it is ready, then waits for the others.
    writeFileSync(barrier + "/" + id, "");
    const deadline = Date.now() + 30000;
    while (readdirSync(barrier).length < Number(n) && Date.now() < deadline) {}
    const pad = "x".repeat(64 * 1024);
    const shared = "s".repeat(64);
    const usage = new CacheStore(dir);
    // Reads between the writes, while the other processes write: a reader must never see half a file.
    const torn = [];
    const check = (key) => {
      const r = new CacheStore(dir).read("api.openai.com", key);
      if ("corrupt" in r) torn.push(r.corrupt);
    };
    for (let i = 0; i < 50; i++) {
      // A store per write, as separate workers would have: each also checks the .gitignore.
      new CacheStore(dir).write("api.openai.com", entry(shared, JSON.stringify({ writer: id, i, pad })));
      const own = (id + "-" + i).padStart(64, "0");
      new CacheStore(dir).write("api.openai.com", entry(own, JSON.stringify({ writer: id, i, pad })));
      usage.noteUse("run-1", own);
      for (let j = 0; j < 5; j++) check(shared);
    }
    process.stdout.write(JSON.stringify({ torn }));
  `;

  function runChild(dir: string, id: string, barrier: string, n: number): Promise<{ code: number | null; stderr: string; stdout: string }> {
    return new Promise((resolvePromise, reject) => {
      const child = spawn(
        NODE,
        [
          "--experimental-transform-types",
          "--no-warnings",
          "--import",
          `data:text/javascript,${encodeURIComponent(RESOLVE_TS)}`,
          "--input-type=module",
          "-e",
          CHILD,
          dir,
          id,
          barrier,
          String(n),
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      let stdout = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("error", reject);
      child.on("close", (code) => resolvePromise({ code, stderr, stdout }));
    });
  }

  test("six processes writing one key and their own keys at once: every file whole, none lost, no .tmp left", async () => {
    const dir = tmp();
    const N = 6;
    const barrier = tmp();
    const results = await Promise.all(Array.from({ length: N }, (_, i) => runChild(dir, `w${i}`, barrier, N)));
    for (const r of results) expect(r, r.stderr).toMatchObject({ code: 0 });
    const reports = results.map((r) => JSON.parse(r.stdout) as { torn: string[] });
    // None of their reads, between the others' writes, saw a partial entry.
    expect(reports.flatMap((r) => r.torn)).toEqual([]);

    const files = filesUnder(dir);
    expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(files).toContain(".gitignore");
    expect(readFileSync(join(dir, ".gitignore"), "utf8")).toBe(".usage/\n*.tmp\n");

    const store = new CacheStore(dir);
    const shared = "s".repeat(64);
    const sharedRead = store.read(HOST, shared);
    expect("entry" in sharedRead, JSON.stringify(sharedRead).slice(0, 300)).toBe(true);
    const last = JSON.parse((sharedRead as { entry: CacheEntry }).entry.response.body!);
    expect(last.writer).toMatch(/^w[0-5]$/);
    expect(last.pad).toHaveLength(64 * 1024);

    const keys = store.entries().map((e) => e.key);
    expect(keys).toHaveLength(N * 50 + 1);
    for (let w = 0; w < N; w++) {
      for (let i = 0; i < 50; i++) {
        const own = `w${w}-${i}`.padStart(64, "0");
        const r = store.read(HOST, own);
        expect("entry" in r, `${own}: ${JSON.stringify(r).slice(0, 200)}`).toBe(true);
        const e = (r as { entry: CacheEntry }).entry;
        expect(entryProblem(e, own)).toBeUndefined();
        expect(JSON.parse(e.response.body!)).toMatchObject({ writer: `w${w}`, i });
      }
    }

    // The usage log: one whole line per key each process noted, none interleaved.
    const lines = readFileSync(join(dir, ".usage/run-1.log"), "utf8").split("\n").filter(Boolean);
    expect(lines).toHaveLength(N * 50);
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 0*w[0-5]-\d+$/);
    expect(new Set(lines.map((l) => l.split(" ")[1])).size).toBe(N * 50);
  }, 60_000);
});
