// The statistics the end of a run adds, for 10,000 tests × 3 trials compared with a baseline of the
// same size: the experiment's spread (`spreadOf`: the pass rate's Wilson interval, each key's
// bootstrap interval, pass@k and pass^k per example) and the noise-aware comparison
// (`compareVerdicts`: paired bootstrap and permutation p of the pass rate and each key), and each
// test's own verdict over its trials (`compareTests`). The very functions the run's report calls, on
// the report's own shapes. Not a test: it asserts nothing.
//
//   node_modules/.bin/node test/bench/stats-perf.ts            both cases, in milliseconds
//   … --case=worst|typical --json                             one case, first in its process, as a JSON line
//                                                             (what the bench's `stats` row runs)
//   … --core=/path/to/packages/core/src                       another copy of core's sources (a before/after)
//
// `first` is the first call in this process, as a run's end pays it (nothing compiled yet); `warm`
// the median of the calls after it. Node runs the sources as they are; they import each other by
// their built names (./x.js), so a resolve hook maps those to the .ts files beside them.
import { registerHooks } from "node:module";
import { join, resolve } from "node:path";

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (!(specifier.startsWith(".") && specifier.endsWith(".js"))) return nextResolve(specifier, context);
    try {
      return nextResolve(specifier, context);
    } catch {
      return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
    }
  },
});

const args = process.argv.slice(2);
const json = args.includes("--json");
const only = args.find((a) => a.startsWith("--case="))?.slice(7);
if (only !== undefined && only !== "worst" && only !== "typical") throw new Error(`--case must be worst or typical, got ${only}`);
const core = resolve(args.find((a) => a.startsWith("--core="))?.slice(7) ?? join(import.meta.dirname, "../../packages/core/src"));

type ReportTest = import("../../packages/core/src/report/json-report.ts").ReportTest;
type TestOutcome = import("../../packages/core/src/compare/outcomes.ts").TestOutcome;
const { spreadOf } = (await import(
  join(core, "report/ci/build-report.ts")
)) as typeof import("../../packages/core/src/report/ci/build-report.ts");
const { compareVerdicts } = (await import(
  join(core, "compare/verdicts.ts")
)) as typeof import("../../packages/core/src/compare/verdicts.ts");
const { compareTests } = (await import(
  join(core, "compare/test-verdicts.ts")
)) as typeof import("../../packages/core/src/compare/test-verdicts.ts");
const { groupByExample } = (await import(
  join(core, "compare/outcomes.ts")
)) as typeof import("../../packages/core/src/compare/outcomes.ts");

const EXAMPLES = 10_000;
const TRIALS = 3;

/** A seeded stream of floats in [0, 1) (mulberry32), so that every run times the same data. */
function floats(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * One experiment's tests: per example a difficulty, per trial a pass drawn from it, a `similarity`
 * score (continuous) and a `correctness` that is the pass itself (0/1) or, in the worst case, continuous.
 */
function experiment(seed: number, shift: number, continuousCorrectness: boolean): ReportTest[] {
  const rand = floats(seed);
  const tests: ReportTest[] = [];
  for (let i = 0; i < EXAMPLES; i++) {
    const difficulty = ((i * 7919) % EXAMPLES) / EXAMPLES;
    for (let t = 0; t < TRIALS; t++) {
      const pass = rand() < 0.9 - 0.6 * difficulty + shift;
      tests.push({
        name: `evals > case ${i}${t ? `, run ${t + 1}` : ""}`,
        file: "evals/cases.test.ts",
        status: pass ? "passed" : "failed",
        exampleId: `example-${i}`,
        runId: `run-${seed}-${i}-${t}`,
        scores: {
          correctness: continuousCorrectness ? rand() : pass ? 1 : 0,
          similarity: 0.5 + 0.4 * (1 - difficulty) * rand() + shift,
        },
      });
    }
  }
  return tests;
}

function outcomes(tests: ReportTest[]): TestOutcome[] {
  return tests.map((t) => ({ exampleId: t.exampleId!, runId: t.runId!, name: t.name, passed: t.status === "passed", scores: t.scores }));
}

interface CaseTiming {
  /** The first call in this process, ms. */
  first: number;
  /** Median of the calls after it, ms. */
  warm: number;
}

function time(continuousCorrectness: boolean): CaseTiming {
  const name = "evals:20260101-000000-abcd";
  const current = experiment(2, -0.01, continuousCorrectness);
  // The run reads and groups the baseline while the tests run (run/compare-baselines.ts): not timed.
  const baseline = groupByExample(outcomes(experiment(1, 0, continuousCorrectness)));
  const runs: number[] = [];
  let checksum = 0;
  for (let run = 0; run < 6; run++) {
    const start = performance.now();
    const spread = spreadOf(name, current);
    const now = groupByExample(outcomes(current));
    const verdicts = compareVerdicts(now, baseline, { alpha: 0.05, seed: name });
    const tests = compareTests(now, baseline, 0.05);
    runs.push(performance.now() - start);
    checksum += (spread.passRateCi?.[0] ?? 0) + (verdicts.passRate?.p ?? 0) + (spread.scores.similarity?.ci?.[0] ?? 0) + tests.compared;
  }
  if (!Number.isFinite(checksum)) throw new Error("the statistics gave no number");
  const warm = runs.slice(1).sort((x, y) => x - y);
  return { first: runs[0]!, warm: warm[warm.length >> 1]! };
}

if (only) {
  const t = time(only === "worst");
  console.log(
    json
      ? JSON.stringify({ case: only, examples: EXAMPLES, trials: TRIALS, ...t })
      : `${only}: first call ${t.first.toFixed(1)} ms, then median ${t.warm.toFixed(1)} ms`,
  );
} else {
  // The worst case first, so that its first call is the process's first, as at a run's end.
  const worst = time(true);
  const typical = time(false);
  console.log(`${EXAMPLES.toLocaleString("en")} examples × ${TRIALS} trials vs a baseline as large (${core})`);
  console.log(`both score keys continuous (worst case): first call ${worst.first.toFixed(1)} ms, then median ${worst.warm.toFixed(1)} ms`);
  console.log(`correctness 0/1 per trial, similarity continuous: median ${typical.warm.toFixed(1)} ms`);
}
