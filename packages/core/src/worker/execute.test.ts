import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WORKER_ENV } from "../protocol/worker-env.js";
import type { LangsmithModules } from "./langsmith-types.js";
import { createLsApi, type RunnerBinding } from "./ls-api.js";
import type { WorkerPlugin } from "./plugins.js";
import { installWorker } from "./runtime.js";

// Tracked tests with trials: each trial is a run of its own on the test's one example, its index on
// the run's metadata as `tally_trial`; a test of one trial sends its run as it always did. A stand-in
// collector takes the hints and the ack; a stand-in langsmith keeps each root run's config.

let server: Server;
// biome-ignore lint/suspicious/noExplicitAny: the posted bodies are read field by field in assertions
let posts: Array<{ path: string; body: any }>;
let url: string;

beforeEach(async () => {
  vi.spyOn(console, "warn").mockImplementation(() => {});
  posts = [];
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      posts.push({ path: req.url ?? "", body: JSON.parse(body) });
      res.setHeader("content-type", "application/json");
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  vi.restoreAllMocks();
  const g = globalThis as unknown as Record<symbol, unknown>;
  delete g[Symbol.for("tally.worker-runtime")];
  (g[Symbol.for("tally.worker-plugins")] as Map<string, WorkerPlugin> | undefined)?.clear();
  await new Promise((resolve) => server.close(resolve));
});

/** A langsmith whose `traceable` records each root run's config and runs the test at once. */
function fakeLangsmith(roots: Array<Record<string, unknown>>): LangsmithModules {
  class Client {
    constructor(config: Record<string, unknown> = {}) {
      Object.assign(this, config);
    }
    async createFeedback() {}
  }
  return {
    Client,
    traceable:
      (fn, config) =>
      async (_root: unknown, ...args: unknown[]) => {
        roots.push(config ?? {});
        return fn({ id: config?.id }, ...args);
      },
    getCurrentRunTree: () => undefined,
    ROOT: Symbol("ROOT"),
  };
}

function fakeRunner() {
  const tests: Array<{ name: string; fn: (ctx: object) => unknown }> = [];
  const binding: RunnerBinding = {
    name: "vitest",
    methods: () => ({
      test: (name: string, fn: (ctx: object) => unknown) => tests.push({ name, fn }),
      describe: (_: string, fn: () => void) => fn(),
      // The file being collected, as Vitest's expect state says it.
      expect: { getState: () => ({ testPath: "/proj/qa.test.ts" }) },
    }),
    fullNameOf: (title) => `qa > ${title}`,
  };
  const runAll = async () => {
    for (const t of tests) await t.fn({});
  };
  return { binding, tests, runAll };
}

const env = (trials?: string) =>
  ({
    [WORKER_ENV.url]: url,
    [WORKER_ENV.token]: "token",
    [WORKER_ENV.runKey]: "rk",
    ...(trials ? { [WORKER_ENV.trials]: trials } : {}),
  }) as NodeJS.ProcessEnv;

describe("tracked tests with trials", () => {
  it("sends one run per trial, each with tally_trial 0..n-1, all on the test's one example", async () => {
    const roots: Array<Record<string, unknown>> = [];
    const rt = installWorker(fakeLangsmith(roots), env("3"));
    expect(rt.trials).toBe(3);
    const { binding, tests, runAll } = fakeRunner();
    const ls = createLsApi(binding);
    const trials: number[] = [];
    ls.describe("qa", () => {
      ls.test("t", { inputs: { q: 1 }, metadata: { team: "x" } }, ({ testMetadata }) => {
        trials.push(testMetadata.trial);
        return { a: 1 };
      });
    });
    expect(tests.map((t) => t.name)).toEqual(["t, run 1", "t, run 2", "t, run 3"]);
    await runAll();
    await rt.flushAndAck("qa.test.ts");

    expect(trials).toEqual([0, 1, 2]);
    expect(roots.map((r) => r.metadata)).toEqual([
      { team: "x", tally_trial: 0 },
      { team: "x", tally_trial: 1 },
      { team: "x", tally_trial: 2 },
    ]);
    expect(new Set(roots.map((r) => r.id)).size).toBe(3);
    // One example, hinted once, naming the three tests it has.
    const hints = posts.filter((p) => p.path === "/_tally/examples").flatMap((p) => p.body);
    expect(hints).toHaveLength(1);
    expect(hints[0].declared.tests).toEqual(["qa > t, run 1", "qa > t, run 2", "qa > t, run 3"]);
    const ack = posts.find((p) => p.path === "/_tally/ack")?.body;
    expect(ack.tests.map((t: { fullName: string }) => t.fullName)).toEqual(["qa > t, run 1", "qa > t, run 2", "qa > t, run 3"]);
  });

  it("config.repetitions wins over the run's trials, and its runs carry tally_trial too", async () => {
    const roots: Array<Record<string, unknown>> = [];
    const rt = installWorker(fakeLangsmith(roots), env("3"));
    const { binding, tests, runAll } = fakeRunner();
    const ls = createLsApi(binding);
    ls.describe("qa", () => {
      ls.test("two", { inputs: { q: 1 }, config: { repetitions: 2 } }, () => ({ a: 1 }));
      ls.test("one", { inputs: { q: 2 }, config: { repetitions: 1 } }, () => ({ a: 2 }));
    });
    expect(tests.map((t) => t.name)).toEqual(["two, run 1", "two, run 2", "one"]);
    await runAll();
    await rt.flushAndAck("qa.test.ts");
    expect(roots.map((r) => [r.name, r.metadata])).toEqual([
      ["two", { tally_trial: 0 }],
      ["two", { tally_trial: 1 }],
      ["one", {}],
    ]);
  });

  it("a single trial: the run is as it always was, with no tally_trial", async () => {
    const roots: Array<Record<string, unknown>> = [];
    const rt = installWorker(fakeLangsmith(roots), env());
    expect(rt.trials).toBe(1);
    const { binding, tests, runAll } = fakeRunner();
    const ls = createLsApi(binding);
    let trial: number | undefined;
    ls.describe("qa", () => {
      ls.test("t", { inputs: { q: 1 }, metadata: { team: "x" } }, ({ testMetadata }) => {
        trial = testMetadata.trial;
      });
    });
    await runAll();
    await rt.flushAndAck("qa.test.ts");
    expect(tests.map((t) => t.name)).toEqual(["t"]);
    expect(trial).toBe(0);
    expect(roots.map((r) => r.metadata)).toEqual([{ team: "x" }]);
  });

  it("a test outside any ls.describe records into LANGSMITH_TEST_SUITE's dataset; an ls.describe's name wins", async () => {
    const roots: Array<Record<string, unknown>> = [];
    const rt = installWorker(fakeLangsmith(roots), { ...env(), [WORKER_ENV.fallbackDataset]: "suite-a" });
    const { binding, runAll } = fakeRunner();
    const ls = createLsApi(binding);
    ls.test("loose", { inputs: { q: 1 } }, () => ({ a: 1 }));
    ls.describe("qa", () => ls.test("named", { inputs: { q: 2 } }, () => ({ a: 2 })));
    await runAll();
    await rt.flushAndAck("qa.test.ts");
    expect(roots.map((r) => [r.name, r.project_name])).toEqual([
      ["loose", "suite-a:rk"],
      ["named", "qa:rk"],
    ]);
  });
});
