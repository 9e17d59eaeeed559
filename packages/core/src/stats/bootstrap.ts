// Percentile bootstrap interval of a mean.

import { checkConfidence, checkResamples, finiteValues } from "./check.js";
import { percentileInterval } from "./percentile.js";
import { Rng, STREAMS } from "./prng.js";
import { resampleMeans } from "./resample.js";
import type { Interval, ResampleOptions } from "./types.js";

/** The interval of the mean of `values` (finite numbers) from `resamples` bootstrap resamples. */
export function bootstrapInterval(values: Float64Array, options: ResampleOptions): Interval {
  const { seed, resamples = 2000, confidence = 0.95 } = options;
  checkResamples(resamples);
  checkConfidence(confidence);
  let min = values[0];
  let max = values[0];
  for (const v of values) {
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  if (min === max) return [min, min]; // one value, or all alike: every resample has this mean
  const means = new Float64Array(resamples);
  resampleMeans(values, new Rng(seed, STREAMS.bootstrap), means);
  return percentileInterval(means, confidence);
}

/**
 * Percentile bootstrap interval of the mean of `values`: [v, v] for a single value, null for none.
 * Pass one value per example (trials averaged first), so that resampling keeps an example's trials
 * together. Same values, seed and options: same interval.
 */
export function bootstrapMeanCi(values: ArrayLike<number>, options: ResampleOptions): Interval | null {
  const xs = finiteValues("values", values);
  if (xs.length === 0) {
    checkResamples(options.resamples ?? 2000);
    checkConfidence(options.confidence ?? 0.95);
    return null;
  }
  return bootstrapInterval(xs, options);
}
