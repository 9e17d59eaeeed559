import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { expect, test } from "vitest";

// Two test runs starting at once in one project open the same new store file. Both switch it to WAL,
// which needs an exclusive lock: when both hold a shared one, SQLite answers "database is locked" at
// once instead of waiting out the busy timeout (seen on two Jest globalSetups). Threads, released
// together by a barrier, make that moment happen on every round.

const SCHEMA = new URL("../../dist/db/schema.js", import.meta.url).href;
const OPEN = `
const { workerData } = await import("node:worker_threads");
const { DatabaseSync } = await import("node:sqlite");
const { initSchema } = await import(${JSON.stringify(SCHEMA)});
const { path, barrier, parties } = workerData;
const count = new Int32Array(barrier);
const db = new DatabaseSync(path);
Atomics.add(count, 0, 1);
while (Atomics.load(count, 0) < parties) {} // spin: start the switch at the same instant
initSchema(db, false);
db.close();
`;

function openTogether(path: string, parties: number): Promise<Array<Error | undefined>> {
  const barrier = new SharedArrayBuffer(4);
  return Promise.all(
    Array.from(
      { length: parties },
      () =>
        new Promise<Error | undefined>((resolve) => {
          const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(OPEN)}`), { workerData: { path, barrier, parties } });
          w.once("error", (err) => resolve(err));
          w.once("exit", () => resolve(undefined));
        }),
    ),
  );
}

test("runs opening one new store file at the same instant all get it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tally-open-"));
  try {
    for (let round = 0; round < 20; round++) {
      const errors = await openTogether(join(dir, `round-${round}.db`), 3);
      expect(errors.map((e) => e?.message)).toEqual([undefined, undefined, undefined]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
