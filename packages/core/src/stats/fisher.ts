// Fisher's exact test for two independent sets of pass/fail outcomes: one test's trials now against
// its trials in the baseline. Not paired (trial 2 of one run has nothing to do with trial 2 of the
// other), and exact, because a test has a handful of trials, far too few for a normal approximation.

import hypergeometricPmf from "@stdlib/stats-base-dists-hypergeometric-pmf";
import { checkCount } from "./check.js";

// Tables as likely as the observed one count as "as extreme": equal up to rounding, as SciPy judges.
const SAME = 1 + 1e-7;

/**
 * Two-sided p-value of Fisher's exact test on the 2 × 2 table (x1 of n1 passed, x2 of n2 passed):
 * the probability, given both margins, of a table no more likely than the observed one. 1 when either
 * side is empty. Agrees with SciPy's `fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue`.
 */
export function fisherExact(x1: number, n1: number, x2: number, n2: number): number {
  for (const [name, v] of [
    ["x1", x1],
    ["n1", n1],
    ["x2", x2],
    ["n2", n2],
  ] as const)
    checkCount(name, v);
  if (x1 > n1 || x2 > n2) throw new RangeError(`passed cannot exceed trials (${x1}/${n1}, ${x2}/${n2})`);
  if (n1 === 0 || n2 === 0) return 1;
  // Given both margins, x1 is hypergeometric: n1 draws from n1 + n2 outcomes of which x1 + x2 passed.
  const total = n1 + n2;
  const passed = x1 + x2;
  const observed = hypergeometricPmf(x1, total, passed, n1);
  let p = 0;
  for (let x = Math.max(0, passed - n2); x <= Math.min(passed, n1); x++) {
    const px = hypergeometricPmf(x, total, passed, n1);
    if (px <= observed * SAME) p += px;
  }
  return Math.min(1, p);
}
