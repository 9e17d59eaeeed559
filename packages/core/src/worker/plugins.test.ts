import { AsyncLocalStorage } from "node:async_hooks";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WORKER_ENV } from "../protocol/worker-env.js";
import type { LangsmithModules } from "./langsmith-types.js";
import { createLsApi, type RunnerBinding } from "./ls-api.js";
import { type PluginRuntime, WorkerPlugins, type WorkerPlugin, type WorkerPluginContext, type WorkerTest } from "./plugins.js";
import { getRuntime, installWorker, registerWorkerPlugin, type WorkerRuntime } from "./runtime.js";

const errorOf = (message: string) => new Error(message);

beforeEach(() => {
  vi.spyOn(console, "warn").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("WorkerPlugins", () => {
  const ctx = { runtime: {} as WorkerRuntime, currentTest: () => undefined } satisfies WorkerPluginContext;
  const test = { name: "t" } as WorkerTest;

  it("gives a plugin whose setup failed no further calls, and names it in the problem", async () => {
    const problems: string[] = [];
    const calls: string[] = [];
    const host = new WorkerPlugins(ctx, (m) => problems.push(m));
    host.add({
      name: "cache",
      setup: async () => {
        throw errorOf("no cassette dir");
      },
      onTestStart: () => void calls.push("start"),
      onTestEnd: () => void calls.push("end"),
      flush: async () => ["never asked"],
    });
    await host.testStart(test);
    await host.testEnd(test, { passed: true });
    expect(await host.flush(Date.now() + 1000)).toEqual([]);
    expect(calls).toEqual([]);
    expect(problems).toEqual(['plugin "cache": setup failed: no cassette dir']);
  });

  it("reports what flush returns, a flush that throws and one that misses the deadline, each by name", async () => {
    const host = new WorkerPlugins(ctx, () => {});
    host.add({ name: "a", flush: async () => ["2 recordings not written"] });
    host.add({
      name: "b",
      flush: () => {
        throw errorOf("disk full");
      },
    });
    host.add({ name: "c", flush: () => new Promise<string[]>(() => {}) });
    host.add({ name: "d", flush: async () => [] });
    expect(await host.flush(Date.now() + 50)).toEqual([
      'plugin "a": 2 recordings not written',
      'plugin "b": flush failed: disk full',
      'plugin "c": flush did not finish in time',
    ]);
  });

  it("replaces a plugin registered again under the same name, in its place", async () => {
    const calls: string[] = [];
    const host = new WorkerPlugins(ctx, () => {});
    const named = (name: string, tag: string): WorkerPlugin => ({ name, onTestStart: () => void calls.push(tag) });
    host.add(named("x", "x1"));
    host.add(named("y", "y"));
    host.add(named("x", "x2"));
    await host.testStart(test);
    expect(host.size).toBe(2);
    expect(calls).toEqual(["x2", "y"]);
  });
});

// The plug-in point as a feature uses it: registered with the runtime, seeing `ls.test` runs
// declared and run through a stand-in runner, with a stand-in collector receiving the ack.
describe("plugins on the worker runtime", () => {
  let server: Server;
  // biome-ignore lint/suspicious/noExplicitAny: the posted bodies are read field by field in assertions
  let posts: Array<{ path: string; body: any }>;
  let url: string;

  beforeEach(async () => {
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
    const g = globalThis as unknown as Record<symbol, unknown>;
    delete g[Symbol.for("tally.worker-runtime")];
    (g[Symbol.for("tally.worker-plugins")] as Map<string, WorkerPlugin>).clear();
    await new Promise((resolve) => server.close(resolve));
  });

  function fakeLangsmith(): LangsmithModules {
    class Client {
      constructor(config: Record<string, unknown> = {}) {
        Object.assign(this, config);
      }
      async createFeedback() {}
    }
    return {
      Client,
      // Runs the function as langsmith's traceable does when called with ROOT: a run tree first.
      traceable:
        (fn, config) =>
        async (_root: unknown, ...args: unknown[]) =>
          fn({ id: config?.id }, ...args),
      getCurrentRunTree: () => undefined,
      ROOT: Symbol("ROOT"),
    };
  }

  const env = () => ({ [WORKER_ENV.url]: url, [WORKER_ENV.token]: "token", [WORKER_ENV.runKey]: "rk" }) as NodeJS.ProcessEnv;

  /** A runner that collects tests and runs them one after the other, as a file does. */
  function fakeRunner(events: string[]) {
    const tests: Array<{ name: string; fn: (ctx: object) => unknown }> = [];
    const binding: RunnerBinding = {
      name: "vitest",
      methods: () => ({
        test: (name: string, fn: (ctx: object) => unknown) => tests.push({ name, fn }),
        describe: (_: string, fn: () => void) => fn(),
        expect: () => ({}),
      }),
      onTestEnd: (_ctx, info) => void events.push(`reported ${info.fullName}`),
      fullNameOf: (title) => `qa > ${title}`,
    };
    const runAll = async () => {
      const outcomes: string[] = [];
      for (const t of tests) {
        try {
          await t.fn({});
          outcomes.push(`${t.name}: passed`);
        } catch (err) {
          outcomes.push(`${t.name}: failed (${(err as Error).message})`);
        }
      }
      return outcomes;
    };
    return { binding, runAll };
  }

  it("calls each hook in order, puts flush problems and failing hooks in the ack, and never fails a test", async () => {
    const events: string[] = [];
    const started: WorkerTest[] = [];
    let pluginCtx: WorkerPluginContext | undefined;
    // Registered first, so the recorder's hooks run after a broken plugin's.
    const broken: WorkerPlugin = {
      name: "broken",
      onTestStart: () => {
        throw errorOf("no cassette");
      },
      onTestEnd: async () => {
        throw errorOf("cannot write");
      },
    };
    const recorder: WorkerPlugin = {
      name: "recorder",
      setup: (ctx) => {
        pluginCtx = ctx;
        events.push("setup");
      },
      onTestStart: (t) => {
        started.push(t);
        events.push(`start ${t.fullName} (${t.tracked ? "tracked" : "untracked"})`);
      },
      onTestEnd: async (t, r) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        events.push(`end ${t.fullName}: ${r.passed ? "passed" : `failed (${(r.error as Error).message})`}`);
      },
      flush: async () => {
        events.push("flush");
        return ["1 recording not written"];
      },
    };
    const rt = installWorker(fakeLangsmith(), env(), { plugins: [broken, recorder] });
    expect(events).toEqual(["setup"]);
    expect(pluginCtx?.runtime).toBe(rt);
    expect(pluginCtx?.currentTest()).toBeUndefined();

    const { binding, runAll } = fakeRunner(events);
    const ls = createLsApi(binding);
    let inside: WorkerTest | undefined;
    ls.describe("qa", () => {
      ls.test("a", { inputs: { q: 1 } }, () => {
        inside = pluginCtx?.currentTest();
        return { answer: 1 };
      });
      ls.test("b", { inputs: { q: 2 } }, () => {
        throw errorOf("boom");
      });
      ls.test("c", { inputs: { q: 3 }, config: { enableTestTracking: false } }, () => "untracked");
    });
    expect(await runAll()).toEqual(["a: passed", "b: failed (boom)", "c: passed"]);
    const problems = await rt.flushAndAck("qa.test.ts");

    expect(events).toEqual([
      "setup",
      "start qa > a (tracked)",
      "reported qa > a",
      "end qa > a: passed",
      "start qa > b (tracked)",
      "reported qa > b",
      "end qa > b: failed (boom)",
      "start qa > c (untracked)",
      "end qa > c: passed",
      "flush",
    ]);
    expect(inside).toBe(started[0]);
    expect(started[0]).toMatchObject({ name: "a", repetition: 0, dataset: "qa", inputs: { q: 1 }, experiment: { name: "qa:rk" } });

    const hookFailures = ["onTestStart failed: no cassette", "onTestEnd failed: cannot write"].map((m) => `plugin "broken": ${m}`);
    const expected = [...hookFailures, ...hookFailures, ...hookFailures, 'plugin "recorder": 1 recording not written'];
    expect(problems).toEqual(expected);
    const ack = posts.find((p) => p.path === "/_tally/ack")?.body;
    expect(ack.problems).toEqual(expected);
    expect(ack.tests.map((t: { fullName: string; passed: boolean }) => [t.fullName, t.passed])).toEqual([
      ["qa > a", true],
      ["qa > b", false],
    ]);
  });

  it("beforeTestEnd: inside the run, its metadata goes on the run, its counts in the ack, and its error fails a test that passed", async () => {
    const events: string[] = [];
    // A langsmith whose traceable keeps each test's run tree current, as the real one does.
    type Run = { id: string; extra?: { metadata?: Record<string, unknown> } };
    const current = new AsyncLocalStorage<Run>();
    const runs: Run[] = [];
    const langsmith: LangsmithModules = {
      ...fakeLangsmith(),
      traceable:
        (fn, config) =>
        async (_root: unknown, ...args: unknown[]) => {
          const run: Run = { id: String(config?.id), extra: {} };
          runs.push(run);
          return current.run(run, () => fn(run, ...args));
        },
      getCurrentRunTree: () => current.getStore(),
    };
    const judge: WorkerPlugin = {
      name: "judge",
      beforeTestEnd: (t, r) => {
        events.push(`before end ${t.fullName}: ${r.passed ? "passed" : "failed"}`);
        if (t.name === "a") return { metadata: { tally_cache: "hit" }, cache: { hit: 1, miss: 0, recorded: 0 } };
        if (t.name === "b") return { error: errorOf("no cache entry for POST /x"), cache: { hit: 0, miss: 1, recorded: 0 } };
        return { error: errorOf("not shown: the test failed on its own") };
      },
    };
    const counter: WorkerPlugin = { name: "counter", beforeTestEnd: () => ({ cache: { hit: 1, miss: 0, recorded: 2 } }) };
    const rt = installWorker(langsmith, env(), { plugins: [judge, counter] });
    const { binding, runAll } = fakeRunner(events);
    const ls = createLsApi(binding);
    ls.describe("qa", () => {
      ls.test("a", { inputs: { q: 1 } }, () => ({ answer: 1 }));
      ls.test("b", { inputs: { q: 2 } }, () => ({ answer: 2 }));
      ls.test("c", { inputs: { q: 3 } }, () => {
        throw errorOf("its own failure");
      });
    });
    const results = await runAll();
    expect(results).toEqual(["a: passed", "b: failed (no cache entry for POST /x)", "c: failed (its own failure)"]);
    expect(events.filter((e) => e.startsWith("before end"))).toEqual([
      "before end qa > a: passed",
      "before end qa > b: passed",
      "before end qa > c: failed",
    ]);
    expect(runs.map((r) => r.extra?.metadata)).toEqual([{ tally_cache: "hit" }, undefined, undefined]);
    await rt.flushAndAck("qa.test.ts");
    const ack = posts.find((p) => p.path === "/_tally/ack")?.body;
    expect(ack.tests.map((t: { fullName: string; passed: boolean; cache?: unknown }) => [t.fullName, t.passed, t.cache])).toEqual([
      ["qa > a", true, { hit: 2, miss: 0, recorded: 2 }],
      ["qa > b", false, { hit: 1, miss: 1, recorded: 2 }],
      ["qa > c", false, { hit: 1, miss: 0, recorded: 2 }],
    ]);
  });

  it("sets a registered plugin up on the installed runtime, and again on each runtime installed later", async () => {
    const setups: PluginRuntime[] = [];
    const first = installWorker(fakeLangsmith(), env());
    registerWorkerPlugin({ name: "late", setup: (ctx) => void setups.push(ctx.runtime) });
    expect(setups).toEqual([first]);
    // Another copy of langsmith (Jest: the next test file) makes a new runtime.
    const second = installWorker(fakeLangsmith(), env());
    expect(second).not.toBe(first);
    expect(getRuntime()).toBe(second);
    expect(setups).toEqual([first, second]);
    // The same copy again reuses the runtime and sets nothing up twice.
    installWorker(second.langsmith, env());
    expect(setups).toHaveLength(2);
  });
});
