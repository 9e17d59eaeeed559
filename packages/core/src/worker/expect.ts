// biome-ignore-all lint/suspicious/noExplicitAny: the ls API mirrors langsmith's own signatures, which are written with any (KVMap, test functions)
import type { RunnerBinding } from "./api-state.js";
import { wrapEvaluator } from "./feedback.js";
import type { KVMap, SimpleEvaluator } from "./ls-types.js";
import { getRuntime } from "./runtime.js";
import { currentTest } from "./test-context.js";

/**
 * `ls.expect`: the runner's own expect (every native matcher, `.soft`, `.extend`, …) plus
 * `.evaluatedBy(evaluator)`, whose matchers apply to the evaluator's score. The result is tracked, so
 * an evaluation nobody awaited is still flushed before the worker stops.
 */
export function makeExpect(binding: RunnerBinding): any {
  const matcherChain = (score: Promise<unknown>, negate: boolean): any =>
    new Proxy(
      {},
      {
        get(_t, prop) {
          // Not a thenable: awaiting or returning the chain must not be taken for a matcher named `then`.
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

  return new Proxy(() => {}, {
    apply(_t, _this, args: unknown[]) {
      const assertion = binding.methods().expect(...args);
      Object.defineProperty(assertion, "evaluatedBy", {
        configurable: true,
        value: (evaluator: SimpleEvaluator) => {
          const state = currentTest("expect().evaluatedBy");
          const ev = wrapEvaluator(evaluator);
          const score = Promise.resolve(
            ev({ inputs: state.inputs, referenceOutputs: state.referenceOutputs, outputs: args[0] as KVMap }),
          ).then((r) => (Array.isArray(r) ? r.map((x) => x.score) : r.score));
          return matcherChain(score, false);
        },
      });
      return assertion;
    },
    get(_t, prop) {
      return binding.methods().expect[prop];
    },
  });
}
