// The bootstrap's inner loop: the means of `out.length` resamples (n draws with replacement) of a
// set of values, written into `out`. Nothing is allocated per resample.
//
// Two exact ways to draw them, chosen by `resampleMeans`:
// - by index: n uniform indices per resample into a running sum, the generator stepped inline;
// - by level, when the values take few distinct levels (pass rates over a few trials, 0/1 or 1–5
//   scores): how often each level lands in a resample is multinomial, drawn as a chain of
//   binomials, so a resample costs a few binomial draws instead of n index draws. Same
//   distribution of resampled means, different random numbers.

import { sampleBinomial } from "./binomial-sampler.js";
import { type Rng, UINT32_TO_UNIT } from "./prng.js";

/** Distinct levels at most for the level path; below 32 draws per level the index path is as quick. */
const MAX_LEVELS = 32;
const MIN_DRAWS_PER_LEVEL = 32;

/** The distinct values, ascending, and how often each occurs; null if there are more than `max`. */
export function levelsOf(values: Float64Array, max: number): { levels: Float64Array; counts: Float64Array } | null {
  const counts = new Map<number, number>();
  for (const v of values) {
    const c = counts.get(v);
    if (c !== undefined) counts.set(v, c + 1);
    else if (counts.size === max) return null;
    else counts.set(v, 1);
  }
  const levels = Float64Array.from(counts.keys()).sort();
  return { levels, counts: levels.map((v) => counts.get(v)!) };
}

/** Resampled means by drawing n indices per resample. */
export function resampleMeansByIndex(values: Float64Array, rng: Rng, out: Float64Array): void {
  const n = values.length;
  const scale = n * UINT32_TO_UNIT;
  const whole = n - (n % 4);
  let s0 = rng.s0;
  let s1 = rng.s1;
  let s2 = rng.s2;
  let s3 = rng.s3;
  let x: number;
  let t: number;
  for (let r = 0; r < out.length; r++) {
    // Draw i goes to running sum i % 4: with one sum, every addition would wait for the one before
    // (about 1.7 ns a draw against 1.2). Each draw is Rng.uint32 inlined: a call would cost more.
    let sum0 = 0;
    let sum1 = 0;
    let sum2 = 0;
    let sum3 = 0;
    let i = 0;
    for (; i < whole; i += 4) {
      x = (s0 + s3) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      sum0 += values[(x * scale) | 0];
      x = (s0 + s3) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      sum1 += values[(x * scale) | 0];
      x = (s0 + s3) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      sum2 += values[(x * scale) | 0];
      x = (s0 + s3) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      sum3 += values[(x * scale) | 0];
    }
    for (; i < n; i++) {
      x = (s0 + s3) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const v = values[(x * scale) | 0];
      if (i % 4 === 0) sum0 += v;
      else if (i % 4 === 1) sum1 += v;
      else sum2 += v;
    }
    out[r] = (sum0 + sum1 + (sum2 + sum3)) / n;
  }
  rng.s0 = s0;
  rng.s1 = s1;
  rng.s2 = s2;
  rng.s3 = s3;
}

/** Resampled means of n values with the given levels and counts (summing to n), by multinomial level counts. */
export function resampleMeansByLevels(levels: Float64Array, counts: Float64Array, rng: Rng, out: Float64Array): void {
  let n = 0;
  for (const c of counts) n += c;
  const last = levels.length - 1;
  for (let r = 0; r < out.length; r++) {
    let draws = n; // draws not yet assigned to a level
    let pool = n; // values of the levels not yet visited
    let sum = 0;
    for (let l = 0; l < last && draws > 0; l++) {
      const k = sampleBinomial(draws, counts[l] / pool, rng);
      sum += levels[l] * k;
      draws -= k;
      pool -= counts[l];
    }
    sum += levels[last] * draws;
    out[r] = sum / n;
  }
}

/** The levels and counts `values` are resampled by, or null when they take the index path (too many levels). */
export function levelPlan(values: Float64Array): { levels: Float64Array; counts: Float64Array } | null {
  const maxLevels = Math.min(MAX_LEVELS, Math.floor(values.length / MIN_DRAWS_PER_LEVEL));
  return maxLevels >= 1 ? levelsOf(values, maxLevels) : null;
}

/**
 * Resampled means of `values` (at least one) into `out`, by level when the values take few distinct
 * levels, else by index. Deterministic for the same values, generator state and `out.length`.
 */
export function resampleMeans(values: Float64Array, rng: Rng, out: Float64Array): void {
  const byLevel = levelPlan(values);
  if (byLevel) resampleMeansByLevels(byLevel.levels, byLevel.counts, rng, out);
  else resampleMeansByIndex(values, rng, out);
}

/**
 * Two columns of n values resampled by one stream of indices: each index is drawn once and both
 * columns' values at it are added, so `outA` and `outB` are bit for bit what resampleMeansByIndex
 * gives each column from this generator state (same draws, same four running sums in the same
 * order), for little more than the cost of one. The columns sit side by side in one array, so the
 * two values of a draw are one memory access apart.
 */
export function resampleMeansByIndexPair(a: Float64Array, b: Float64Array, rng: Rng, outA: Float64Array, outB: Float64Array): void {
  const n = a.length;
  const both = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    both[2 * i] = a[i];
    both[2 * i + 1] = b[i];
  }
  const scale = n * UINT32_TO_UNIT;
  const whole = n - (n % 4);
  let s0 = rng.s0;
  let s1 = rng.s1;
  let s2 = rng.s2;
  let s3 = rng.s3;
  let x: number;
  let t: number;
  let j: number;
  for (let r = 0; r < outA.length; r++) {
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let b0 = 0;
    let b1 = 0;
    let b2 = 0;
    let b3 = 0;
    let i = 0;
    for (; i < whole; i += 4) {
      x = (s0 + s3) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      j = ((x * scale) | 0) << 1;
      a0 += both[j];
      b0 += both[j + 1];
      x = (s0 + s3) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      j = ((x * scale) | 0) << 1;
      a1 += both[j];
      b1 += both[j + 1];
      x = (s0 + s3) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      j = ((x * scale) | 0) << 1;
      a2 += both[j];
      b2 += both[j + 1];
      x = (s0 + s3) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      j = ((x * scale) | 0) << 1;
      a3 += both[j];
      b3 += both[j + 1];
    }
    for (; i < n; i++) {
      x = (s0 + s3) >>> 0;
      t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      j = ((x * scale) | 0) << 1;
      if (i % 4 === 0) {
        a0 += both[j];
        b0 += both[j + 1];
      } else if (i % 4 === 1) {
        a1 += both[j];
        b1 += both[j + 1];
      } else {
        a2 += both[j];
        b2 += both[j + 1];
      }
    }
    outA[r] = (a0 + a1 + (a2 + a3)) / n;
    outB[r] = (b0 + b1 + (b2 + b3)) / n;
  }
  rng.s0 = s0;
  rng.s1 = s1;
  rng.s2 = s2;
  rng.s3 = s3;
}

/**
 * Columns of equal length resampled by index from ONE stream of indices: what resampleMeansByIndex
 * gives each column from this generator state, bit for bit, with the indices drawn once per pair of
 * columns instead of once per column. The generator ends where one column's draws leave it.
 */
export function resampleMeansByIndexShared(columns: readonly Float64Array[], rng: Rng, outs: readonly Float64Array[]): void {
  const start = [rng.s0, rng.s1, rng.s2, rng.s3];
  for (let c = 0; c < columns.length; c += 2) {
    [rng.s0, rng.s1, rng.s2, rng.s3] = start;
    if (c + 1 < columns.length) resampleMeansByIndexPair(columns[c], columns[c + 1], rng, outs[c], outs[c + 1]);
    else resampleMeansByIndex(columns[c], rng, outs[c]);
  }
}
