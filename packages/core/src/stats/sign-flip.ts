// The paired sign-flip permutation test: under the null that baseline and current are exchangeable
// within each example, every per-example difference is as likely to have had the opposite sign.
// The p-value is the chance that flipping signs at random gives a sum of differences at least as
// far from 0 as the observed one (two-sided).
//
// Differences of 0 flip to themselves and are left out. Differences of equal size are grouped:
// flipping the k of a group moves the sum by |d| × (2J − k) with J ~ Binomial(k, 1/2). The test
// is exact, by enumerating the groups' outcomes, when there are at most 2^16 of them: up to 16
// nonzero differences, or one size however many (on 0/1 outcomes it is the sign test, and its p
// equals McNemar's). Otherwise it is Monte Carlo: J is the popcount of k random bits, and sizes
// held by one difference each (continuous scores) are flipped four at a time by table lookup.

import gammaln from "@stdlib/math-base-special-gammaln";
import type { Rng } from "./prng.js";

/** Exact enumeration up to this many outcomes (∏ (k + 1) over the groups); 2^16 covers 16 distinct differences. */
export const EXACT_OUTCOMES = 1 << 16;

function popcount(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  v = (v + (v >>> 4)) & 0x0f0f0f0f;
  return Math.imul(v, 0x01010101) >>> 24;
}

/** P(J = j) for J ~ Binomial(k, 1/2), j = 0..k. */
function halfBinomialPmf(k: number): Float64Array {
  const pmf = new Float64Array(k + 1);
  const base = gammaln(k + 1) - k * Math.LN2;
  for (let j = 0; j <= k; j++) pmf[j] = Math.exp(base - gammaln(j + 1) - gammaln(k - j + 1));
  return pmf;
}

interface Groups {
  /** The distinct nonzero |d|, ascending. */
  sizes: Float64Array;
  /** How many differences have each size. */
  counts: Int32Array;
  /** The observed sum of differences, added up in group order like every flipped sum. */
  observed: number;
  /** Σ |d|: the scale for the tie tolerance. */
  total: number;
}

function groupsOf(diffs: Float64Array): Groups {
  // The positive and the negative differences' sizes, each sorted, merged into groups by size.
  // (Sorting typed arrays beats a Map keyed by floats by an order of magnitude at 10,000 values.)
  let nPos = 0;
  let nNeg = 0;
  for (const d of diffs) {
    if (d > 0) nPos++;
    else if (d < 0) nNeg++;
  }
  const pos = new Float64Array(nPos);
  const neg = new Float64Array(nNeg);
  nPos = 0;
  nNeg = 0;
  for (const d of diffs) {
    if (d > 0) pos[nPos++] = d;
    else if (d < 0) neg[nNeg++] = -d;
  }
  pos.sort();
  neg.sort();
  const sizes = new Float64Array(nPos + nNeg);
  const counts = new Int32Array(nPos + nNeg);
  let groups = 0;
  let observed = 0;
  let total = 0;
  for (let i = 0, j = 0; i < nPos || j < nNeg; ) {
    const a = j === nNeg || (i < nPos && pos[i] <= neg[j]) ? pos[i] : neg[j];
    let net = 0;
    let k = 0;
    for (; i < nPos && pos[i] === a; i++, k++) net++;
    for (; j < nNeg && neg[j] === a; j++, k++) net--;
    sizes[groups] = a;
    counts[groups] = k;
    groups++;
    observed += a * net;
    total += a * k;
  }
  return { sizes: sizes.subarray(0, groups), counts: counts.subarray(0, groups), observed, total };
}

function exactP({ sizes, counts }: Groups, threshold: number): number {
  const pmfs = Array.from(counts, halfBinomialPmf);
  let p = 0;
  const visit = (g: number, sum: number, weight: number): void => {
    if (g === sizes.length) {
      if (Math.abs(sum) >= threshold) p += weight;
      return;
    }
    const k = counts[g];
    for (let j = 0; j <= k; j++) visit(g + 1, sum + sizes[g] * (2 * j - k), weight * pmfs[g][j]);
  };
  visit(0, 0, 1);
  return Math.min(1, p);
}

/**
 * Subset sums of the sizes four at a time: entry 16 b + mask is the sum of those of sizes 4b..4b+3
 * whose bit is set in mask (missing ones count 0). One lookup then flips four differences. The
 * blocks are padded to an even number, as the loop reads them in pairs.
 */
function nibbleSums(sizes: Float64Array): Float64Array {
  const blocks = 2 * Math.ceil(sizes.length / 8);
  const table = new Float64Array(blocks * 16);
  for (let b = 0; b < blocks; b++) {
    for (let mask = 1; mask < 16; mask++) {
      const low = 31 - Math.clz32(mask & -mask); // the lowest set bit
      const i = 4 * b + low;
      table[16 * b + mask] = table[16 * b + (mask & (mask - 1))] + (i < sizes.length ? sizes[i] : 0);
    }
  }
  return table;
}

function monteCarloP({ sizes, counts }: Groups, threshold: number, resamples: number, rng: Rng): number {
  // Differences whose size no other shares (all of them, for continuous scores) flip one bit each:
  // their flipped sum is Σ|d| − 2 Σ{|d| whose bit is 1}, looked up four bits at a time.
  const single = sizes.filter((_, g) => counts[g] === 1);
  const shared = sizes.filter((_, g) => counts[g] > 1);
  const sharedCounts = counts.filter((k) => k > 1);
  let singleTotal = 0;
  for (const a of single) singleTotal += a;
  const sums = nibbleSums(single);
  const entries = sums.length;
  let hits = 0;
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let g = 0; g < shared.length; g++) {
      const k = sharedCounts[g];
      let j = 0;
      let rest = k;
      for (; rest >= 32; rest -= 32) j += popcount(rng.bits32());
      if (rest > 0) j += popcount(rng.bits32() >>> (32 - rest));
      sum += shared[g] * (2 * j - k);
    }
    // A word of random bits covers eight blocks of four; two running sums so that the additions overlap.
    let even = 0;
    let odd = 0;
    for (let base = 0; base < entries; ) {
      let bits = rng.bits32();
      for (let nibble = 0; nibble < 8 && base < entries; nibble += 2, base += 32) {
        even += sums[base + (bits & 15)];
        odd += sums[base + 16 + ((bits >>> 4) & 15)];
        bits >>>= 8;
      }
    }
    sum += singleTotal - 2 * (even + odd);
    if (Math.abs(sum) >= threshold) hits++;
  }
  // Counting the observed arrangement itself among the resamples: never 0, valid at any number of them.
  return (hits + 1) / (resamples + 1);
}

/**
 * Two-sided p-value of the sign-flip permutation test of per-example differences (finite numbers):
 * 1 when they are all 0; exact when the flips have at most EXACT_OUTCOMES outcomes, else from
 * `resamples` random flips drawn with `rng`.
 */
export function signFlipP(diffs: Float64Array, resamples: number, rng: Rng): number {
  const groups = groupsOf(diffs);
  if (groups.sizes.length === 0) return 1;
  // Sums equal in exact arithmetic may differ in the last bits when their terms differ: count them as ties.
  const threshold = Math.abs(groups.observed) - 1e-10 * groups.total;
  let outcomes = 1;
  for (const k of groups.counts) if ((outcomes *= k + 1) > EXACT_OUTCOMES) break;
  return outcomes <= EXACT_OUTCOMES ? exactP(groups, threshold) : monteCarloP(groups, threshold, resamples, rng);
}
