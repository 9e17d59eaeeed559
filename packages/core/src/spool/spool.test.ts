import { appendFileSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { Spool } from "./spool.js";

const owner = { pid: 1, runKey: "k", startedAt: "now", backend: "local" };
const run = (id: string) => ({ t: "run" as const, op: { kind: "create" as const, run: { id } } });

test("records survive a reopen; what was sent is not pending again", () => {
  const root = mkdtempSync(join(tmpdir(), "spool-"));
  const spool = Spool.create(root, owner);
  const recs = spool.append([run("a"), run("b"), run("c")]);
  expect(recs.map((r) => r.seq)).toEqual([1, 2, 3]);
  spool.markDone([1, 3]);

  const again = Spool.open(spool.dir);
  expect(again.owner()).toEqual(owner);
  expect(again.pending().map((r) => r.seq)).toEqual([2]);
  expect(again.append([run("d")])[0]!.seq).toBe(4);
});

test("a torn last line (killed mid-write, never acknowledged) is skipped", () => {
  const root = mkdtempSync(join(tmpdir(), "spool-"));
  const spool = Spool.create(root, owner);
  spool.append([run("a")]);
  appendFileSync(join(spool.dir, "records.jsonl"), '{"seq":2,"t":"run","op":{"kind":"cre');
  expect(Spool.open(spool.dir).pending()).toHaveLength(1);
});

test("a complete spool removes itself; an incomplete one stays", () => {
  const root = mkdtempSync(join(tmpdir(), "spool-"));
  const spool = Spool.create(root, owner);
  spool.append([run("a"), run("b")]);
  spool.markDone([1]);
  expect(spool.removeIfComplete()).toBe(false);
  spool.markDone([2]);
  expect(spool.removeIfComplete()).toBe(true);
  expect(readdirSync(root)).toEqual([]);
  expect(Spool.list(root)).toEqual([]);
});

// Above Linux's largest pid (2^22): never a live process.
const DEAD = 4_194_400;

test("claim: a live owner's spool (this process's own included) is never taken; a dead one's is, once", () => {
  const root = mkdtempSync(join(tmpdir(), "spool-"));
  const mine = Spool.create(root, { ...owner, pid: process.pid });
  expect(mine.claim()).toBe(false);
  const orphan = Spool.create(root, { ...owner, pid: DEAD });
  expect(orphan.claim()).toBe(true);
  expect(orphan.claim(), "the same claimant again").toBe(true);
  expect(Spool.open(orphan.dir).claim(process.ppid), "another live claimant").toBe(false);
});

test("claim: a claim whose claimant died is void", () => {
  const root = mkdtempSync(join(tmpdir(), "spool-"));
  const orphan = Spool.create(root, { ...owner, pid: DEAD });
  expect(orphan.claim(DEAD + 1)).toBe(true);
  expect(Spool.open(orphan.dir).claim()).toBe(true);
});
