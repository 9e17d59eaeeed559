// An interval for the difference of two independent proportions (a test's pass rate now minus in the
// baseline), built from each side's Wilson interval: Newcombe's hybrid score interval. It stays in
// [-1, 1] and behaves at 0 % and 100 % and for a few trials, where the normal interval does not.

import { checkCount } from "./check.js";
import type { Interval } from "./types.js";
import { wilson } from "./wilson.js";

/**
 * Newcombe's hybrid score interval (his method 10, 1998) of x1/n1 − x2/n2; null when either side is
 * empty. Newcombe's own example, 56/70 − 48/80, gives [0.0524, 0.3339].
 */
export function newcombeDiffCi(x1: number, n1: number, x2: number, n2: number, confidence = 0.95): Interval | null {
  checkCount("n1", n1);
  checkCount("n2", n2);
  const a = wilson(x1, n1, confidence);
  const b = wilson(x2, n2, confidence);
  if (!a || !b) return null;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const d = p1 - p2;
  const lo = d - Math.sqrt((p1 - a[0]) ** 2 + (b[1] - p2) ** 2);
  const hi = d + Math.sqrt((a[1] - p1) ** 2 + (p2 - b[0]) ** 2);
  return [Math.max(-1, lo), Math.min(1, hi)];
}
