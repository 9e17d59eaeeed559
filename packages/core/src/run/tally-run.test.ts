import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { startTallyRun } from "./tally-run.js";

// The workers' environment is the run's only for the run: a user's own TALLY_DATASET (say) is there
// again for the next run in watch mode, and nothing of the run is left behind.

test("exposeToWorkers puts the run's environment in place, and the run's end puts the user's back", async () => {
  // A LangSmith stand-in that knows nothing: the run records nothing and ends at once.
  const server = createServer((_req, res) => res.writeHead(404).end()).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const env: NodeJS.ProcessEnv = {
    LANGSMITH_API_KEY: "fake-key",
    LANGSMITH_ENDPOINT: endpoint,
    TALLY_DATASET: "mine",
    TALLY_CACHE: "auto",
    TALLY_DIR: mkdtempSync(join(tmpdir(), "tally-run-env-")),
  };
  const run = await startTallyRun({ root: env.TALLY_DIR!, env, runner: "test", log: () => {} });
  try {
    run.exposeToWorkers(env);
    expect(env.TALLY_COLLECTOR_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.TALLY_RUN_TOKEN).toMatch(/^tally-/);
    expect(env.TALLY_DATASET).toBe("mine");
    expect(env.TALLY_CACHE).toBe("auto");
    await run.finish({ files: [], trackedFrom: "tests" });
    expect(env.TALLY_COLLECTOR_URL).toBeUndefined();
    expect(env.TALLY_RUN_TOKEN).toBeUndefined();
    expect(env.TALLY_DATASET).toBe("mine");
    expect(env.TALLY_CACHE).toBe("auto");
    expect(env.TALLY_CACHE_MODULE).toBeUndefined();
  } finally {
    await run.abort();
    server.close();
  }
});
