// biome-ignore-all lint/suspicious/noExplicitAny: the ls API mirrors langsmith's own signatures, which are written with any (KVMap, test functions)
import { uuid7 } from "../wire/ids.js";
import { toJsonSafe } from "../wire/json-safe.js";
import { TALLY_EXTRA, type TallyRunExtra } from "../protocol/run-extra.js";
import { trackingEnabled } from "../protocol/worker-env.js";
import type { ApiState, TestEndInfo } from "./api-state.js";
import { recordFeedback } from "./feedback.js";
import { noteConversions, type Identity } from "./identity.js";
import type { LangsmithClientLike } from "./langsmith-types.js";
import type { KVMap, LsTestFn, TestMetadata } from "./ls-types.js";
import type { CacheCounts, ModelUsage } from "../protocol/tracked-test.js";
import type { TestFinish, WorkerPlugins, WorkerTest } from "./plugins.js";
import { annotateRun, getRuntime, type WorkerRuntime } from "./runtime.js";
import { testContext, type TestState } from "./test-context.js";

// Running one registered test (one repetition of a declaration): its root run, its outputs, and
// what is reported when it ends.

/** A declaration's identity, with the runtime it was made under (its runs use the same one). */
export type Declaration = Identity & { rt: WorkerRuntime | undefined };

export interface TestRun {
  /** What the runner passed the test function (Vitest's test context; Jest: nothing). */
  ctx: any;
  name: string;
  fullName: string;
  /** The test file, where the runner says (see declare.ts). */
  file?: string;
  /** 0-based: which of the declaration's trials (its repetitions) this test is. */
  repetition: number;
  /** How many trials the declaration has (its `config.repetitions`, else the run's `trials`). */
  trials: number;
  declared: Declaration;
  fn: LsTestFn;
}

export async function runTest(api: ApiState, run: TestRun): Promise<unknown> {
  runtimeOrWarn(api);
  const { ctx, name, fullName, file, repetition, trials, declared, fn } = run;
  const { rt, id, inputs, referenceOutputs, split, metadata, runTreeConfig, rest, dataset, experiment, tracked, example, suite } = declared;
  if (!dataset || !experiment) {
    throw new Error(
      `ls.test("${name}") needs a dataset: put it inside ls.describe("<dataset>", ...) or set the plugin's \`dataset\` option (or LANGSMITH_TEST_SUITE)`,
    );
  }
  const testMetadata: TestMetadata = {
    exampleId: id,
    experimentId: experiment.id,
    experimentName: experiment.name,
    dataset,
    testTrackingEnabled: tracked,
    repetition,
    trial: repetition,
    split,
  };
  const { rawInputs, rawReferenceOutputs } = declared;
  const args = Object.assign(ctx && typeof ctx === "object" ? ctx : {}, rest, {
    inputs: rawInputs,
    referenceOutputs: rawReferenceOutputs,
    testMetadata,
  });
  const runId = uuid7();
  const client = (suite?.client as LangsmithClientLike | undefined) ?? rt?.client;
  const seen: WorkerTest = {
    name,
    fullName,
    runId,
    repetition,
    trial: repetition,
    trials,
    tracked,
    dataset,
    experiment,
    exampleId: id,
    inputs,
    referenceOutputs,
  };
  const state: TestState = {
    name,
    runId,
    tracked,
    dataset,
    experiment,
    inputs,
    referenceOutputs,
    feedback: [],
    carried: [],
    open: true,
    client: client!,
    seen,
  };
  // Only awaited when there are plugins: without them a test starts exactly as it always did.
  const plugins = rt && rt.plugins.size > 0 ? rt.plugins : undefined;
  if (plugins) await plugins.testStart(seen);

  // Untracked tests still run inside a test context: logFeedback/logOutputs/evaluators keep working
  // and simply record nothing.
  if (!tracked || !rt) {
    if (!plugins) return testContext.run(state, () => fn(args as any));
    let passed = false;
    let error: unknown;
    try {
      const returned = await testContext.run(state, () =>
        callTest(
          () => fn(args as any),
          plugins,
          seen,
          () => undefined,
        ),
      );
      passed = true;
      return returned;
    } catch (err) {
      error = err;
      throw err;
    } finally {
      await plugins.testEnd(seen, { passed, error });
    }
  }

  // Named as the file's hint named it: a file whose worker dies is told apart into the tests that
  // registered a run and those never reported.
  const registration = { ...example(dataset, experiment), name, fullName, ...(file ? { file } : {}) };
  // The collector has the file's declarations before any of its tests can die.
  await rt.hintsSent();
  let passed = false;
  let error: unknown;
  let cache: CacheCounts | undefined;
  let usage: ModelUsage | undefined;
  const body = (_run: unknown, _inputs: KVMap) =>
    testContext.run(state, async () => {
      try {
        const returned = await callTest(
          () => fn(args as any),
          plugins,
          seen,
          (finish) => {
            if (finish.metadata) annotateRun(rt.langsmith.getCurrentRunTree(true), finish.metadata);
            cache = finish.cache;
            usage = finish.usage;
          },
        );
        passed = true;
        const outputs = toJsonSafe<KVMap | undefined>(toOutputs(returned, state));
        noteConversions(rt, fullName, "outputs", outputs.notes);
        return outputs.value;
      } catch (err) {
        // Outputs logged before the failure still belong on the run.
        const run = rt.langsmith.getCurrentRunTree(true);
        if (run && state.loggedOutputs && run.outputs === undefined) run.outputs = state.loggedOutputs;
        throw err;
      } finally {
        // Still inside the run: `pass` and everything logged so far go out with the run's end.
        recordFeedback(state, { key: "pass", score: passed });
        state.open = false;
      }
    });
  const userExtra = (runTreeConfig.extra as KVMap | undefined) ?? {};
  // The run carries its inputs already, unless its client hides or rewrites them.
  const { inputs: _inputs, ...carriedTest } = registration;
  if (hidesInputs(client)) Object.assign(carriedTest, { inputs: registration.inputs });
  const carrier: TallyRunExtra = { test: carriedTest, feedback: state.carried };
  const traced = rt.langsmith.traceable(body, {
    name,
    run_type: "chain",
    tracingEnabled: true,
    ...runTreeConfig,
    id: runId,
    project_name: experiment.name,
    // Placeholder: the main process knows the dataset id and swaps in the real example id.
    reference_example_id: runId,
    client,
    extra: { ...userExtra, [TALLY_EXTRA]: carrier },
    metadata: {
      ...(suite?.metadata ?? {}),
      ...(metadata ?? {}),
      ...((runTreeConfig.metadata as KVMap) ?? {}),
      // Which trial this run is, when there are several of the example (one run per trial).
      ...(trials > 1 ? { tally_trial: repetition } : {}),
    },
  });
  try {
    await traced(rt.langsmith.ROOT, inputs);
  } catch (err) {
    error = err;
    throw err;
  } finally {
    rt.tracker.adoptCommonJs();
    const feedback = state.feedback.map(({ key, score }) => ({ key, score }));
    const info: TestEndInfo = {
      runId,
      fullName,
      dataset,
      experimentName: experiment.name,
      experimentId: experiment.id,
      feedback,
      passed,
      ...(cache ? { cache } : {}),
      ...(usage ? { usage } : {}),
    };
    rt.reportTest(info);
    await api.binding.onTestEnd?.(ctx, info);
    if (plugins) await plugins.testEnd(seen, { passed, error });
  }
}

/**
 * Runs the test function, then (with plugins) their `beforeTestEnd` in the same context: what they
 * add is applied, and an error of theirs fails a test that passed.
 */
async function callTest(
  call: () => unknown,
  plugins: WorkerPlugins | undefined,
  seen: WorkerTest,
  apply: (finish: TestFinish) => void,
): Promise<unknown> {
  if (!plugins) return call();
  let returned: unknown;
  let threw = false;
  let error: unknown;
  try {
    returned = await call();
  } catch (err) {
    threw = true;
    error = err;
  }
  const finish = await plugins.beforeTestEnd(seen, { passed: !threw, error });
  apply(finish);
  if (threw) throw error;
  if (finish.error) throw finish.error;
  return returned;
}

function runtimeOrWarn(api: ApiState): WorkerRuntime | undefined {
  const rt = getRuntime();
  // With tracking off the runner's setup installs no runtime on purpose (nothing to record).
  if (!rt && !api.warned && trackingEnabled()) {
    api.warned = true;
    console.warn(
      `tally: this worker has no Tally runtime, so ls.test() runs without recording. ` +
        (api.binding.name === "vitest"
          ? `Add \`plugins: [tally()]\` from "@tally/vitest-plugin/plugin" to your Vitest config.`
          : `Add \`preset: "@tally/jest-preset"\` to your Jest config.`),
    );
  }
  return rt;
}

/** Whether the SDK will send a run's inputs changed (hidden or anonymised) through this client. */
function hidesInputs(client: LangsmithClientLike | undefined): boolean {
  return !!client?.hideInputs;
}

/** A test's return value as run outputs: what it returned, wrapped unless a plain object, else what it logged. */
export function toOutputs(returned: unknown, state: Pick<TestState, "loggedOutputs">): KVMap | undefined {
  if (returned === undefined) return state.loggedOutputs;
  if (returned !== null && typeof returned === "object" && !Array.isArray(returned)) return returned as KVMap;
  return { result: returned };
}
