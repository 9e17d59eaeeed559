// biome-ignore-all lint/suspicious/noExplicitAny: the ls API mirrors langsmith's own signatures, which are written with any (KVMap, test functions)
import type { ApiState } from "./api-state.js";
import { runTest, type Declaration } from "./execute.js";
import { identify, noteConversions, repetitionsOf, repetitionTitle } from "./identity.js";
import type { LsDescribeConfig, LsParams, LsTestFn } from "./ls-types.js";
import { getRuntime } from "./runtime.js";

// `ls.test` and `ls.describe` with their variants: what happens when a test is declared, before
// anything runs. Each registers with the runner's own method, looked up when called (the runner is
// injected by the setup file, after this module may have been loaded).

type LsTest = (name: string, params: LsParams, fn: LsTestFn, timeout?: number) => void;
type LsEach = (table: LsParams[], config?: LsParams["config"]) => (name: string, fn: LsTestFn, timeout?: number) => void;
type LsDescribe = (name: string, fn: () => unknown, config?: LsDescribeConfig) => any;

export function declareTests(api: ApiState) {
  function wrapTest(method: any, skipped = false): LsTest {
    return function lsTest(name, params, fn, timeout) {
      const suite = api.describeStack.at(-1);
      // Its trials: `config.repetitions` as in langsmith, else the run's `trials` (TALLY_TRIALS).
      const reps = repetitionsOf(params?.config, getRuntime()?.trials);
      // The example is known now, at collection: hint it so it is uploaded while the file runs.
      // One identity per declaration, made when first needed (skipped tests never need it).
      let identity: Declaration | undefined;
      const declared = (): Declaration => {
        if (identity) return identity;
        const rt = getRuntime();
        return (identity = { ...identify(params, suite, rt), rt });
      };
      // The tests this declaration makes, named now: the runner's describe titles are known only now.
      const fullNames = Array.from({ length: reps }, (_, r) => {
        const testName = repetitionTitle(name, r, reps);
        return api.binding.fullNameOf?.(testName) ?? testName;
      });
      // Asked of the runner only for a test that records (the hint names it; so does its run).
      let file: string | undefined;
      if (!skipped && !suite?.skipped) {
        const { tracked, dataset, experiment, rt, example, notes } = declared();
        if (tracked && dataset && experiment) {
          file = testFileOf(api);
          // (The full name is looked up only when there is something to say.)
          if (notes.length > 0) noteConversions(rt!, api.binding.fullNameOf?.(name) ?? name, "inputs", notes);
          rt!.hintExample({ ...example(dataset, experiment), ...(file ? { declared: { file, tests: fullNames } } : {}) });
        }
      }
      for (let r = 0; r < reps; r++) {
        const testName = repetitionTitle(name, r, reps);
        const fullName = fullNames[r]!;
        // No declared parameter: Jest would take one as a `done` callback. Vitest passes its context anyway.
        method(
          testName,
          function (this: unknown) {
            // biome-ignore lint/complexity/noArguments: a declared parameter would make Jest wait for `done`.
            return runTest(api, { ctx: arguments[0], name, fullName, file, repetition: r, trials: reps, declared: declared(), fn });
          },
          timeout,
        );
      }
    };
  }

  function eachOf(method: any, skipped = false): LsEach {
    return (table, config) => (name, fn, timeout) => {
      table.forEach((row, i) => {
        wrapTest(method, skipped)(`${name}, item ${i}`, { ...row, config: { ...config, ...row.config } }, fn, timeout);
      });
    };
  }

  const lazy = (pick: (t: any) => any) => new Proxy(() => {}, { apply: (_t, _this, args) => pick(api.binding.methods().test)(...args) });
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

  function wrapDescribe(pick: (d: any) => any, skipped = false): LsDescribe {
    return function lsDescribe(name, fn, config = {}) {
      return pick(api.binding.methods().describe)(name, () => {
        // The frame is there only while the block collects: the tests it declares read it then.
        api.describeStack.push({ ...config, name, skipped: skipped || api.describeStack.at(-1)?.skipped });
        let out: unknown;
        try {
          out = fn();
        } catch (err) {
          api.describeStack.pop();
          throw err;
        }
        if (out && typeof (out as Promise<unknown>).then === "function") {
          return (out as Promise<unknown>).finally(() => api.describeStack.pop());
        }
        api.describeStack.pop();
        return out;
      });
    };
  }
  const describe = Object.assign(
    wrapDescribe((d) => d),
    {
      only: wrapDescribe((d) => d.only),
      skip: wrapDescribe((d) => d.skip, true),
      concurrent: wrapDescribe((d) => d.concurrent),
    },
  );

  return { test, describe };
}

/**
 * The test file being collected, as its ack names it: Vitest and Jest both keep it in the expect
 * state (`testPath`) while a file is collected and run.
 */
function testFileOf(api: ApiState): string | undefined {
  try {
    const path: unknown = api.binding.methods().expect?.getState?.()?.testPath;
    return typeof path === "string" && path !== "" ? path : undefined;
  } catch {
    return undefined;
  }
}
