// Percentile bootstrap interval of a mean, of one set of values or of several at once.

import { checkConfidence, checkResamples, finiteValues } from "./check.js";
import { percentileInterval } from "./percentile.js";
import { Rng, STREAMS } from "./prng.js";
import { levelPlan, resampleMeansByIndexShared, resampleMeansByLevels } from "./resample.js";
import type { Interval, ResampleOptions } from "./types.js";

/** [v, v] when every value is v (one value, or all alike: every resample has this mean), else null. */
function constant(values: Float64Array): Interval | null {
  const v = values[0];
  for (let i = 1; i < values.length; i++) if (values[i] !== v) return null;
  return [v, v];
}

/**
 * The interval of the mean of each of `columns` (non-empty arrays of finite numbers) from
 * `resamples` bootstrap resamples, each column as bootstrapInterval would give it alone: every column
 * draws from the same seeded stream, so the columns of one length that are resampled by index (the
 * continuous ones) share their indices. Those are drawn once and summed into each column, the costly
 * part of a bootstrap, instead of once per column; the intervals are the same to the last bit.
 */
export function bootstrapIntervals(columns: readonly Float64Array[], options: ResampleOptions): Interval[] {
  const { seed, resamples = 1000, confidence = 0.95 } = options;
  checkResamples(resamples);
  checkConfidence(confidence);
  const out: Interval[] = new Array(columns.length);
  const byIndex = new Map<number, number[]>(); // column length → the columns resampled by index
  for (let c = 0; c < columns.length; c++) {
    const values = columns[c];
    const same = constant(values);
    if (same) {
      out[c] = same;
      continue;
    }
    const plan = levelPlan(values);
    if (!plan) {
      const group = byIndex.get(values.length);
      if (group) group.push(c);
      else byIndex.set(values.length, [c]);
      continue;
    }
    const means = new Float64Array(resamples);
    resampleMeansByLevels(plan.levels, plan.counts, new Rng(seed, STREAMS.bootstrap), means);
    out[c] = percentileInterval(means, confidence);
  }
  for (const group of byIndex.values()) {
    const means = group.map(() => new Float64Array(resamples));
    resampleMeansByIndexShared(
      group.map((c) => columns[c]),
      new Rng(seed, STREAMS.bootstrap),
      means,
    );
    group.forEach((c, i) => {
      out[c] = percentileInterval(means[i], confidence);
    });
  }
  return out;
}

/** The interval of the mean of `values` (finite numbers, at least one) from `resamples` bootstrap resamples. */
export function bootstrapInterval(values: Float64Array, options: ResampleOptions): Interval {
  return bootstrapIntervals([values], options)[0];
}

/**
 * Percentile bootstrap interval of the mean of `values`: [v, v] for a single value, null for none.
 * Pass one value per example (trials averaged first), so that resampling keeps an example's trials
 * together. Same values, seed and options: same interval.
 */
export function bootstrapMeanCi(values: ArrayLike<number>, options: ResampleOptions): Interval | null {
  return bootstrapMeanCis([values], options)[0];
}

/**
 * bootstrapMeanCi of several sets of values (an experiment's feedback keys) at once, with one seed:
 * each interval is the one bootstrapMeanCi gives that set alone, and the sets resampled by index
 * share the drawing of their indices (bootstrapIntervals), so a report's keys cost little more than one.
 */
export function bootstrapMeanCis(sets: readonly ArrayLike<number>[], options: ResampleOptions): Array<Interval | null> {
  const columns = sets.map((values, i) => finiteValues(sets.length === 1 ? "values" : `values[${i}]`, values));
  checkResamples(options.resamples ?? 1000);
  checkConfidence(options.confidence ?? 0.95);
  const filled = columns.flatMap((c, i) => (c.length > 0 ? [i] : []));
  const intervals = bootstrapIntervals(
    filled.map((i) => columns[i]),
    options,
  );
  const out: Array<Interval | null> = columns.map(() => null);
  filled.forEach((c, i) => {
    out[c] = intervals[i];
  });
  return out;
}
