import { createLsApi, wrapRunnerMethods, type RunnerBinding } from "@tally/core/worker";
import { VITEST_MODULE_KEY, type TallyTaskMeta } from "./meta.js";

/* eslint-disable @typescript-eslint/no-explicit-any */

// `import * as ls from "@tally/vitest-plugin"`: a drop-in for `langsmith/vitest`.

function vitestModule(): any {
  const mod = (globalThis as any)[VITEST_MODULE_KEY];
  if (!mod) {
    throw new Error(
      'tally: the Vitest plugin is not set up in this project: add `plugins: [tally()]` (from "@tally/vitest-plugin/plugin") to your Vitest config',
    );
  }
  return mod;
}

const binding: RunnerBinding = {
  name: "vitest",
  methods: () => vitestModule(),
  onTestEnd(ctx: any, info) {
    // The reporter reads this in the main process; it also adds the experiment link as an annotation
    // there (the worker would have to wait for the experiment to be resolved to know it).
    const meta: TallyTaskMeta = {
      runId: info.runId,
      dataset: info.dataset,
      experimentName: info.experimentName,
      experimentId: info.experimentId,
      feedback: info.feedback,
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
