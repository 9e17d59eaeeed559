// biome-ignore-all lint/suspicious/noExplicitAny: test doubles stand in for langsmith and runner objects
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { WORKER_ENV } from "../protocol/worker-env.js";
import type { LangsmithModules } from "./langsmith-types.js";
import { createLsApi, type RunnerBinding } from "./ls-api.js";
import type { WorkerPlugin, WorkerTest } from "./plugins.js";
import { installWorker } from "./runtime.js";

// Declaration without a runtime: what each `ls.test` form registers with the runner, and the state
// each API keeps to itself. Nothing here records anything.

let warn: MockInstance;
beforeEach(() => {
  warn = vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

function fakeRunner() {
  const registered: Array<{ via: string; title: string; fn: (ctx: object) => unknown }> = [];
  const method = (via: string) => (title: string, fn: (ctx: object) => unknown) => void registered.push({ via, title, fn });
  const test = Object.assign(method("test"), {
    only: method("only"),
    skip: method("skip"),
    concurrent: Object.assign(method("concurrent"), { only: method("concurrent.only"), skip: method("concurrent.skip") }),
  });
  const describe = Object.assign((_: string, fn: () => unknown) => fn(), {
    only: (_: string, fn: () => unknown) => fn(),
    skip: (_: string, fn: () => unknown) => fn(),
    concurrent: (_: string, fn: () => unknown) => fn(),
  });
  const binding: RunnerBinding = { name: "jest", methods: () => ({ test, describe, expect: () => ({}) }) };
  return { binding, registered };
}

describe("declaring ls tests", () => {
  it("registers one test per repetition and per table row, through the variant's own method", () => {
    const { binding, registered } = fakeRunner();
    const ls = createLsApi(binding);
    ls.describe("qa", () => {
      ls.test("t", { inputs: {}, config: { repetitions: 2 } }, () => {});
      ls.test.each([{ inputs: { a: 1 } }, { inputs: { a: 2 }, config: { repetitions: 2 } }])("row", () => {});
      ls.test.concurrent.skip("s", { inputs: {} }, () => {});
      ls.it.only.each([{ inputs: {} }], { repetitions: 2 })("o", () => {});
    });
    expect(registered.map((r) => `${r.via}: ${r.title}`)).toEqual([
      "test: t, run 1",
      "test: t, run 2",
      "test: row, item 0",
      "test: row, item 1, run 1",
      "test: row, item 1, run 2",
      "concurrent.skip: s",
      "only: o, item 0, run 1",
      "only: o, item 0, run 2",
    ]);
  });

  it("hands the test function its declared values and its repetition", async () => {
    const { binding, registered } = fakeRunner();
    const ls = createLsApi(binding);
    const seen: any[] = [];
    const inputs = { big: 1n };
    ls.describe("qa", () => {
      ls.test("t", { inputs, referenceOutputs: { r: 1 }, custom: "x", config: { repetitions: 2 } }, (args) => void seen.push(args));
    });
    for (const r of registered) await r.fn({});
    expect(
      seen.map((a) => [a.inputs, a.referenceOutputs, a.custom, a.testMetadata.repetition, a.testMetadata.testTrackingEnabled]),
    ).toEqual([
      [inputs, { r: 1 }, "x", 0, false],
      [inputs, { r: 1 }, "x", 1, false],
    ]);
    expect(seen[0].inputs).toBe(inputs);
  });

  it("keeps each API's describe nesting and missing-runtime warning to itself", async () => {
    const { binding, registered } = fakeRunner();
    const one = createLsApi(binding);
    const two = createLsApi(binding);
    one.describe("qa", () => {
      one.test("in one", { inputs: {} }, () => {});
      // Declared by the other API inside this describe: it is not in any of its own.
      two.test("in two", { inputs: {} }, () => {});
    });
    one.test("after", { inputs: {} }, () => {});
    const outcomes = await Promise.allSettled(registered.map((r) => r.fn({})));
    expect(outcomes.map((o) => (o.status === "rejected" ? (o.reason as Error).message : "ok"))).toEqual([
      "ok",
      expect.stringContaining('ls.test("in two") needs a dataset'),
      expect.stringContaining('ls.test("after") needs a dataset'),
    ]);
    // Once per API, however many tests ran.
    expect(warn.mock.calls.filter(([m]) => String(m).includes("no Tally runtime"))).toHaveLength(2);
  });

  it("pops an async describe's frame once its body has settled", async () => {
    const { binding, registered } = fakeRunner();
    const ls = createLsApi(binding);
    await ls.describe("qa", async () => {
      await Promise.resolve();
      ls.test("late", { inputs: {} }, () => {});
    });
    ls.test("outside", { inputs: {} }, () => {});
    const outcomes = await Promise.allSettled(registered.map((r) => r.fn({})));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected"]);
  });
});

// The run's `trials` (TALLY_TRIALS, handed to workers by the main process) with a runtime that has no
// collector: every test is untracked, and still runs once per trial.
describe("trials", () => {
  afterEach(() => {
    const g = globalThis as unknown as Record<symbol, unknown>;
    delete g[Symbol.for("tally.worker-runtime")];
    (g[Symbol.for("tally.worker-plugins")] as Map<string, WorkerPlugin> | undefined)?.clear();
  });

  const fakeLangsmith = (): LangsmithModules => ({
    Client: class {
      async createFeedback() {}
    },
    traceable:
      (fn) =>
      async (_root: unknown, ...args: unknown[]) =>
        fn({}, ...args),
    getCurrentRunTree: () => undefined,
    ROOT: Symbol("ROOT"),
  });

  /** A runtime with the run's trials, and a plugin that sees each test as plugins do. */
  function withTrials(trials: string | undefined) {
    const seen: WorkerTest[] = [];
    const env: NodeJS.ProcessEnv = trials === undefined ? {} : { [WORKER_ENV.trials]: trials };
    installWorker(fakeLangsmith(), env, { plugins: [{ name: "watcher", onTestStart: (t) => void seen.push(t) }] });
    return seen;
  }

  it("registers each test once per trial, named as langsmith names repetitions; config.repetitions wins", () => {
    withTrials("3");
    const { binding, registered } = fakeRunner();
    const ls = createLsApi(binding);
    ls.describe("qa", () => {
      ls.test("t", { inputs: {} }, () => {});
      ls.test("two", { inputs: {}, config: { repetitions: 2 } }, () => {});
      ls.test("once", { inputs: {}, config: { repetitions: 1 } }, () => {});
      ls.test.each([{ inputs: { a: 1 } }])("row", () => {});
    });
    expect(registered.map((r) => r.title)).toEqual([
      "t, run 1",
      "t, run 2",
      "t, run 3",
      "two, run 1",
      "two, run 2",
      "once",
      "row, item 0, run 1",
      "row, item 0, run 2",
      "row, item 0, run 3",
    ]);
  });

  it("one trial (or none handed over): each test once, under its own name", () => {
    withTrials(undefined);
    const { binding, registered } = fakeRunner();
    const ls = createLsApi(binding);
    ls.describe("qa", () => ls.test("t", { inputs: {} }, () => {}));
    expect(registered.map((r) => r.title)).toEqual(["t"]);
  });

  it("hands each trial its index in testMetadata.trial (beside repetition), and to plugins, untracked tests too", async () => {
    const plugins = withTrials("3");
    const { binding, registered } = fakeRunner();
    const ls = createLsApi(binding);
    const meta: any[] = [];
    ls.describe("qa", () => {
      ls.test("t", { inputs: {} }, ({ testMetadata }) => void meta.push(["t", testMetadata.trial, testMetadata.repetition]));
      ls.test("off", { inputs: {}, config: { enableTestTracking: false } }, ({ testMetadata }) => {
        meta.push(["off", testMetadata.trial, testMetadata.repetition, testMetadata.testTrackingEnabled]);
      });
      ls.test("reps", { inputs: {}, config: { repetitions: 2 } }, ({ testMetadata }) => {
        meta.push(["reps", testMetadata.trial, testMetadata.repetition]);
      });
    });
    for (const r of registered) await r.fn({});
    expect(meta).toEqual([
      ["t", 0, 0],
      ["t", 1, 1],
      ["t", 2, 2],
      ["off", 0, 0, false],
      ["off", 1, 1, false],
      ["off", 2, 2, false],
      ["reps", 0, 0],
      ["reps", 1, 1],
    ]);
    expect(plugins.map((t) => [t.fullName, t.trial, t.trials, t.repetition])).toEqual([
      ["t, run 1", 0, 3, 0],
      ["t, run 2", 1, 3, 1],
      ["t, run 3", 2, 3, 2],
      ["off, run 1", 0, 3, 0],
      ["off, run 2", 1, 3, 1],
      ["off, run 3", 2, 3, 2],
      ["reps, run 1", 0, 2, 0],
      ["reps, run 2", 1, 2, 1],
    ]);
  });
});
