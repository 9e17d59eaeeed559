import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { startBackend, type Backend } from "../support/backend.js";
import { expectDelivered, expectJunitLinks, expectPlainTraces, openLocalStore } from "../support/checks.js";
import { expectApiCoverage } from "../support/api-coverage.js";
import { loadFixture } from "../support/fixture.js";
import { recordCompat } from "../support/compat.js";
import { caseLabel, JEST_CASES, type JestCase } from "../support/matrix-cases.js";
import { MATRIX, REPO, runJest } from "../support/run-vitest.js";
import { generateSuite } from "../support/suite.js";

// Real jest processes (29.7, 30.5) on generated TypeScript suites (babel-jest) with
// `preset: "@tally/jest-preset"`: 8 files × 10 tests with nested traces and feedback, plus concurrent,
// failing, retried (jest.retryTimes) and plain-traceable tests, against the project's server over HTTP.

const EXTRAS = { plainTraceableTests: 5, concurrentTests: 5, failingTests: 3, flakyTests: 2 };

let backend: Backend | undefined;
afterEach(async () => {
  await backend?.close();
  backend = undefined;
});
const remote = (b: Backend, extra: Record<string, string> = {}) => ({ LANGSMITH_API_KEY: "fake-key", LANGSMITH_ENDPOINT: b.url, ...extra });
const suiteDir = (name: string, pkg = "jest30") => join(MATRIX, pkg, ".suites", name);

const ARGS: Record<JestCase["mode"], string[]> = {
  workers: ["--maxWorkers=2"],
  workerThreads: ["--maxWorkers=2", "--workerThreads"],
  inBand: ["--runInBand"],
};

describe("jest matrix against the server over HTTP", () => {
  test.each(JEST_CASES.map((c) => [caseLabel(c), c] as const))("%s", async (_name, c) => {
    await recordCompat(c, async () => {
      const { pkg, mode } = c;
      backend = await startBackend();
      const suite = generateSuite(suiteDir(mode, pkg), { flavour: "tally", runner: "jest", ...EXTRAS });
      const r = await runJest(pkg, suite.dir, ARGS[mode], remote(backend));
      const out = r.stdout + r.stderr;
      expect(r.code, out).toBe(1); // the deliberately failing tests
      expect(out).toContain(`tally: ${suite.expectedRuns}/${suite.expectedRuns} runs`);
      expect(out).not.toContain("missing run");
      expect(out).not.toContain("failed to exit gracefully");
      // One row per test in the table, under the name Jest gives it (concurrent tests included).
      for (let t = 0; t < EXTRAS.concurrentTests; t++) expect(out).toContain(`tally-e2e concurrent ${t} `);
      await expectDelivered(backend, suite, { extraAttempts: EXTRAS.flakyTests + EXTRAS.failingTests, failing: EXTRAS.failingTests });
      await expectPlainTraces(backend, EXTRAS.plainTraceableTests);
      expect(out, "the key never shows up in output").not.toContain("fake-key");
      return `${suite.expectedRuns}/${suite.expectedRuns}`;
    });
  });
});

describe("the ls API on Jest", () => {
  test("every export and option records what it should", async () => {
    backend = await startBackend();
    const dir = loadFixture("api-coverage", "jest30");
    const r = await runJest("jest30", dir, [], remote(backend));
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    await expectApiCoverage(backend, out);
  });
});

describe("jest modes and features", () => {
  test("no API key: records into the embedded store under .tally/", async () => {
    const suite = generateSuite(suiteDir("local"), { flavour: "tally", runner: "jest", files: 3, tests: 5 });
    const r = await runJest("jest30", suite.dir, [], {});
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    expect(out).toContain("recording to local store");
    expect(out).toContain("tally: 15/15 runs · 60 spans · 30 feedback delivered");
    expect(out).toContain("tally ui");
    backend = await openLocalStore(suite.dir);
    await expectDelivered(backend, suite);
  });

  test("two --shard processes with one run id converge on one experiment", async () => {
    backend = await startBackend();
    const suite = generateSuite(suiteDir("shards"), { flavour: "tally", runner: "jest" });
    const env = remote(backend, { TALLY_RUN_ID: "ci-4343" });
    const [a, b] = await Promise.all([
      runJest("jest30", suite.dir, ["--shard=1/2", "--maxWorkers=2"], env),
      runJest("jest30", suite.dir, ["--shard=2/2", "--maxWorkers=2"], env),
    ]);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(a.stderr).toContain("tally: 40/40 runs");
    expect(b.stderr).toContain("tally: 40/40 runs");
    const { experiment } = await expectDelivered(backend, suite);
    expect(experiment.name).toBe("tally-e2e:ci-4343");
  });

  test("jest-junit gets the experiment URL as a property on every tracked test", async () => {
    backend = await startBackend({ latencyMs: 100 });
    const props = join(REPO, "packages", "jest-preset", "dist");
    const suite = generateSuite(suiteDir("junit"), {
      flavour: "tally",
      runner: "jest",
      files: 3,
      tests: 4,
      jestOptions: `reporters: ["default", "@tally/jest-preset/reporter", ["jest-junit", { outputDirectory: "<rootDir>", outputName: "junit.xml", testCasePropertiesDirectory: ${JSON.stringify(props)}, testCasePropertiesFile: "junit-properties.js" }]],`,
    });
    const r = await runJest("jest30", suite.dir, [], remote(backend));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expectJunitLinks(join(suite.dir, "junit.xml"), 12);
  });

  test("--reporters without Tally's: globalTeardown still finishes the run and prints the delivery line", async () => {
    backend = await startBackend();
    const suite = generateSuite(suiteDir("no-reporter"), { flavour: "tally", runner: "jest", files: 2, tests: 3 });
    const r = await runJest("jest30", suite.dir, ["--reporters=summary"], remote(backend));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain("tally: 6/6 runs");
    await expectDelivered(backend, suite);
  });

  test("plugin options come from the reporter entry (dataset shared by every file)", async () => {
    backend = await startBackend();
    const suite = generateSuite(suiteDir("dataset-option"), {
      flavour: "tally",
      runner: "jest",
      files: 2,
      tests: 3,
      dataset: "ignored-describe-name",
      jestOptions: `reporters: ["default", ["@tally/jest-preset/reporter", { dataset: "shared-by-option" }]],`,
    });
    const r = await runJest("jest30", suite.dir, [], remote(backend));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain("tally: 6/6 runs");
    expect(await backend.datasets("ignored-describe-name")).toHaveLength(0);
    await expectDelivered(backend, { ...suite, dataset: "shared-by-option" });
  });

  test("a worker that exits mid-file: the other files land and the file is named", async () => {
    backend = await startBackend();
    // workerIdleMemoryLimit makes Jest use workers even when its timing cache says "run in band".
    const suite = generateSuite(suiteDir("crash"), {
      flavour: "tally",
      runner: "jest",
      files: 3,
      tests: 3,
      jestOptions: `workerIdleMemoryLimit: "1GB",`,
    });
    const crashing = join(suite.dir, "evals", "file-02.test.ts");
    const src = readFileSync(crashing, "utf8").replace(
      'ls.describe("tally-e2e", () => {',
      'ls.describe("tally-e2e", () => {\n  ls.test("exits", { inputs: { q: "exit" } }, async () => { process.exit(3); });',
    );
    writeFileSync(crashing, src);
    const r = await runJest("jest30", suite.dir, ["--maxWorkers=2"], remote(backend));
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(1);
    // Jest runs the file again on each exit; the tests after the exit are never reported.
    expect(out).toMatch(/tally: worker for evals\/file-02\.test\.ts died before reporting: \d tests \(.*tally-e2e case 2-0/);
    // The two healthy files' runs (6) arrived in the one experiment.
    const [ds] = await backend.datasets("tally-e2e");
    const [exp] = await backend.experimentsOf(ds!.id);
    const roots = (await backend.runsOf(exp!.id)).filter((x) => !x.parent_run_id);
    expect(roots.length).toBeGreaterThanOrEqual(6);
  });
});
