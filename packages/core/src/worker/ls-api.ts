import { experimentIdentity } from "../identity/experiment.js";
import { objectHash } from "../identity/example-hash.js";
import { EXAMPLE_ID_NAMESPACE } from "../identity/example-hash.js";
import { isUuid, uuid5, uuid7 } from "../wire/ids.js";
import { toJsonSafe } from "../wire/json-safe.js";
import type { ExampleHint } from "../spool/records.js";
import type { KVMap, LsDescribeConfig, LsParams, LsTestFn, SimpleEvaluator, TestMetadata } from "./ls-types.js";
import { TALLY_EXTRA, type TallyRunExtra } from "../wire/tally-extra.js";
import type { AckedTest } from "../ledger/ledger.js";
import type { LangsmithClientLike } from "./langsmith-types.js";
import { getRuntime, type WorkerRuntime } from "./runtime.js";
import { currentTest, testContext, type TestState } from "./test-context.js";

/* eslint-disable @typescript-eslint/no-explicit-any */

// The `ls` API, runner-agnostic: a binding supplies the runner's test/describe/expect (looked up
// lazily, because they are only known once the runner's setup file has run in the worker).

/** A tracked test that ended: what its file's ack carries, and what the binding hands its reporter. */
export type TestEndInfo = AckedTest;

export interface RunnerBinding {
  name: "vitest" | "jest";
  methods(): { test: any; describe: any; expect: any };
  /** Hands the reporter what it needs (Vitest: task meta and an annotation). */
  onTestEnd?(ctx: any, info: TestEndInfo): void | Promise<void>;
  /**
   * The runner's full name (describe titles and title) of a test being declared, as its reporter
   * will show it. Asked at declaration: during a run, concurrent tests overlap. Default: the title.
   */
  fullNameOf?(title: string): string | undefined;
}

const WRAPPED = Symbol.for("tally.wrapped-evaluator");
type DescribeFrame = LsDescribeConfig & { name: string; skipped?: boolean };

export function createLsApi(binding: RunnerBinding) {
  const describeStack: DescribeFrame[] = [];

  function runtimeOrWarn(): WorkerRuntime | undefined {
    const rt = getRuntime();
    if (!rt && !warned) {
      warned = true;
      console.warn(
        `tally: this worker has no Tally runtime, so ls.test() runs without recording. ` +
          (binding.name === "vitest"
            ? `Add \`plugins: [tally()]\` from "@tally/vitest-plugin/plugin" to your Vitest config.`
            : `Add \`preset: "@tally/jest-preset"\` to your Jest config.`),
      );
    }
    return rt;
  }
  let warned = false;

  /** Everything about a test that follows from its declaration: the same at collection and at run. */
  function identify(params: LsParams, suite: DescribeFrame | undefined) {
    const rt = getRuntime();
    const { id: givenId, inputs: rawInputs, referenceOutputs: ref, outputs: legacyRef, split, metadata: rawMetadata, config = {}, ...rest } = params;
    // What is recorded is JSON-safe; what the test function receives is what it declared.
    const safe = toJsonSafe<{ inputs: KVMap; referenceOutputs?: KVMap; metadata?: KVMap }>({
      inputs: rawInputs,
      referenceOutputs: ref ?? legacyRef,
      metadata: rawMetadata,
    });
    const { inputs, referenceOutputs, metadata } = safe.value;
    const notes = [...safe.notes];
    // LangSmith takes only UUIDs as example ids: any other id is mapped to a stable one.
    const id = givenId === undefined || isUuid(givenId) ? givenId : uuid5(String(givenId), EXAMPLE_ID_NAMESPACE);
    if (id !== givenId) notes.push(`example id ${JSON.stringify(givenId)} is not a UUID; recorded as ${id}`);
    const { repetitions: _r, enableTestTracking, ...runTreeConfig } = config;
    const dataset = rt?.dataset ?? suite?.testSuiteName ?? suite?.name;
    const experiment = dataset ? experimentIdentity(dataset, rt?.runKey ?? "untracked", suite?.projectName ?? rt?.experimentPrefix) : undefined;
    const tracked = !!rt?.active && suite?.enableTestTracking !== false && enableTestTracking !== false;
    // Hashing walks the whole inputs: once per declaration, shared by the hint and every run of it.
    let hashes: { inputsHash: string; outputsHash: string } | undefined;
    const example = (d: string, e: { name: string; id: string }): ExampleHint => ({
      dataset: d,
      experiment: e,
      inputs,
      referenceOutputs: referenceOutputs ?? null,
      // Hashed from the values as declared, as the official integration does, so ids stay compatible.
      ...(hashes ??= { inputsHash: objectHash(rawInputs), outputsHash: objectHash(ref ?? legacyRef ?? {}) }),
      exampleId: id,
      split: split ?? null,
      metadata: metadata ?? null,
    });
    return { rt, id, inputs, rawInputs, rawReferenceOutputs: ref ?? legacyRef, referenceOutputs, split, metadata, runTreeConfig, rest, dataset, experiment, tracked, example, suite, notes };
  }
  type Identity = ReturnType<typeof identify>;

  async function runOne(ctx: any, name: string, declared: Identity, fn: LsTestFn, repetition: number, fullName: string) {
    runtimeOrWarn();
    const { rt, id, inputs, referenceOutputs, split, metadata, runTreeConfig, rest, dataset, experiment, tracked, example, suite } = declared;
    if (!dataset || !experiment) {
      throw new Error(`ls.test("${name}") needs a dataset: put it inside ls.describe("<dataset>", ...) or set the plugin's \`dataset\` option`);
    }
    const testMetadata: TestMetadata = {
      exampleId: id,
      experimentId: experiment.id,
      experimentName: experiment.name,
      dataset,
      testTrackingEnabled: tracked,
      repetition,
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
    };
    // Untracked tests still run inside a test context: logFeedback/logOutputs/evaluators keep working
    // and simply record nothing.
    if (!tracked || !rt) return testContext.run(state, () => fn(args as any));

    const registration = { ...example(dataset, experiment), name };
    let passed = false;
    const body = (_run: unknown, _inputs: KVMap) =>
      testContext.run(state, async () => {
        try {
          const returned = await fn(args as any);
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
      metadata: { ...(suite?.metadata ?? {}), ...(metadata ?? {}), ...((runTreeConfig.metadata as KVMap) ?? {}) },
    });
    try {
      await traced(rt.langsmith.ROOT, inputs);
    } finally {
      rt.tracker.adoptCommonJs();
      const feedback = state.feedback.map(({ key, score }) => ({ key, score }));
      const info: TestEndInfo = { runId, fullName, dataset, experimentName: experiment.name, experimentId: experiment.id, feedback, passed };
      rt.reportTest(info);
      await binding.onTestEnd?.(ctx, info);
    }
  }

  function wrapTest(method: any, skipped = false) {
    return function lsTest(name: string, params: LsParams, fn: LsTestFn, timeout?: number) {
      const suite = describeStack.at(-1);
      const reps = Math.max(1, Number(params?.config?.repetitions ?? 1));
      // The example is known now, at collection: hint it so it is uploaded while the file runs.
      // One identity per declaration, made when first needed (skipped tests never need it).
      let identity: Identity | undefined;
      const declared = () => (identity ??= identify(params, suite));
      if (!skipped && !suite?.skipped) {
        const { tracked, dataset, experiment, rt, example, notes } = declared();
        if (tracked && dataset && experiment) {
          // (The full name is looked up only when there is something to say.)
          if (notes.length > 0) noteConversions(rt!, binding.fullNameOf?.(name) ?? name, "inputs", notes);
          rt!.hintExample(example(dataset, experiment));
        }
      }
      for (let r = 0; r < reps; r++) {
        const testName = reps > 1 ? `${name}, run ${r + 1}` : name;
        const fullName = binding.fullNameOf?.(testName) ?? testName;
        // No declared parameter: Jest would take one as a `done` callback. Vitest passes its context anyway.
        method(
          testName,
          function (this: unknown) {
            return runOne(arguments[0], name, declared(), fn, r, fullName);
          },
          timeout,
        );
      }
    };
  }

  function eachOf(method: any, skipped = false) {
    return (table: LsParams[], config?: LsParams["config"]) =>
      (name: string, fn: LsTestFn, timeout?: number) => {
        table.forEach((row, i) =>
          wrapTest(method, skipped)(`${name}, item ${i}`, { ...row, config: { ...config, ...row.config } }, fn, timeout),
        );
      };
  }

  // Each variant resolves the runner's method at call time (the runner is injected by the setup file).
  const lazy = (pick: (t: any) => any) =>
    new Proxy(function () {}, { apply: (_t, _this, args) => pick(binding.methods().test)(...args) });
  const variant = (pick: (t: any) => any, skipped = false) =>
    Object.assign(wrapTest(lazy(pick), skipped), { each: eachOf(lazy(pick), skipped) });

  const test = Object.assign(wrapTest(lazy((t) => t)), {
    only: variant((t) => t.only),
    skip: variant((t) => t.skip, true),
    each: eachOf(lazy((t) => t)),
    concurrent: Object.assign(wrapTest(lazy((t) => t.concurrent)), {
      each: eachOf(lazy((t) => t.concurrent)),
      only: variant((t) => t.concurrent.only),
      skip: variant((t) => t.concurrent.skip, true),
    }),
  });

  function wrapDescribe(pick: (d: any) => any, skipped = false) {
    return function lsDescribe(name: string, fn: () => unknown, config: LsDescribeConfig = {}) {
      return pick(binding.methods().describe)(name, () => {
        describeStack.push({ ...config, name, skipped: skipped || describeStack.at(-1)?.skipped });
        let out: unknown;
        try {
          out = fn();
        } catch (err) {
          describeStack.pop();
          throw err;
        }
        if (out && typeof (out as Promise<unknown>).then === "function") {
          return (out as Promise<unknown>).finally(() => describeStack.pop());
        }
        describeStack.pop();
        return out;
      });
    };
  }
  const describe = Object.assign(wrapDescribe((d) => d), {
    only: wrapDescribe((d) => d.only),
    skip: wrapDescribe((d) => d.skip, true),
    concurrent: wrapDescribe((d) => d.concurrent),
  });

  function logFeedback(feedback: FeedbackInput, opts?: { sourceRunId?: string }) {
    recordFeedback(currentTest("logFeedback"), feedback, opts?.sourceRunId);
  }

  function logOutputs(outputs: KVMap) {
    const state = currentTest("logOutputs");
    if (state.loggedOutputs !== undefined) {
      console.warn(`tally: logOutputs() called twice in "${state.name}"; the last call wins`);
    }
    state.loggedOutputs = outputs;
  }

  function wrapEvaluator<E extends (input: any, config?: any) => any>(evaluator: E): E {
    if ((evaluator as any)[WRAPPED]) return evaluator;
    const wrapped = async (input: unknown, config?: KVMap) => {
      const state = testContext.getStore();
      const rt = getRuntime();
      if (!state || !state.tracked || !rt) return evaluator(input, config);
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
  }

  const expect = makeExpect(binding, wrapEvaluator);
  return { test, it: test, describe, expect, logFeedback, logOutputs, wrapEvaluator };
}

/** Says, naming the test, what of its values JSON could not hold as they were (see json-safe.ts). */
function noteConversions(rt: WorkerRuntime, test: string, what: string, notes: string[]): void {
  if (notes.length === 0) return;
  const message = `ls.test "${test}": ${what}: ${notes.join("; ")}`;
  console.warn(`tally: ${message}`);
  rt.noteProblem(message);
}

/** Whether the SDK will send a run's inputs changed (hidden or anonymised) through this client. */
function hidesInputs(client: LangsmithClientLike | undefined): boolean {
  return !!client?.hideInputs;
}

function toOutputs(returned: unknown, state: TestState): KVMap | undefined {
  if (returned === undefined) return state.loggedOutputs;
  if (returned !== null && typeof returned === "object" && !Array.isArray(returned)) return returned as KVMap;
  return { result: returned };
}

type FeedbackInput = { key: string; score?: number | boolean | null; value?: unknown; comment?: string };

/**
 * Records feedback on the test's root run: carried inside the run while it is open (no request of
 * its own), posted through the test's client once the run has ended (a late, un-awaited evaluation).
 */
function recordFeedback(state: TestState, fb: FeedbackInput, sourceRunId?: string): void {
  state.feedback.push({ key: fb.key, score: fb.score ?? null, comment: fb.comment });
  if (!state.tracked) return;
  if (state.open) {
    state.carried.push({
      id: uuid7(),
      run_id: state.runId,
      trace_id: state.runId,
      key: fb.key,
      score: typeof fb.score === "boolean" ? fb.score : fb.score ?? null,
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

/**
 * `ls.expect`: the runner's own expect (every native matcher, `.soft`, `.extend`, …) plus
 * `.evaluatedBy(evaluator)`, whose matchers apply to the evaluator's score. The result is tracked, so
 * an evaluation nobody awaited is still flushed before the worker stops.
 */
function makeExpect(binding: RunnerBinding, wrapEvaluator: <E extends (i: any, c?: any) => any>(e: E) => E) {
  const matcherChain = (score: Promise<unknown>, negate: boolean): any =>
    new Proxy(
      {},
      {
        get(_t, prop) {
          if (prop === "then") return undefined;
          if (prop === "not") return matcherChain(score, !negate);
          return (...args: unknown[]) => {
            const p = score.then((s) => {
              const base = binding.methods().expect(s);
              return (negate ? base.not : base)[prop](...args);
            });
            const rt = getRuntime();
            return rt ? rt.tracker.track(p) : p;
          };
        },
      },
    );

  return new Proxy(function () {}, {
    apply(_t, _this, args: unknown[]) {
      const assertion = binding.methods().expect(...args);
      Object.defineProperty(assertion, "evaluatedBy", {
        configurable: true,
        value: (evaluator: SimpleEvaluator) => {
          const state = currentTest("expect().evaluatedBy");
          const ev = wrapEvaluator(evaluator);
          const score = Promise.resolve(ev({ inputs: state.inputs, referenceOutputs: state.referenceOutputs, outputs: args[0] as KVMap })).then(
            (r) => (Array.isArray(r) ? r.map((x) => x.score) : r.score),
          );
          return matcherChain(score, false);
        },
      });
      return assertion;
    },
    get(_t, prop) {
      return binding.methods().expect[prop];
    },
  }) as any;
}
