import type * as Vm from "node:vm";
import type { CacheCall, CacheOutcome, ModelCache } from "../cache/hooks.js";
import { CACHE_ENV, cacheSettingsFromEnv } from "../cache/settings.js";
import type { CacheCounts } from "../protocol/tracked-test.js";
import type { WorkerPlugin, WorkerPluginContext } from "./plugins.js";

// The model-call cache, as a worker plugin: it attaches this runtime to the worker's one interceptor
// (cache/intercept.ts), counts each test's calls, marks its run, keys each trial's calls apart, and
// fails a test that missed in replay mode. The interceptor is loaded outside the runner's module
// registry: Jest gives each test file a registry of its own (and one that cannot load the
// interceptor's ES modules), while the `node:http` it patches is the process's one.

type InterceptModule = { installModelCache(settings: ReturnType<typeof cacheSettingsFromEnv>): ModelCache };

interface TestCalls {
  counts: CacheCounts;
  fatal?: string;
}

/** The plugin when the environment turns the cache on, else undefined. */
export function modelCachePlugin(env: NodeJS.ProcessEnv, settleMs = SETTLE_MS): WorkerPlugin | undefined {
  const mode = env[CACHE_ENV.mode];
  if (!mode || mode === "off") return undefined;
  let cache: ModelCache | undefined;
  // Tests that started and have not ended: a recording that settles after its test ended counts nowhere.
  const calls = new Map<string, TestCalls>();

  return {
    name: "model-cache",
    setup(ctx: WorkerPluginContext) {
      const settings = cacheSettingsFromEnv(env, process.cwd());
      if (settings.mode === "off") return;
      const path = env[CACHE_ENV.module];
      if (!path) throw new Error(`${CACHE_ENV.mode}=${mode} needs the Tally plugin (Vitest) or preset (Jest) to start the run`);
      cache = loadOutsideRegistry<InterceptModule>(path).installModelCache(settings);
      // Jest: this file's realm has a `fetch` of its own, copied before the interceptor patched the process's.
      const outerFetch = outerGlobal().fetch;
      if (globalThis.fetch !== outerFetch) globalThis.fetch = outerFetch;
      cache.attach({
        runKey: ctx.runtime.runKey,
        currentTest() {
          const t = ctx.currentTest();
          return t && { id: t.runId, name: t.fullName };
        },
        // Each trial of a test records and replays its own answers: trial 0 keeps the plain key, so
        // recordings made with one trial still serve trial 0 when a suite goes to several.
        variant() {
          const t = ctx.currentTest();
          return t && t.trials > 1 && t.trial > 0 ? `trial-${t.trial}` : undefined;
        },
        markSpan(outcome: CacheOutcome) {
          ctx.runtime.annotateCurrentSpan({ tally_cache: outcome });
        },
        onCall(testId: string | undefined, call: CacheCall) {
          if (call.problem && !call.fatal) ctx.runtime.noteProblem(`model cache: ${call.problem}`);
          const t = testId ? calls.get(testId) : undefined;
          if (!t) {
            if (call.fatal) ctx.runtime.noteProblem(`model cache: ${call.problem} (outside any test)`);
            return;
          }
          t.counts[call.outcome]++;
          if (call.fatal) t.fatal ??= call.problem;
        },
      });
    },
    onTestStart(test) {
      if (cache) calls.set(test.runId, { counts: { hit: 0, miss: 0, recorded: 0 } });
    },
    async beforeTestEnd(test) {
      if (!cache) return undefined;
      // A recording still being read belongs to this test; one its caller left unread (a stream
      // cancelled without an abort) must not hold the test: it stays unstored and uncounted.
      await settledWithin(cache.settled(test.runId), settleMs);
      const t = calls.get(test.runId);
      calls.delete(test.runId);
      if (!t || t.counts.hit + t.counts.miss + t.counts.recorded === 0) return undefined;
      return {
        metadata: { tally_cache: testOutcome(t.counts) },
        cache: t.counts,
        ...(t.fatal ? { error: new Error(`tally cache: ${t.fatal}`) } : {}),
      };
    },
    async flush() {
      if (cache && (await settledWithin(cache.settled(), settleMs)) === "late") {
        return ["a model call's answer was still being recorded when the file ended: not stored"];
      }
      return [];
    },
  };
}

/** How long a test's (or a file's) end waits for recordings still being read after its code returned. */
const SETTLE_MS = 5000;

function settledWithin(p: Promise<void>, ms: number): Promise<"done" | "late"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(resolve, ms, "late");
    timer.unref?.();
  });
  return Promise.race([p.then(() => "done" as const), late]).finally(() => clearTimeout(timer));
}

/** A test's mark: "miss" if any call missed, else "recorded" if any was recorded, else "hit". */
export function testOutcome(c: CacheCounts): CacheOutcome {
  return c.miss > 0 ? "miss" : c.recorded > 0 ? "recorded" : "hit";
}

/** The process's own global object (in Jest, not the test file's sandbox). */
function outerGlobal(): typeof globalThis {
  const vm = process.getBuiltinModule("node:vm") as typeof Vm;
  return vm.runInThisContext("globalThis") as typeof globalThis;
}

/** Node's own `require` (which loads ES modules too, Node ≥ 22.12), not the runner's. */
function loadOutsideRegistry<T>(path: string): T {
  const { createRequire } = outerGlobal().process.getBuiltinModule("node:module") as typeof import("node:module");
  return createRequire(path)(path) as T;
}
