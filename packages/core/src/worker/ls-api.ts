import { createApiState, type RunnerBinding } from "./api-state.js";
import { declareTests } from "./declare.js";
import { makeExpect } from "./expect.js";
import { logFeedback, logOutputs, wrapEvaluator } from "./feedback.js";

// The `ls` API, runner-agnostic: a binding supplies the runner's test/describe/expect (looked up
// lazily, because they are only known once the runner's setup file has run in the worker).

export type { RunnerBinding, TestEndInfo } from "./api-state.js";

export function createLsApi(binding: RunnerBinding) {
  const { test, describe } = declareTests(createApiState(binding));
  return { test, it: test, describe, expect: makeExpect(binding), logFeedback, logOutputs, wrapEvaluator };
}
