import { createLsApi, wrapRunnerMethods, type RunnerBinding } from "@tally/core/worker";
import type { TestContext } from "vitest";
import { VITEST_MODULE_KEY, type TallyTaskMeta, type VitestModule } from "./meta.js";

// `import * as ls from "@tally/vitest-plugin"`: a drop-in for `langsmith/vitest`.

function vitestModule(): VitestModule {
  const mod: unknown = Reflect.get(globalThis, VITEST_MODULE_KEY);
  if (!isVitestModule(mod)) {
    throw new Error(
      'tally: the Vitest plugin is not set up in this project: add `plugins: [tally()]` (from "@tally/vitest-plugin/plugin") to your Vitest config',
    );
  }
  return mod;
}

/** Set only by the worker's setup (worker.ts), with the user's `vitest`: its presence is the check. */
function isVitestModule(mod: unknown): mod is VitestModule {
  return typeof mod === "object" && mod !== null && "expect" in mod && "afterAll" in mod;
}

const binding: RunnerBinding = {
  name: "vitest",
  methods: () => vitestModule(),
  // `ctx` is what Vitest passed the test function: its TestContext (core only hands it through).
  onTestEnd(ctx: TestContext | undefined, info) {
    // The reporter reads this in the main process; it also adds the experiment link as an annotation
    // there (the worker would have to wait for the experiment to be resolved to know it).
    const meta: TallyTaskMeta = {
      runId: info.runId,
      dataset: info.dataset,
      experimentName: info.experimentName,
      experimentId: info.experimentId,
      feedback: info.feedback,
      ...(info.cache ? { cache: info.cache } : {}),
      ...(info.usage ? { usage: info.usage } : {}),
    };
    if (ctx?.task) ctx.task.meta.tally = meta;
  },
};

export const { test, it, describe, expect, logFeedback, logOutputs, wrapEvaluator } = createLsApi(binding);

/** As `langsmith/vitest`'s: the `ls` API on the Vitest you pass (`wrapVitest(await import("vitest"))`). */
export function wrapVitest(originalVitestMethods: Record<string, unknown>) {
  return wrapRunnerMethods(binding, originalVitestMethods, "wrapVitest");
}
export type * from "@tally/core/worker";
export type { TallyTaskMeta } from "./meta.js";
