import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { SpoolBody, SpoolRecord } from "./records.js";

// The spool is the collector's promise to workers: a record is appended here *before* the worker's
// request is answered, so anything acknowledged survives a slow or dead backend and a killed main
// process. It is a folder per test run: `records.jsonl` (append-only) and `done.log` (the sequence
// numbers the backend accepted, or rejected for good). `write()` goes through the page cache, which
// outlives the process; an fsync per request would cost more than the whole loopback round trip.
// A run's own spool keeps no record in memory once written: the sender holds a bounded window of
// them and reads the rest back from the file (`readFrom`) when it has room.

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
  /** Every record, for a spool re-opened to be sent again; undefined for a run's own spool. */
  private records: SpoolRecord[] | undefined;
  /** Bytes in records.jsonl, and where each append began: [first seq, byte offset]. */
  private size = 0;
  private readonly marks: Array<[number, number]> = [];
  /** Open for appending (once: opening the file per request cost more than writing to it). */
  private fds: { records?: number; done?: number } = {};
  /** Each record's JSON length, for the sender's batch sizes (records read back have none). */
  private readonly sizes = new WeakMap<SpoolRecord, number>();

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
    spool.records = [];
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
    const lines = recs.map((r) => JSON.stringify(r));
    for (let i = 0; i < recs.length; i++) this.sizes.set(recs[i]!, lines[i]!.length);
    const text = `${lines.join("\n")}\n`;
    this.fds.records ??= openSync(join(this.dir, RECORDS), "a");
    writeSync(this.fds.records, text);
    this.marks.push([recs[0]!.seq, this.size]);
    this.size += Buffer.byteLength(text);
    this.records?.push(...recs);
    return recs;
  }

  /** The sequence number the next record will get. */
  get next(): number {
    return this.nextSeq;
  }

  /**
   * Up to `max` records from sequence number `seq` on, read back from the file: what the sender
   * left on disk while its window was full.
   */
  readFrom(seq: number, max: number): SpoolRecord[] {
    if (this.records) return this.records.filter((r) => r.seq >= seq).slice(0, max);
    const out: SpoolRecord[] = [];
    let offset = this.markBefore(seq);
    const fd = openSync(join(this.dir, RECORDS), "r");
    try {
      const chunk = Buffer.alloc(1 << 20);
      let rest = "";
      while (out.length < max && offset < this.size) {
        const n = readSync(fd, chunk, 0, Math.min(chunk.length, this.size - offset), offset);
        if (n <= 0) break;
        offset += n;
        const lines = (rest + chunk.toString("utf8", 0, n)).split("\n");
        rest = lines.pop()!;
        for (const line of lines) {
          if (!line) continue;
          const rec = JSON.parse(line) as SpoolRecord;
          if (rec.seq >= seq && out.length < max) out.push(rec);
        }
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }

  /** The byte offset of the append that holds `seq` (binary search over the appends' marks). */
  private markBefore(seq: number): number {
    let lo = 0;
    let hi = this.marks.length - 1;
    let at = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.marks[mid]![0] <= seq) {
        at = this.marks[mid]![1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return at;
  }

  markDone(seqs: number[]): void {
    if (seqs.length === 0) return;
    this.fds.done ??= openSync(join(this.dir, DONE), "a");
    writeSync(this.fds.done, `${seqs.join(",")}\n`);
    for (const s of seqs) this.done.add(s);
  }

  isDone(seq: number): boolean {
    return this.done.has(seq);
  }

  /** Every record of a re-opened spool (a run's own spool keeps none in memory: use `readFrom`). */
  all(): readonly SpoolRecord[] {
    return this.records ?? this.readFrom(1, Number.POSITIVE_INFINITY);
  }

  pending(): SpoolRecord[] {
    return this.all().filter((r) => !this.done.has(r.seq));
  }

  /** Records not yet done (sent, or refused for good). */
  pendingCount(): number {
    if (this.records) return this.records.filter((r) => !this.done.has(r.seq)).length;
    return this.nextSeq - 1 - this.done.size;
  }

  /** The JSON length of a record this spool appended (undefined for one read back from the file). */
  sizeOf(rec: SpoolRecord): number | undefined {
    return this.sizes.get(rec);
  }

  /** Closes the files kept open for appending (appending again reopens them). */
  close(): void {
    for (const fd of Object.values(this.fds)) if (fd !== undefined) closeSync(fd);
    this.fds = {};
  }

  /** Removes the folder once everything in it reached the backend. */
  removeIfComplete(): boolean {
    if (this.pendingCount() > 0) return false;
    this.close();
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
