import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { Spool } from "../spool/spool.js";
import { claimLeftBehind } from "./left-behind.js";

const owner = { pid: 1, runKey: "k", startedAt: "now", backend: "local" };
const run = (id: string) => ({ t: "run" as const, op: { kind: "create" as const, run: { id } } });
const DEAD = 4_194_400;

test("claimLeftBehind: only dead owners' spools for the accepted backend; complete ones are removed", () => {
  const root = mkdtempSync(join(tmpdir(), "spool-"));
  Spool.create(root, { ...owner, pid: process.pid }).append([run("live")]);
  const waiting = Spool.create(root, { ...owner, pid: DEAD, runKey: "waiting" });
  waiting.append([run("a")]);
  const elsewhere = Spool.create(root, { ...owner, pid: DEAD, runKey: "elsewhere", backend: "https://other" });
  elsewhere.append([run("b")]);
  const empty = Spool.create(root, { ...owner, pid: DEAD, runKey: "empty" });

  const claimed = claimLeftBehind(root, (b) => b === "local");
  expect(claimed.map((c) => c.spool.dir)).toEqual([waiting.dir]);
  expect(Spool.list(root)).not.toContain(empty.dir);
  expect(Spool.list(root)).toContain(elsewhere.dir);
});
