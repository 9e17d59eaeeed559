// biome-ignore-all lint/suspicious/noExplicitAny: the ls API mirrors langsmith's own signatures, which are written with any (KVMap, test functions)
import { uuid7 } from "../wire/ids.js";
import type { KVMap } from "./ls-types.js";
import { getRuntime } from "./runtime.js";
import { currentTest, testContext, type TestState } from "./test-context.js";

// What a running test records besides its run: feedback, logged outputs, evaluator runs. None of it
// depends on the runner or on which `ls` API declared the test (the test context says which test).

type FeedbackInput = { key: string; score?: number | boolean | null; value?: unknown; comment?: string };

const WRAPPED = Symbol.for("tally.wrapped-evaluator");

// Arrow functions, not declarations: the runner packages export these with types inferred from
// createLsApi, and a declared function's type would be named by its path inside core, which a
// package's declaration files cannot import (TS2742). An arrow's type is written out instead.

export const logFeedback = (feedback: FeedbackInput, opts?: { sourceRunId?: string }): void => {
  recordFeedback(currentTest("logFeedback"), feedback, opts?.sourceRunId);
};

export const logOutputs = (outputs: KVMap): void => {
  const state = currentTest("logOutputs");
  if (state.loggedOutputs !== undefined) {
    console.warn(`tally: logOutputs() called twice in "${state.name}"; the last call wins`);
  }
  state.loggedOutputs = outputs;
};

export const wrapEvaluator = <E extends (input: any, config?: any) => any>(evaluator: E): E => {
  if ((evaluator as any)[WRAPPED]) return evaluator;
  const wrapped = async (input: unknown, config?: KVMap) => {
    const state = testContext.getStore();
    const rt = getRuntime();
    if (!state?.tracked || !rt) return evaluator(input, config);
    const evalRunId = uuid7();
    // Called with ROOT, traceable hands the function the new run tree first: drop it, so the
    // evaluator gets the same argument as when untracked.
    const traced = rt.langsmith.traceable((_run: unknown, arg: unknown) => evaluator(arg, config), {
      name: evaluator.name || "evaluator",
      tracingEnabled: true,
      ...(config ?? {}),
      id: evalRunId,
      project_name: "evaluators",
      reference_example_id: state.runId,
      client: state.client,
    });
    const result = await traced(rt.langsmith.ROOT, input);
    for (const r of Array.isArray(result) ? result : [result]) {
      if (r && typeof r === "object" && typeof r.key === "string") recordFeedback(state, r, evalRunId);
    }
    return result;
  };
  Object.defineProperty(wrapped, WRAPPED, { value: true });
  return wrapped as unknown as E;
};

/**
 * Records feedback on the test's root run: carried inside the run while it is open (no request of
 * its own), posted through the test's client once the run has ended (a late, un-awaited evaluation).
 */
export function recordFeedback(state: TestState, fb: FeedbackInput, sourceRunId?: string): void {
  state.feedback.push({ key: fb.key, score: fb.score ?? null, comment: fb.comment });
  if (!state.tracked) return;
  if (state.open) {
    state.carried.push({
      id: uuid7(),
      run_id: state.runId,
      trace_id: state.runId,
      key: fb.key,
      score: typeof fb.score === "boolean" ? fb.score : (fb.score ?? null),
      value: fb.value,
      comment: fb.comment ?? null,
      feedback_source: { type: "model", metadata: sourceRunId ? { __run: { run_id: sourceRunId } } : {} },
      session_id: state.experiment.id,
    });
    return;
  }
  void state.client
    .createFeedback(state.runId, fb.key, {
      score: fb.score ?? undefined,
      value: fb.value,
      comment: fb.comment,
      sourceRunId,
      feedbackSourceType: "model",
      sessionId: state.experiment.id,
      traceId: state.runId,
    })
    .catch(() => undefined);
}
