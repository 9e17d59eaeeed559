// From a comparison's numbers to its word.

import { checkAlpha } from "./check.js";
import type { Interval, Verdict } from "./types.js";

/**
 * "improved" or "regressed" when the change is significant: p < alpha and the interval excludes 0
 * on the side of `delta`; the sign of `delta` (with `higherIsBetter`) says which. Else "unchanged".
 */
export function verdict(delta: number, ci: Interval, p: number, alpha: number, higherIsBetter = true): Verdict {
  checkAlpha(alpha);
  const [lo, hi] = ci;
  const significant = p < alpha && ((delta > 0 && lo > 0) || (delta < 0 && hi < 0));
  if (!significant) return "unchanged";
  return delta > 0 === higherIsBetter ? "improved" : "regressed";
}
