import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SpoolBody, SpoolRecord } from "./records.js";

// The spool is the collector's promise to workers: a record is appended here *before* the worker's
// request is answered, so anything acknowledged survives a slow or dead backend and a killed main
// process. It is a folder per test run: `records.jsonl` (append-only) and `done.log` (the sequence
// numbers the backend accepted, or rejected for good). `write()` goes through the page cache, which
// outlives the process; an fsync per request would cost more than the whole loopback round trip.

const RECORDS = "records.jsonl";
const DONE = "done.log";
const OWNER = "owner.json";
const CLAIM = "claim.lock";

export interface SpoolOwner {
  pid: number;
  runKey: string;
  startedAt: string;
  /** Where the run's data goes ("local" or the backend URL); never a key. */
  backend: string;
}

export class Spool {
  readonly dir: string;
  private nextSeq = 1;
  private readonly done = new Set<number>();
  private records: SpoolRecord[] = [];

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** A fresh spool for a run that is starting now. */
  static create(root: string, owner: SpoolOwner): Spool {
    const name = `${owner.runKey}.${owner.pid}.${Date.now().toString(36)}`;
    const spool = new Spool(join(root, name));
    mkdirSync(spool.dir, { recursive: true });
    writeFileSync(join(spool.dir, OWNER), JSON.stringify(owner));
    writeFileSync(join(spool.dir, RECORDS), "");
    return spool;
  }

  /** Re-open a spool left behind (backend down, main process killed) to send what it still holds. */
  static open(dir: string): Spool {
    const spool = new Spool(dir);
    const lines = readFileSync(join(dir, RECORDS), "utf8").split("\n");
    for (const line of lines) {
      if (!line) continue;
      try {
        const rec = JSON.parse(line) as SpoolRecord;
        spool.records.push(rec);
        spool.nextSeq = Math.max(spool.nextSeq, rec.seq + 1);
      } catch {
        // A torn last line from a kill mid-write was never acknowledged; skip it.
      }
    }
    if (existsSync(join(dir, DONE))) {
      for (const s of readFileSync(join(dir, DONE), "utf8").split(/[\s,]+/)) if (s) spool.done.add(Number(s));
    }
    return spool;
  }

  static list(root: string): string[] {
    if (!existsSync(root)) return [];
    return readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(root, d.name, RECORDS)))
      .map((d) => join(root, d.name));
  }

  owner(): SpoolOwner | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, OWNER), "utf8")) as SpoolOwner;
    } catch {
      return undefined;
    }
  }

  /**
   * Takes a left-behind spool for this process, so that two runs (or a run and `tally flush`)
   * starting at once never send it both. False while its owner or another claimant is alive.
   */
  claim(pid = process.pid): boolean {
    const owner = this.owner();
    // A live owner is sending it (this process included: a run never takes its own spool).
    if (owner && isAlive(owner.pid)) return false;
    const file = join(this.dir, CLAIM);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(file, String(pid), { flag: "wx" });
        return true;
      } catch {
        const holder = Number(readFileSync(file, "utf8"));
        if (holder === pid) return true;
        if (isAlive(holder)) return false;
        // The claimant died (killed mid-flush): its claim is void.
        rmSync(file, { force: true });
      }
    }
    return false;
  }

  /** Durably appends the bodies and returns them numbered. */
  append(bodies: SpoolBody[]): SpoolRecord[] {
    if (bodies.length === 0) return [];
    const recs = bodies.map((b) => ({ ...b, seq: this.nextSeq++ }) as SpoolRecord);
    appendFileSync(join(this.dir, RECORDS), `${recs.map((r) => JSON.stringify(r)).join("\n")}\n`);
    this.records.push(...recs);
    return recs;
  }

  markDone(seqs: number[]): void {
    if (seqs.length === 0) return;
    appendFileSync(join(this.dir, DONE), `${seqs.join(",")}\n`);
    for (const s of seqs) this.done.add(s);
  }

  isDone(seq: number): boolean {
    return this.done.has(seq);
  }

  all(): readonly SpoolRecord[] {
    return this.records;
  }

  pending(): SpoolRecord[] {
    return this.records.filter((r) => !this.done.has(r.seq));
  }

  /** Removes the folder once everything in it reached the backend. */
  removeIfComplete(): boolean {
    if (this.pending().length > 0) return false;
    rmSync(this.dir, { recursive: true, force: true });
    return true;
  }
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
