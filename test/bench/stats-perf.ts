// Timing of the statistics one report needs for 10,000 tests × 3 trials: for the current experiment
// the Wilson interval of its pass rate and bootstrap intervals of two score keys; against the
// baseline the paired comparisons of pass rate and both keys, and McNemar on the first trial. Not a
// test: it asserts nothing and prints milliseconds (this machine's speed varies: run it twice).
//
//   node_modules/.bin/node test/bench/stats-perf.ts
//
// Node runs the sources as they are; they import each other by their built names (./x.js), so a
// resolve hook maps those to the .ts files beside them.
import { registerHooks } from "node:module";

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

const { Rng, bootstrapMeanCi, mcnemarExact, pairedBootstrap, wilson } = await import("../../packages/core/src/stats/index.js");

const EXAMPLES = 10_000;
const TRIALS = 3;
const RESAMPLES = 2000;

interface Experiment {
  passes: number;
  firstTrial: Uint8Array;
  passRate: Float64Array;
  correctness: Float64Array;
  similarity: Float64Array;
}

/** Per-example values averaged over trials. `continuousCorrectness` makes both score keys continuous (the slow case). */
function experiment(seed: number, shift: number, continuousCorrectness: boolean): Experiment {
  const rng = new Rng(seed);
  const e: Experiment = {
    passes: 0,
    firstTrial: new Uint8Array(EXAMPLES),
    passRate: new Float64Array(EXAMPLES),
    correctness: new Float64Array(EXAMPLES),
    similarity: new Float64Array(EXAMPLES),
  };
  for (let i = 0; i < EXAMPLES; i++) {
    const difficulty = ((i * 7919) % EXAMPLES) / EXAMPLES;
    for (let t = 0; t < TRIALS; t++) {
      const pass = rng.float() < 0.9 - 0.6 * difficulty + shift ? 1 : 0;
      e.passes += pass;
      if (t === 0) e.firstTrial[i] = pass;
      e.passRate[i] += pass / TRIALS;
      e.correctness[i] += (continuousCorrectness ? rng.float() : pass) / TRIALS;
      e.similarity[i] += (0.5 + 0.4 * (1 - difficulty) * rng.float() + shift) / TRIALS;
    }
  }
  return e;
}

function report(baseline: Experiment, current: Experiment, seed: string): number {
  let checksum = wilson(current.passes, EXAMPLES * TRIALS)![0];
  checksum += bootstrapMeanCi(current.correctness, { seed, resamples: RESAMPLES })![0];
  checksum += bootstrapMeanCi(current.similarity, { seed, resamples: RESAMPLES })![0];
  for (const key of ["passRate", "correctness", "similarity"] as const) {
    checksum += pairedBootstrap(baseline[key], current[key], { seed, resamples: RESAMPLES })!.p;
  }
  let b = 0;
  let c = 0;
  for (let i = 0; i < EXAMPLES; i++) {
    if (baseline.firstTrial[i] > current.firstTrial[i]) b++;
    else if (baseline.firstTrial[i] < current.firstTrial[i]) c++;
  }
  return checksum + mcnemarExact(b, c);
}

function time(label: string, continuousCorrectness: boolean): void {
  const baseline = experiment(1, 0, continuousCorrectness);
  const current = experiment(2, -0.01, continuousCorrectness);
  const runs: number[] = [];
  for (let run = 0; run < 8; run++) {
    const start = performance.now();
    report(baseline, current, `run-${run}`);
    runs.push(performance.now() - start);
  }
  const first = runs[0]!;
  const warm = runs.slice(1).sort((x, y) => x - y);
  const median = warm[Math.floor(warm.length / 2)]!;
  console.log(`${label}: first run ${first.toFixed(1)} ms, then median ${median.toFixed(1)} ms (min ${warm[0]!.toFixed(1)} ms)`);
}

console.log(`${EXAMPLES} examples × ${TRIALS} trials, ${RESAMPLES} resamples`);
time("correctness 0/1 per trial, similarity continuous", false);
time("both score keys continuous (worst case)", true);
