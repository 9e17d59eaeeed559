// McNemar's exact test for paired pass/fail outcomes: of the examples whose outcome differs between
// baseline and current (b passed only in baseline, c only in current), is the split b : c further
// from even than chance allows? Under the null each discordant example goes either way with
// probability 1/2, so this is the exact two-sided binomial test of b in b + c at p = 0.5.

import binomialCdf from "@stdlib/stats-base-dists-binomial-cdf";
import { checkCount } from "./check.js";

/**
 * Two-sided p-value of the exact McNemar test; 1 when there is no discordant pair. Agrees with
 * SciPy's `binomtest(b, b + c, 0.5).pvalue` (the distribution is symmetric, so the two-sided
 * p-value is twice the smaller tail, capped at 1).
 */
export function mcnemarExact(b: number, c: number): number {
  checkCount("b", b);
  checkCount("c", c);
  const n = b + c;
  if (n === 0) return 1;
  return Math.min(1, 2 * binomialCdf(Math.min(b, c), n, 0.5));
}
