// pass@k and pass^k from n trials of which c passed, as products (no factorials, so no overflow
// and no cancellation for large n).

import { checkCount } from "./check.js";

function checkTrials(n: number, c: number, k: number): void {
  checkCount("n", n);
  checkCount("c", c);
  checkCount("k", k);
  if (c > n) throw new RangeError(`c (${c}) cannot exceed n (${n})`);
  if (k < 1 || k > n) throw new RangeError(`k must be between 1 and n (${n}), got ${k}`);
}

/**
 * pass@k: the probability that at least one of k trials drawn without replacement from the n
 * (c of which passed) passes. The unbiased estimator of Chen et al. (2021), 1 − C(n−c, k)/C(n, k),
 * computed as 1 − ∏_{i=n−c+1}^{n} (1 − k/i).
 */
export function passAtK(n: number, c: number, k: number): number {
  checkTrials(n, c, k);
  if (n - c < k) return 1;
  let allFail = 1;
  for (let i = n - c + 1; i <= n; i++) allFail *= 1 - k / i;
  return 1 - allFail;
}

/**
 * pass^k: the probability that all k trials drawn without replacement from the n (c of which
 * passed) pass, C(c, k)/C(n, k), computed as ∏_{i=0}^{k−1} (c−i)/(n−i).
 */
export function passHatK(n: number, c: number, k: number): number {
  checkTrials(n, c, k);
  if (c < k) return 0;
  let all = 1;
  for (let i = 0; i < k; i++) all *= (c - i) / (n - i);
  return all;
}
