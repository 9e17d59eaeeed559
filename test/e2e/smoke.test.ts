import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { startBackend, type Backend } from "../support/backend.js";
import { MATRIX, runVitest } from "../support/run-vitest.js";
import { generateSuite } from "../support/suite.js";

let backend: Backend;
beforeAll(async () => {
  backend = await startBackend();
});
afterAll(() => backend?.close());

test("smoke: 2 files × 3 tests on vitest 4 land in one experiment", async () => {
  const suite = generateSuite(join(MATRIX, "vitest4", ".suites", "smoke"), { flavour: "tally", files: 2, tests: 3 });
  const r = await runVitest("vitest4", suite.dir, [], { LANGSMITH_API_KEY: "fake-key", LANGSMITH_ENDPOINT: backend.url });
  expect(r.code).toBe(0);
  const [ds] = await backend.datasets(suite.dataset);
  expect(ds).toBeDefined();
  const exps = await backend.experimentsOf(ds!.id);
  expect(exps).toHaveLength(1);
  const runs = await backend.runsOf(exps[0]!.id);
  const roots = runs.filter((r) => !r.parent_run_id);
  expect(roots).toHaveLength(6);
});
