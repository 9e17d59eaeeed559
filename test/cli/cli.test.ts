import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { experimentIdentity } from "../../packages/core/src/identity/experiment.js";
import { objectHash } from "../../packages/core/src/identity/example-hash.js";
import { startServer } from "../../packages/store/src/index.js";
import { Spool } from "../../packages/core/src/spool/spool.js";
import { uuid7 } from "../../packages/core/src/wire/ids.js";
import { REPO, runNode } from "../support/run-vitest.js";

const TALLY = join(REPO, "packages", "store", "bin", "tally.mjs");

test("tally server answers as a LangSmith endpoint until stopped", async () => {
  const child = spawn(process.execPath, [TALLY, "server", "--port", "0", "--db", ":memory:"], { stdio: ["ignore", "pipe", "pipe"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
  const info = await (await fetch(`${url}/info`)).json();
  expect(info.instance_flags.dataset_examples_multipart_enabled).toBe(true);
  child.kill("SIGTERM");
  expect(await new Promise((r) => child.on("exit", r))).toBe(0);
});

test("tally flush sends what a run left in the spool, once", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tally-flush-"));
  // What a run leaves behind when the backend was unreachable: a test, its run, its feedback.
  const spool = Spool.create(join(dir, "spool"), { pid: 999999, runKey: "left-1", startedAt: "", backend: "local" });
  const experiment = experimentIdentity("left-behind", "left-1");
  const runId = uuid7();
  const inputs = { q: "x" };
  spool.append([
    {
      t: "test",
      test: { runId, dataset: "left-behind", experiment, name: "t", inputs, inputsHash: objectHash(inputs), outputsHash: objectHash({}) },
    },
    {
      t: "run",
      op: {
        kind: "create",
        run: {
          id: runId,
          trace_id: runId,
          dotted_order: `20261121T000000000000Z${runId}`,
          name: "t",
          run_type: "chain",
          session_name: experiment.name,
          reference_example_id: runId,
          start_time: "2026-11-21T00:00:00Z",
          end_time: "2026-11-21T00:00:01Z",
          inputs,
        },
      },
    },
    { t: "feedback", feedback: { id: uuid7(), run_id: runId, key: "pass", score: true, session_id: experiment.id } },
  ]);

  const first = await runNode([TALLY, "flush", "--dir", dir], REPO, {});
  expect(first.code, first.stdout + first.stderr).toBe(0);
  expect(first.stdout).toContain("sent 3 records");
  const second = await runNode([TALLY, "flush", "--dir", dir], REPO, {});
  expect(second.stdout).toContain("nothing to send");

  const store = await startServer({ dbPath: join(dir, "tally.db") });
  try {
    const run = store.store.runs.get(runId)!;
    expect(run.reference_example_id).not.toBe(runId);
    expect(store.store.examples.get(run.reference_example_id!)?.inputs).toEqual(inputs);
    expect(store.store.feedback.list({ runs: [runId] })).toHaveLength(1);
  } finally {
    await store.close();
  }
});
