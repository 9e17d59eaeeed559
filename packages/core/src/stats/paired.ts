// Paired comparison of per-example values of a baseline and a current experiment (aligned by
// example): scores, or pass rates over trials.

import { bootstrapInterval } from "./bootstrap.js";
import { checkConfidence, checkResamples, finiteValues } from "./check.js";
import { Rng, STREAMS } from "./prng.js";
import { signFlipP } from "./sign-flip.js";
import type { PairedResult, ResampleOptions } from "./types.js";

/**
 * Mean difference current − baseline, its percentile bootstrap interval (examples resampled in
 * pairs) and the two-sided p-value of the paired sign-flip permutation test; null when there are
 * no examples. Throws if the arrays differ in length or hold a non-finite value.
 */
export function pairedBootstrap(baseline: ArrayLike<number>, current: ArrayLike<number>, options: ResampleOptions): PairedResult | null {
  if (baseline.length !== current.length) {
    throw new RangeError(`baseline and current must be aligned by example: ${baseline.length} vs ${current.length} values`);
  }
  const before = finiteValues("baseline", baseline);
  const diffs = finiteValues("current", current);
  const { resamples = 2000, confidence = 0.95 } = options;
  checkResamples(resamples);
  checkConfidence(confidence);
  const n = diffs.length;
  if (n === 0) return null;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    diffs[i] -= before[i];
    sum += diffs[i];
  }
  return {
    delta: sum / n,
    ci: bootstrapInterval(diffs, options),
    p: signFlipP(diffs, resamples, new Rng(options.seed, STREAMS.signFlip)),
  };
}
