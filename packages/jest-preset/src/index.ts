// biome-ignore-all lint/suspicious/noExplicitAny: Jest hands the preset its config, globals and results untyped (the preset does not depend on Jest's type packages)
import { createLsApi, wrapRunnerMethods, type RunnerBinding } from "@tally/core/worker";

// `import * as ls from "@tally/jest-preset"`: a drop-in for `langsmith/jest`. Evaluated in each test
// file's module registry, where Jest's `test`/`describe`/`expect` are globals (or, with
// `injectGlobals: false`, come from @jest/globals).

function jestGlobals(): { test: any; describe: any; expect: any } {
  const g = globalThis as any;
  if (g.test && g.describe && g.expect) return g;
  return require("@jest/globals");
}

/**
 * The describe titles around a test being declared, from jest-circus's state on the test file's
 * global (its key is a local symbol, found by its description). Jest reports a test as
 * `fullName` = describe titles and title, space-joined; the acks must name tests the same way.
 */
function describeTitles(): string[] | undefined {
  const key = Object.getOwnPropertySymbols(globalThis).find((s) => s.description === "JEST_STATE_SYMBOL");
  let block = key ? (globalThis as any)[key]?.currentDescribeBlock : undefined;
  if (!block) return undefined;
  const titles: string[] = [];
  for (; block?.parent; block = block.parent) titles.unshift(String(block.name));
  return titles;
}

const binding: RunnerBinding = {
  name: "jest",
  methods: jestGlobals,
  fullNameOf: (title) => {
    const titles = describeTitles();
    return titles ? [...titles, title].join(" ") : undefined;
  },
};

export const { test, it, describe, expect, logFeedback, logOutputs, wrapEvaluator } = createLsApi(binding);

/** As `langsmith/jest`'s: the `ls` API on the Jest methods you pass (`wrapJest(require("@jest/globals"))`). */
export function wrapJest(originalJestMethods: Record<string, unknown>) {
  return wrapRunnerMethods(binding, originalJestMethods, "wrapJest");
}
export type * from "@tally/core/worker";
