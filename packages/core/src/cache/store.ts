import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { type CacheEntry, entryProblem } from "./entry.js";

// The cache folder: `<dir>/<host>/<key>.json`, one file per entry, and `<dir>/.usage/<run key>.log`,
// the keys each run used (what `tally cache prune` reads). Workers of one run write at once: an entry
// is written to a temporary file and renamed over its name, so a reader sees a whole entry or none,
// and two workers recording one key both leave a whole entry. Usage lines are appended, one write each.

export type ReadResult = { entry: CacheEntry; file: string } | { missing: true; file: string } | { corrupt: string; file: string };

const USAGE = ".usage";

export class CacheStore {
  private readonly usedKeys = new Set<string>();
  private gitignoreChecked = false;

  constructor(readonly dir: string) {}

  fileOf(host: string, key: string): string {
    return join(this.dir, hostFolder(host), `${key}.json`);
  }

  read(host: string, key: string): ReadResult {
    const file = this.fileOf(host, key);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { missing: true, file };
      return { corrupt: (err as Error).message, file };
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { corrupt: `not valid JSON (${text.length} bytes; truncated?)`, file };
    }
    const problem = entryProblem(value, key);
    return problem ? { corrupt: problem, file } : { entry: value as CacheEntry, file };
  }

  /** Writes an entry whole or not at all; returns its file. */
  write(host: string, entry: CacheEntry): string {
    const file = this.fileOf(host, entry.key);
    mkdirSync(join(this.dir, hostFolder(host)), { recursive: true });
    this.ignoreUsage();
    const tmp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(entry, null, 2)}\n`);
    renameSync(tmp, file);
    return file;
  }

  /** Notes that this run used the entry (once per key per process). */
  noteUse(runKey: string, key: string, now = new Date()): void {
    if (this.usedKeys.has(key)) return;
    this.usedKeys.add(key);
    mkdirSync(join(this.dir, USAGE), { recursive: true });
    this.ignoreUsage();
    appendFileSync(join(this.dir, USAGE, `${safeName(runKey)}.log`), `${now.toISOString()} ${key}\n`);
  }

  /** The usage log is local bookkeeping: keep it out of git when the cache is committed. */
  private ignoreUsage(): void {
    if (this.gitignoreChecked) return;
    this.gitignoreChecked = true;
    const file = join(this.dir, ".gitignore");
    mkdirSync(this.dir, { recursive: true });
    if (!existsSync(file)) writeFileSync(file, `${USAGE}/\n*.tmp\n`);
  }

  /** Every entry file, with its host folder. */
  entries(): Array<{ host: string; key: string; file: string; bytes: number; mtimeMs: number }> {
    if (!existsSync(this.dir)) return [];
    const out = [];
    for (const host of readdirSync(this.dir, { withFileTypes: true })) {
      // Host folders never start with a dot: `.usage`, `.git` and the like are not entries.
      if (!host.isDirectory() || host.name.startsWith(".")) continue;
      for (const name of readdirSync(join(this.dir, host.name))) {
        if (!name.endsWith(".json")) continue;
        const file = join(this.dir, host.name, name);
        const st = statSync(file);
        out.push({ host: host.name, key: name.slice(0, -5), file, bytes: st.size, mtimeMs: st.mtimeMs });
      }
    }
    return out;
  }

  /** Each run's usage: run key → key → the first time that run used it. */
  usage(): Map<string, Map<string, number>> {
    const runs = new Map<string, Map<string, number>>();
    const dir = join(this.dir, USAGE);
    if (!existsSync(dir)) return runs;
    for (const name of readdirSync(dir)) {
      if (!name.endsWith(".log")) continue;
      const used = new Map<string, number>();
      for (const line of readFileSync(join(dir, name), "utf8").split("\n")) {
        const [at, key] = line.split(" ");
        const t = Date.parse(at ?? "");
        if (key && Number.isFinite(t) && !used.has(key)) used.set(key, t);
      }
      runs.set(name.slice(0, -4), used);
    }
    return runs;
  }

  remove(file: string): void {
    unlinkSync(file);
  }

  /** Removes every entry (the host folders) and the usage log; other files in the folder stay. */
  clear(): number {
    const n = this.entries().length;
    if (existsSync(this.dir)) {
      for (const d of readdirSync(this.dir, { withFileTypes: true })) {
        if (d.isDirectory() && (d.name === USAGE || !d.name.startsWith(".")))
          rmSync(join(this.dir, d.name), { recursive: true, force: true });
      }
    }
    return n;
  }
}

/** `api.openai.com`, `127.0.0.1_8080`: a host as a folder name on every OS. */
export function hostFolder(host: string): string {
  return host.toLowerCase().replace(/[^a-z0-9.-]/g, "_");
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, "-");
}
