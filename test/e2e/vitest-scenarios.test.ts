import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { startBackend, type Backend } from "../support/backend.js";
import { expectDelivered, expectJunitLinks, openLocalStore } from "../support/checks.js";
import { expectApiCoverage } from "../support/api-coverage.js";
import { loadFixture } from "../support/fixture.js";
import { MATRIX, runVitest } from "../support/run-vitest.js";
import { generateSuite, writeTallyTestFile } from "../support/suite.js";

// Behaviours beyond the pool matrix, each a real vitest 4.1 run (5.1 where it matters).

let backend: Backend | undefined;
afterEach(async () => {
  await backend?.close();
  backend = undefined;
});
const remote = (b: Backend, extra: Record<string, string> = {}) => ({ LANGSMITH_API_KEY: "fake-key", LANGSMITH_ENDPOINT: b.url, ...extra });
const suiteDir = (name: string, pkg = "vitest4") => join(MATRIX, pkg, ".suites", name);

// On every langsmith line Tally supports: 0.12 (vitest4's default), 0.11, 0.10 and the oldest, 0.3.
const LANGSMITH_LINES = ["vitest4", "langsmith011", "langsmith010", "langsmith03"];

describe("the ls API", () => {
  test.each(LANGSMITH_LINES)("every export and option records what it should (%s)", async (pkg) => {
    backend = await startBackend();
    const dir = loadFixture("api-coverage", pkg);
    const r = await runVitest(pkg, dir, [], remote(backend));
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    await expectApiCoverage(backend, out);
    // What only Vitest's fixture file adds: the run of a CommonJS copy of langsmith (its own queue and
    // shared client) was flushed.
    const cjs = await backend.sessionByName("cjs-project");
    expect((await backend.runsOf(cjs!.id)).map((x) => x.name)).toEqual(["via-cjs-copy"]);
  });
});

describe("compatibility and failure reporting", () => {
  test("the official langsmith/vitest and Tally land on the same examples", async () => {
    backend = await startBackend();
    const spec = { files: 1, tests: 3, dataset: "compat" };
    const official = generateSuite(suiteDir("compat-official"), { flavour: "official", ...spec });
    const o = await runVitest("vitest4", official.dir, [], remote(backend, { LANGSMITH_TRACING: "true" }));
    expect(o.code, o.stdout + o.stderr).toBe(0);
    const tally = generateSuite(suiteDir("compat-tally"), { flavour: "tally", ...spec });
    const t = await runVitest("vitest4", tally.dir, [], remote(backend));
    expect(t.code, t.stdout + t.stderr).toBe(0);

    const [ds] = await backend.datasets("compat");
    expect(await backend.examplesOf(ds!.id)).toHaveLength(3);
    const experiments = await backend.experimentsOf(ds!.id);
    expect(experiments).toHaveLength(2);
    const refs = await Promise.all(
      experiments.map(async (e) => {
        const roots = (await backend!.runsOf(e.id)).filter((r) => !r.parent_run_id);
        return Object.fromEntries(roots.map((r) => [r.name.replace(/, test_id=.*$/, ""), r.reference_example_id]));
      }),
    );
    expect(Object.keys(refs[0]!).sort()).toEqual(["case 0-0", "case 0-1", "case 0-2"]);
    expect(refs[0]).toEqual(refs[1]);
  });

  test("runs that never arrive are named, with the reason", async () => {
    backend = await startBackend();
    const suite = generateSuite(suiteDir("sampled-away"), { flavour: "tally", files: 1, tests: 3 });
    // A sampling rate of 0 makes the SDK drop every run silently: exactly what Tally must expose.
    const r = await runVitest("vitest4", suite.dir, [], remote(backend, { LANGSMITH_TRACING_SAMPLING_RATE: "0" }));
    expect(r.stdout).toContain("tally: 0/3 runs");
    for (const n of [0, 1, 2]) {
      expect(r.stdout).toMatch(new RegExp(`missing run: evals/file-00.test.mjs > .*case 0-${n}: its run never reached the collector`));
    }
  });

  test("a worker killed mid-file: the other files still land, the run still reports", async () => {
    backend = await startBackend();
    const suite = generateSuite(suiteDir("killed", "vitest4"), { flavour: "tally", files: 2, tests: 4, testOptions: `pool: "forks",` });
    writeFileSync(
      join(suite.dir, "evals", "killed.test.mjs"),
      `import * as ls from "@tally/vitest-plugin";
ls.describe("tally-e2e", () => {
  ls.test("before the crash", { inputs: { q: "k0" } }, async () => ({ ok: true }));
  ls.test("the crash", { inputs: { q: "k1" } }, async () => { process.kill(process.pid, "SIGKILL"); });
});
`,
    );
    const r = await runVitest("vitest4", suite.dir, [], remote(backend));
    const out = r.stdout + r.stderr;
    expect(r.code).not.toBe(0);
    expect(out).toMatch(/tally: \d+\/\d+ runs/);
    const [ds] = await backend.datasets("tally-e2e");
    const [exp] = await backend.experimentsOf(ds!.id);
    const roots = (await backend.runsOf(exp!.id)).filter((x) => !x.parent_run_id);
    expect(roots.filter((x) => x.name.startsWith("case ")).length).toBe(8);
  });
});

describe("modes and runner features", () => {
  test("no API key: records into the embedded store under .tally/ and says where to look", async () => {
    const suite = generateSuite(suiteDir("local"), { flavour: "tally", files: 3, tests: 5 });
    const r = await runVitest("vitest4", suite.dir, [], {});
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
    const suite = generateSuite(suiteDir("shards"), { flavour: "tally" });
    const env = remote(backend, { TALLY_RUN_ID: "ci-4242" });
    const [a, b] = await Promise.all([
      runVitest("vitest4", suite.dir, ["--shard=1/2"], env),
      runVitest("vitest4", suite.dir, ["--shard=2/2"], env),
    ]);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    expect(a.stdout).toContain("tally: 40/40 runs");
    expect(b.stdout).toContain("tally: 40/40 runs");
    const { experiment } = await expectDelivered(backend, suite);
    expect(experiment.name).toBe("tally-e2e:ci-4242");
  });

  test("--reporter=dot on the command line keeps Tally's reporter", async () => {
    backend = await startBackend();
    const suite = generateSuite(suiteDir("dot", "vitest5"), { flavour: "tally", files: 2, tests: 3 });
    const r = await runVitest("vitest5", suite.dir, ["--reporter=dot"], remote(backend));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("tally: 6/6 runs");
  });

  test("every test carries the experiment URL as a JUnit property", async () => {
    backend = await startBackend({ latencyMs: 100 });
    const suite = generateSuite(suiteDir("junit"), { flavour: "tally", files: 3, tests: 4 });
    const r = await runVitest("vitest4", suite.dir, ["--reporter=junit", "--outputFile=junit.xml"], remote(backend));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expectJunitLinks(join(suite.dir, "junit.xml"), 12);
  });

  test("--merge-reports prints the tables from the shards' blobs", async () => {
    backend = await startBackend();
    const suite = generateSuite(suiteDir("merge"), { flavour: "tally", files: 2, tests: 3 });
    const env = remote(backend, { TALLY_RUN_ID: "merge-1" });
    for (const shard of ["1/2", "2/2"]) {
      const r = await runVitest("vitest4", suite.dir, [`--shard=${shard}`, "--reporter=blob"], env);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    const merged = await runVitest("vitest4", suite.dir, ["--merge-reports"], env);
    expect(merged.code, merged.stdout + merged.stderr).toBe(0);
    expect(merged.stdout).toContain('6 runs recorded in "tally-e2e:merge-1" (merged report');
    expect(merged.stdout).toContain("case 1-2");
    await expectDelivered(backend, suite);
  });

  test("projects: one reporter, one experiment across projects", async () => {
    backend = await startBackend();
    const suite = generateSuite(suiteDir("projects", "vitest5"), { flavour: "tally", files: 4, tests: 5 });
    writeFileSync(
      join(suite.dir, "vitest.config.mjs"),
      `import { tally } from "@tally/vitest-plugin/plugin";
export default {
  plugins: [tally()],
  test: { projects: [
    { extends: true, test: { name: "a", include: ["evals/file-00.test.mjs", "evals/file-01.test.mjs"] } },
    { extends: true, test: { name: "b", include: ["evals/file-02.test.mjs", "evals/file-03.test.mjs"], pool: "threads" } },
  ] },
};
`,
    );
    const r = await runVitest("vitest5", suite.dir, [], remote(backend));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.match(/tally: 20\/20 runs/g)).toHaveLength(1);
    await expectDelivered(backend, suite);
  });

  test("the dataset option puts every file into one dataset", async () => {
    backend = await startBackend();
    const suite = generateSuite(suiteDir("dataset-option"), {
      flavour: "tally",
      files: 3,
      tests: 4,
      pluginOptions: `{ dataset: "shared" }`,
    });
    // Give each file its own describe name: the option must win over them.
    for (const f of [0, 1, 2]) {
      const file = join(suite.dir, "evals", `file-0${f}.test.mjs`);
      const src = readFileSync(file, "utf8").replace(`ls.describe("tally-e2e"`, `ls.describe("own-name-${f}"`);
      writeFileSync(file, src);
    }
    const r = await runVitest("vitest4", suite.dir, [], remote(backend));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await expectDelivered(backend, { ...suite, dataset: "shared" });
    expect(await backend.datasets("own-name-0")).toHaveLength(0);
  });

  test("LANGSMITH_TEST_TRACKING=false runs the tests and records nothing", async () => {
    backend = await startBackend();
    const suite = generateSuite(suiteDir("tracking-off"), { flavour: "tally", files: 2, tests: 3 });
    const r = await runVitest("vitest4", suite.dir, [], remote(backend, { LANGSMITH_TEST_TRACKING: "false" }));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("6 passed");
    expect(await backend.datasets("tally-e2e")).toHaveLength(0);
  });
});

describe("trials and LangSmith's pytest names", () => {
  test("TALLY_TRIALS=3: three runs of each test, tally_trial 0, 1 and 2, on its one example", async () => {
    backend = await startBackend();
    const suite = generateSuite(suiteDir("trials"), { flavour: "tally", files: 2, tests: 3 });
    const r = await runVitest("vitest4", suite.dir, [], remote(backend, { TALLY_TRIALS: "3", TALLY_RUN_ID: "trials-1" }));
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(0);
    expect(r.stdout).toContain("tally: 18/18 runs");
    const { roots } = await expectDelivered(backend, { ...suite, expectedRuns: suite.expectedRuns * 3 });
    const [ds] = await backend.datasets(suite.dataset);
    expect(await backend.examplesOf(ds!.id)).toHaveLength(6);
    // Per example: its three runs (each named as the test was declared), one per trial.
    const byExample = new Map<string, Array<[string, unknown]>>();
    for (const root of roots) {
      const runs = byExample.get(root.reference_example_id!) ?? [];
      runs.push([root.name, root.extra?.metadata?.tally_trial]);
      byExample.set(root.reference_example_id!, runs);
    }
    expect(byExample.size).toBe(6);
    for (const runs of byExample.values()) {
      const name = runs[0]![0];
      expect(runs.sort(([, a], [, b]) => Number(a) - Number(b))).toEqual([
        [name, 0],
        [name, 1],
        [name, 2],
      ]);
    }
  });

  test("LANGSMITH_TEST_SUITE, LANGSMITH_EXPERIMENT and LANGSMITH_EXPERIMENT_METADATA are honoured", async () => {
    backend = await startBackend();
    const suite = generateSuite(suiteDir("pytest-names"), {
      flavour: "tally",
      files: 0,
      tests: 0,
      pluginOptions: `{ metadata: { team: "from-option" } }`,
    });
    // Tests outside any ls.describe, with no dataset option: LANGSMITH_TEST_SUITE names their dataset.
    writeTallyTestFile(
      suite,
      "vitest",
      "loose",
      `for (const q of ["a", "b", "c"]) {
  ls.test(\`loose \${q}\`, { inputs: { q } }, async ({ inputs }) => ({ answer: await app(inputs.q) }));
}`,
    );
    const r = await runVitest(
      "vitest4",
      suite.dir,
      [],
      remote(backend, {
        TALLY_RUN_ID: "names-1",
        LANGSMITH_TEST_SUITE: "pytest-suite",
        LANGSMITH_EXPERIMENT: "nightly",
        LANGSMITH_EXPERIMENT_METADATA: JSON.stringify({ model: "gpt-4o", team: "from-env" }),
      }),
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("tally: 3/3 runs");
    const [ds] = await backend.datasets("pytest-suite");
    expect(ds, 'dataset "pytest-suite"').toBeDefined();
    expect(await backend.examplesOf(ds!.id)).toHaveLength(3);
    const experiments = await backend.experimentsOf(ds!.id);
    expect(experiments.map((e) => e.name)).toEqual(["nightly:names-1"]);
    const exp = experiments[0]!;
    expect(exp.end_time).toBeTruthy();
    // The variable's keys, under the option's.
    expect(exp.extra?.metadata).toMatchObject({ model: "gpt-4o", team: "from-option" });
    const roots = (await backend.runsOf(exp.id)).filter((x) => !x.parent_run_id);
    expect(roots.map((x) => x.name).sort()).toEqual(["loose a", "loose b", "loose c"]);
    // One trial: the runs carry no trial index.
    expect(roots.map((x) => x.extra?.metadata?.tally_trial)).toEqual([undefined, undefined, undefined]);
  });
});
