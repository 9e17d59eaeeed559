import { AsyncLocalStorage } from "node:async_hooks";
import type { FeedbackRecord } from "../wire/types.js";
import type { LangsmithClientLike } from "./langsmith-types.js";
import type { WorkerTest } from "./plugins.js";

/** What `logFeedback`, `logOutputs`, `wrapEvaluator` and `ls.expect` need to know about the running test. */
export interface TestState {
  name: string;
  runId: string;
  tracked: boolean;
  dataset: string;
  experiment: { name: string; id: string };
  inputs: Record<string, unknown>;
  referenceOutputs?: Record<string, unknown>;
  loggedOutputs?: Record<string, unknown>;
  /** What the reporter shows: every key and score logged for this test. */
  feedback: Array<{ key: string; score: number | boolean | null; comment?: string }>;
  /** Feedback logged while the run is open rides in the run itself; after that it is posted. */
  carried: FeedbackRecord[];
  open: boolean;
  /** The client the test's run uses; its evaluators and feedback use the same one (same queue). */
  client: LangsmithClientLike;
  /** What plugins see of this test (`WorkerPluginContext.currentTest`); the rest of the state stays internal. */
  seen: WorkerTest;
}

// One store per worker (and per copy of this module, which is why it hangs off a global symbol).
const KEY = Symbol.for("tally.test-context");
const g = globalThis as unknown as Record<symbol, AsyncLocalStorage<TestState>>;
export const testContext: AsyncLocalStorage<TestState> = (g[KEY] ??= new AsyncLocalStorage<TestState>());

export function currentTest(api: string): TestState {
  const state = testContext.getStore();
  if (!state) throw new Error(`${api}() must be called inside an ls.test() (it records on that test's run)`);
  return state;
}
