import type { FeedbackRecord, RunOp } from "../wire/types.js";
import { checkExampleHint } from "./bodies.js";
import type { TestRegistration } from "./examples.js";

// A test's registration and the feedback logged while it runs travel inside its root run, under
// `extra.__tally`, so they ride the SDK's batched upload (no request of their own, and always in the
// same order as the run). The collector lifts them out before anything is forwarded.

export const TALLY_EXTRA = "__tally";

export interface TallyRunExtra {
  /**
   * `inputs` only when the run's own inputs will not be the example's: a client that hides inputs
   * (LANGSMITH_HIDE_INPUTS, `hideInputs`, `anonymizer`) changes the run's, never the dataset's.
   */
  test?: Omit<TestRegistration, "runId" | "inputs"> & { inputs?: Record<string, unknown> };
  feedback?: FeedbackRecord[];
}

export interface Lifted {
  tests: TestRegistration[];
  ops: RunOp[];
  feedback: FeedbackRecord[];
}

/** Pure: splits Tally's carrier out of run ops; the returned ops no longer hold it. */
export function liftTallyExtra(ops: RunOp[]): Lifted {
  const tests: TestRegistration[] = [];
  const feedback: FeedbackRecord[] = [];
  const out: RunOp[] = [];
  for (const op of ops) {
    const extra = op.run.extra as Record<string, unknown> | null | undefined;
    const carried = extra?.[TALLY_EXTRA] as TallyRunExtra | undefined;
    if (!carried || typeof carried !== "object") {
      out.push(op);
      continue;
    }
    if (carried.test) {
      checkExampleHint(carried.test, `the test registration in run ${op.run.id}`);
      tests.push({ ...carried.test, runId: op.run.id, inputs: carried.test.inputs ?? (op.run.inputs as Record<string, unknown>) ?? {} });
    }
    if (Array.isArray(carried.feedback)) feedback.push(...carried.feedback);
    const { [TALLY_EXTRA]: _lifted, ...rest } = extra!;
    out.push({ ...op, run: { ...op.run, extra: rest } });
  }
  return { tests, ops: out, feedback };
}
