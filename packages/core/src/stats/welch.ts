// Welch's t-test for two independent samples with unequal variances: one test's scores over its
// trials now against its trials in the baseline. The t distribution (not a bootstrap) because a test
// has a handful of trials, too few to resample.

import tCdf from "@stdlib/stats-base-dists-t-cdf";
import tQuantile from "@stdlib/stats-base-dists-t-quantile";
import { checkConfidence } from "./check.js";
import type { Interval } from "./types.js";

export interface WelchResult {
  /** mean(current) − mean(baseline). */
  delta: number;
  /** The Welch–Satterthwaite interval of `delta`. */
  ci: Interval;
  /** Two-sided p-value. */
  p: number;
}

/** Mean and sample variance in one pass each, without copying (this runs once per test and key). */
function meanVar(name: string, xs: ArrayLike<number>): { mean: number; variance: number } {
  let sum = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (!Number.isFinite(x)) throw new RangeError(`${name}[${i}] is not a finite number: ${x}`);
    sum += x;
  }
  const mean = sum / xs.length;
  let ss = 0;
  for (let i = 0; i < xs.length; i++) ss += (xs[i]! - mean) ** 2;
  return { mean, variance: ss / (xs.length - 1) };
}

export interface WelchStatistic {
  delta: number;
  /** The standard error of `delta`. */
  se: number;
  /** delta / se. */
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
}

/**
 * Welch's statistic of `current` against `baseline`, without the distribution: cheap enough to screen
 * thousands of tests before computing a p-value. null when either has fewer than 2 values or neither
 * varies (the test needs spread).
 */
export function welchStatistic(baseline: ArrayLike<number>, current: ArrayLike<number>): WelchStatistic | null {
  const b = baseline;
  const c = current;
  if (b.length < 2 || c.length < 2) return null;
  const mb = meanVar("baseline", b);
  const mc = meanVar("current", c);
  const vb = mb.variance / b.length;
  const vc = mc.variance / c.length;
  const se = Math.sqrt(vb + vc);
  if (!(se > 0)) return null;
  const delta = mc.mean - mb.mean;
  const df = (vb + vc) ** 2 / (vb ** 2 / (b.length - 1) + vc ** 2 / (c.length - 1));
  return { delta, se, t: delta / se, df };
}

/** The two-sided p-value of a Welch statistic. */
export function welchP(s: WelchStatistic): number {
  return Math.min(1, 2 * tCdf(-Math.abs(s.t), s.df));
}

/** The |t| a two-sided p-value of `alpha` needs at `df` degrees of freedom (it falls as df grows). */
export function tCritical(alpha: number, df: number): number {
  return tQuantile(1 - alpha / 2, df);
}

/** The interval of a Welch statistic's delta. */
export function welchCi(s: WelchStatistic, confidence = 0.95): Interval {
  checkConfidence(confidence);
  const half = tQuantile(1 - (1 - confidence) / 2, s.df) * s.se;
  return [s.delta - half, s.delta + half];
}

/**
 * Welch's t-test of `current` against `baseline`; null when either has fewer than 2 values or neither
 * varies (the test needs spread). Agrees with SciPy's
 * `ttest_ind(current, baseline, equal_var=False)` (pvalue and confidence_interval()).
 */
export function welch(baseline: ArrayLike<number>, current: ArrayLike<number>, confidence = 0.95): WelchResult | null {
  checkConfidence(confidence);
  const s = welchStatistic(baseline, current);
  return s && { delta: s.delta, ci: welchCi(s, confidence), p: welchP(s) };
}
