// The official `langsmith/vitest` integration, run in a child vitest process, against the embedded
// server: the full flow (dataset get-or-create, experiment, example sync, traces, feedback, flush)
// must land, twice in a row (the second run finds the dataset and examples already there).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../packages/store/src/index.js";
import { uuid4 } from "../../packages/core/src/wire/ids.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CONFIG = fileURLToPath(new URL("./fixtures/official/vitest.config.ts", import.meta.url));
const VITEST = fileURLToPath(new URL("../../node_modules/vitest/vitest.mjs", import.meta.url));

let srv: RunningServer;
beforeAll(async () => {
  srv = await startServer();
});
afterAll(() => srv.close());

/** Runs the fixture suite in a child vitest. Async on purpose: the server lives in this process. */
function runFixture(suite: string): Promise<{ status: number | null; output: string }> {
  const child = spawn(process.execPath, [VITEST, "run", "--config", CONFIG], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      LANGSMITH_ENDPOINT: srv.url,
      LANGSMITH_API_KEY: "fake-key",
      LANGSMITH_TRACING: "true",
      TALLY_FIXTURE_SUITE: suite,
      VITEST: undefined,
      VITEST_POOL_ID: undefined,
      VITEST_WORKER_ID: undefined,
      NODE_OPTIONS: undefined,
    },
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill(), 120_000);
  return new Promise((resolve) => {
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

describe("official langsmith/vitest integration against the embedded server", () => {
  it("delivers datasets, examples, experiments, traces and feedback", async () => {
    const suite = `official-${uuid4()}`;
    for (const attempt of [1, 2]) {
      const { status, output } = await runFixture(suite);
      expect(status, output).toBe(0);

      const ds = srv.store.datasets.getByName(suite);
      expect(ds, output).toBeDefined();
      expect(srv.store.examples.list({ datasetId: ds!.id })).toHaveLength(3);
      const experiments = srv.store.sessions.list({ referenceDatasets: [ds!.id], includeStats: true });
      expect(experiments).toHaveLength(attempt); // one new experiment per run of the describe block
      for (const exp of experiments) {
        const runs = srv.store.runs.query({ session: [exp.id], limit: 100 }).runs;
        const roots = runs.filter((r) => r.parent_run_id === null);
        expect(roots, output).toHaveLength(3);
        expect(runs.filter((r) => r.name === "add")).toHaveLength(3);
        expect(runs.every((r) => r.status === "success")).toBe(true);
        expect(roots.every((r) => r.reference_example_id !== null)).toBe(true);
        expect(exp.run_count).toBe(3);
        expect(exp.feedback_stats).toMatchObject({ pass: { n: 3, avg: 1 }, exact: { n: 3, avg: 1 } });
      }
    }
  });
});
