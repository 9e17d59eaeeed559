import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { startBackend, type Backend } from "../support/backend.js";
import { expectDelivered, expectPlainTraces } from "../support/checks.js";
import { recordCompat } from "../support/compat.js";
import { caseLabel, VITEST_CASES } from "../support/matrix-cases.js";
import { MATRIX, runVitest } from "../support/run-vitest.js";
import { generateSuite } from "../support/suite.js";

// Real vitest processes (3.2, 4.1, 5.1; langsmith 0.12, 0.11, 0.10 and 0.3) on a generated suite of 8 files × 10 tests with nested traces
// and feedback, plus concurrent, failing, retried and plain-traceable tests, against the project's
// LangSmith-compatible server over HTTP with a fake key, as a user's CI would against LangSmith.

const EXTRAS = { plainTraceableTests: 5, concurrentTests: 5, failingTests: 3, flakyTests: 2 };
// retry: 1 re-runs the flaky tests and the failing ones; every attempt is recorded as its own run.
const RETRY = "retry: 1,";

let backend: Backend | undefined;
afterEach(async () => {
  await backend?.close();
  backend = undefined;
});

describe("vitest matrix against the server over HTTP", () => {
  test.each(VITEST_CASES.map((c) => [caseLabel(c), c] as const))("%s", async (_name, c) => {
    await recordCompat(c, async () => {
      const { pkg, pool, isolate } = c;
      backend = await startBackend();
      const suite = generateSuite(join(MATRIX, pkg, ".suites", `${pool}-${isolate}`), {
        flavour: "tally",
        ...EXTRAS,
        testOptions: `${RETRY} pool: ${JSON.stringify(pool)}, isolate: ${isolate},`,
      });
      const r = await runVitest(pkg, suite.dir, [], { LANGSMITH_API_KEY: "fake-key", LANGSMITH_ENDPOINT: backend.url });
      const out = r.stdout + r.stderr;
      expect(r.code, out).toBe(1); // the deliberately failing tests
      expect(out).toContain(`tally: ${suite.expectedRuns}/${suite.expectedRuns} runs`);
      expect(out).not.toContain("missing run");
      await expectDelivered(backend, suite, { extraAttempts: EXTRAS.flakyTests + EXTRAS.failingTests, failing: EXTRAS.failingTests });
      await expectPlainTraces(backend, EXTRAS.plainTraceableTests);
      expect(out, "the key never shows up in output").not.toContain("fake-key");
      return `${suite.expectedRuns}/${suite.expectedRuns}`;
    });
  });
});
