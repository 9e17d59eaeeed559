// The percentile interval of a bootstrap distribution.

import type { Interval } from "./types.js";

/** The q-quantile (0 ≤ q ≤ 1) of ascending `sorted`, linearly interpolated (NumPy's default, type 7). */
export function quantileSorted(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const i = Math.floor(h);
  const frac = h - i;
  return frac === 0 ? sorted[i] : sorted[i] + frac * (sorted[i + 1] - sorted[i]);
}

/** The central `confidence` interval of `draws`, which it sorts in place. */
export function percentileInterval(draws: Float64Array, confidence: number): Interval {
  draws.sort();
  const tail = (1 - confidence) / 2;
  return [quantileSorted(draws, tail), quantileSorted(draws, 1 - tail)];
}
