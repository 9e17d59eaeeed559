// The Wilson score interval of a proportion: a pass rate's confidence interval that behaves at 0%
// and 100% and for small n, where the normal ("Wald") interval collapses or leaves [0, 1].

import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import { checkConfidence, checkCount } from "./check.js";
import type { Interval } from "./types.js";

/** The two-sided standard normal critical value: 1.959963984540054 for 0.95. */
export function zFor(confidence: number): number {
  let z = zByConfidence.get(confidence);
  if (z === undefined) {
    checkConfidence(confidence);
    zByConfidence.set(confidence, (z = normalQuantile(1 - (1 - confidence) / 2, 0, 1)));
  }
  return z;
}

/** zFor's answers: a report asks for the same one or two confidences 10,000 times (an interval per example). */
const zByConfidence = new Map<number, number>();

/**
 * Wilson score interval of `successes` out of `n` (no continuity correction), or null when n is 0.
 * Agrees with SciPy's `binomtest(successes, n).proportion_ci(confidence, method="wilson")`.
 */
export function wilson(successes: number, n: number, confidence = 0.95): Interval | null {
  checkCount("successes", successes);
  checkCount("n", n);
  if (successes > n) throw new RangeError(`successes (${successes}) cannot exceed n (${n})`);
  const z = zFor(confidence);
  if (n === 0) return null;
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At 0 and n successes the bound is exactly 0 or 1; computed, it would be off by a rounding error.
  const lo = successes === 0 ? 0 : Math.max(0, center - half);
  const hi = successes === n ? 1 : Math.min(1, center + half);
  return [lo, hi];
}
