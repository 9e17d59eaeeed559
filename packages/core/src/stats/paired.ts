// Paired comparison of per-example values of a baseline and a current experiment (aligned by
// example): scores, or pass rates over trials.

import { bootstrapIntervals } from "./bootstrap.js";
import { checkConfidence, checkResamples, finiteValues } from "./check.js";
import { Rng, STREAMS } from "./prng.js";
import { signFlipP } from "./sign-flip.js";
import type { PairedResult, ResampleOptions } from "./types.js";

/** One measure's per-example values on both sides, aligned by example. */
export interface PairedValues {
  baseline: ArrayLike<number>;
  current: ArrayLike<number>;
}

/** current − baseline per example; throws if the arrays differ in length or hold a non-finite value. */
function differences({ baseline, current }: PairedValues, what: string): Float64Array {
  if (baseline.length !== current.length) {
    throw new RangeError(`${what}baseline and current must be aligned by example: ${baseline.length} vs ${current.length} values`);
  }
  const before = finiteValues(`${what}baseline`, baseline);
  const diffs = finiteValues(`${what}current`, current);
  for (let i = 0; i < diffs.length; i++) diffs[i] -= before[i];
  return diffs;
}

/**
 * Mean difference current − baseline, its percentile bootstrap interval (examples resampled in
 * pairs) and the two-sided p-value of the paired sign-flip permutation test; null when there are
 * no examples. Throws if the arrays differ in length or hold a non-finite value.
 */
export function pairedBootstrap(baseline: ArrayLike<number>, current: ArrayLike<number>, options: ResampleOptions): PairedResult | null {
  return pairedBootstraps([{ baseline, current }], options)[0];
}

/**
 * pairedBootstrap of several measures of one comparison (its pass rate and feedback keys) with one
 * seed: each result is the one pairedBootstrap gives that measure alone, and the measures whose
 * differences are resampled by index share the drawing of their indices (bootstrapIntervals).
 */
export function pairedBootstraps(measures: readonly PairedValues[], options: ResampleOptions): Array<PairedResult | null> {
  const diffs = measures.map((m, i) => differences(m, measures.length === 1 ? "" : `measure ${i}: `));
  const { resamples = 1000, confidence = 0.95 } = options;
  checkResamples(resamples);
  checkConfidence(confidence);
  const filled = diffs.flatMap((d, i) => (d.length > 0 ? [i] : []));
  const cis = bootstrapIntervals(
    filled.map((i) => diffs[i]),
    options,
  );
  const out: Array<PairedResult | null> = diffs.map(() => null);
  filled.forEach((m, i) => {
    const d = diffs[m];
    let sum = 0;
    for (let j = 0; j < d.length; j++) sum += d[j];
    out[m] = { delta: sum / d.length, ci: cis[i], p: signFlipP(d, resamples, new Rng(options.seed, STREAMS.signFlip)) };
  });
  return out;
}
