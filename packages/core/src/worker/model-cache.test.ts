import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import type { CacheHooks } from "../cache/hooks.js";
import { modelCachePlugin, testOutcome } from "./model-cache.js";
import type { WorkerPluginContext, WorkerTest } from "./plugins.js";

// The cache's worker plugin against a stand-in interceptor module (loaded, as in a worker, by path
// with Node's own require): what it counts per test, what it puts on runs and spans, which tests it
// fails, and that an answer left unread never holds a test or a file.

/** A module standing in for cache/intercept.js: hands its hooks and settle control to the test. */
function fakeInterceptor(): string {
  const dir = mkdtempSync(join(tmpdir(), "tally-model-cache-plugin-"));
  const file = join(dir, "intercept.cjs");
  writeFileSync(
    file,
    `module.exports.installModelCache = (settings) => {
  const state = (globalThis.__fakeCache = { settings, hooks: undefined, pending: Promise.resolve() });
  return { settings, attach: (h) => (state.hooks = h), settled: () => state.pending };
};`,
  );
  return file;
}

const fake = () => (globalThis as unknown as { __fakeCache: { settings: unknown; hooks: CacheHooks; pending: Promise<void> } }).__fakeCache;

function setUp(mode = "auto", settleMs = 50) {
  const problems: string[] = [];
  const spans: unknown[] = [];
  let current: WorkerTest | undefined;
  const plugin = modelCachePlugin(
    { TALLY_CACHE: mode, TALLY_CACHE_DIR: "/tmp/never-written", TALLY_CACHE_MODULE: fakeInterceptor() },
    settleMs,
  )!;
  const ctx = {
    runtime: {
      active: true,
      runKey: "rk-1",
      noteProblem: (m: string) => problems.push(m),
      annotateCurrentSpan: (m: unknown) => spans.push(m),
    },
    currentTest: () => current,
  } as unknown as WorkerPluginContext;
  plugin.setup!(ctx);
  const test = (name: string) => ({ name, fullName: `qa > ${name}`, runId: `run-${name}` }) as WorkerTest;
  return { plugin, problems, spans, test, enter: (t: WorkerTest | undefined) => (current = t) };
}

const call = (outcome: "hit" | "miss" | "recorded", more = {}) => ({
  outcome,
  method: "POST",
  url: "https://api.openai.com/v1/x",
  key: "k",
  ...more,
});

describe("the model-cache worker plugin", () => {
  test("off (or unset): no plugin at all, so nothing of the cache is loaded", () => {
    expect(modelCachePlugin({})).toBeUndefined();
    expect(modelCachePlugin({ TALLY_CACHE: "off" })).toBeUndefined();
  });

  test("a cache on without the main process's module path is an error saying what starts it", () => {
    const plugin = modelCachePlugin({ TALLY_CACHE: "replay" })!;
    expect(() => plugin.setup!({ runtime: {}, currentTest: () => undefined } as unknown as WorkerPluginContext)).toThrow(
      /TALLY_CACHE=replay needs the Tally plugin \(Vitest\) or preset \(Jest\)/,
    );
  });

  test("the interceptor gets the environment's settings; its hooks name the current test and mark the span", () => {
    const { spans, test, enter } = setUp("replay");
    expect(fake().settings).toMatchObject({ mode: "replay", dir: "/tmp/never-written" });
    expect(fake().hooks.runKey).toBe("rk-1");
    expect(fake().hooks.currentTest()).toBeUndefined();
    enter(test("a"));
    expect(fake().hooks.currentTest()).toEqual({ id: "run-a", name: "qa > a" });
    fake().hooks.markSpan("hit");
    expect(spans).toEqual([{ tally_cache: "hit" }]);
  });

  test("each trial after the first keys its calls apart (trial-<n>); trial 0 and single-trial tests keep the plain key", () => {
    const { test, enter } = setUp("auto");
    const trial = (t: WorkerTest, n: number, of: number) => ({ ...t, trial: n, repetition: n, trials: of });
    expect(fake().hooks.variant!()).toBeUndefined();
    enter(trial(test("a"), 0, 1));
    expect(fake().hooks.variant!()).toBeUndefined();
    enter(trial(test("a"), 0, 3));
    expect(fake().hooks.variant!()).toBeUndefined();
    enter(trial(test("a"), 1, 3));
    expect(fake().hooks.variant!()).toBe("trial-1");
    enter(trial(test("a"), 2, 3));
    expect(fake().hooks.variant!()).toBe("trial-2");
    enter(undefined);
    expect(fake().hooks.variant!()).toBeUndefined();
  });

  test("counts each test's calls and marks its run; a test without calls gets nothing", async () => {
    const { plugin, test } = setUp();
    const [a, b] = [test("a"), test("b")];
    await plugin.onTestStart!(a);
    await plugin.onTestStart!(b);
    fake().hooks.onCall(a.runId, call("hit"));
    fake().hooks.onCall(a.runId, call("recorded"));
    expect(await plugin.beforeTestEnd!(a, { passed: true })).toEqual({
      metadata: { tally_cache: "recorded" },
      cache: { hit: 1, miss: 0, recorded: 1 },
    });
    expect(await plugin.beforeTestEnd!(b, { passed: true })).toBeUndefined();
  });

  test("a replay miss fails its test with the message; warnings go to the run's problems", async () => {
    const { plugin, problems, test } = setUp("replay");
    const a = test("a");
    await plugin.onTestStart!(a);
    fake().hooks.onCall(a.runId, call("miss", { problem: "no cache entry for POST https://api.openai.com/v1/x (key k)", fatal: true }));
    fake().hooks.onCall(a.runId, call("recorded", { problem: "cache entry /c/x.json is unusable (truncated): recorded again" }));
    const finish = await plugin.beforeTestEnd!(a, { passed: true });
    expect(finish?.error?.message).toBe("tally cache: no cache entry for POST https://api.openai.com/v1/x (key k)");
    expect(finish?.metadata).toEqual({ tally_cache: "miss" });
    expect(problems).toEqual(["model cache: cache entry /c/x.json is unusable (truncated): recorded again"]);
  });

  test("calls outside any test, or after their test ended, count nowhere; a fatal one is still named", async () => {
    const { plugin, problems, test } = setUp("replay");
    const a = test("a");
    fake().hooks.onCall(undefined, call("miss", { problem: "no cache entry for GET /models", fatal: true }));
    await plugin.onTestStart!(a);
    expect(await plugin.beforeTestEnd!(a, { passed: true })).toBeUndefined();
    fake().hooks.onCall(a.runId, call("hit"));
    expect(problems).toEqual(["model cache: no cache entry for GET /models (outside any test)"]);
  });

  test("an answer still being recorded holds its test and its file only so long", async () => {
    const { plugin, test } = setUp("auto", 30);
    const a = test("a");
    await plugin.onTestStart!(a);
    fake().pending = new Promise<void>(() => {});
    const started = Date.now();
    expect(await plugin.beforeTestEnd!(a, { passed: true })).toBeUndefined();
    expect(await plugin.flush!()).toEqual(["a model call's answer was still being recorded when the file ended: not stored"]);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test("a test's mark: any miss, else any recorded, else hit", () => {
    expect(testOutcome({ hit: 3, miss: 1, recorded: 1 })).toBe("miss");
    expect(testOutcome({ hit: 3, miss: 0, recorded: 1 })).toBe("recorded");
    expect(testOutcome({ hit: 3, miss: 0, recorded: 0 })).toBe("hit");
  });
});
