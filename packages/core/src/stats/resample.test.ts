import { describe, expect, test } from "vitest";
import { percentileInterval } from "./percentile.js";
import { Rng } from "./prng.js";
import {
  levelsOf,
  resampleMeans,
  resampleMeansByIndex,
  resampleMeansByIndexPair,
  resampleMeansByIndexShared,
  resampleMeansByLevels,
} from "./resample.js";

/** The obvious bootstrap: a fresh array of n draws per resample, then its mean. */
function naiveMeans(values: Float64Array, rng: Rng, resamples: number): Float64Array {
  const out = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    const sample = Array.from({ length: values.length }, () => values[rng.index(values.length)]);
    // Added up as the fast loop does, draw i into running sum i % 4, so the means are bit-identical.
    const sums = [0, 0, 0, 0];
    sample.forEach((v, i) => {
      sums[i % 4] += v;
    });
    out[r] = (sums[0] + sums[1] + (sums[2] + sums[3])) / values.length;
  }
  return out;
}

function continuous(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => rng.float() ** 2);
}

function meanSd(xs: Float64Array): { mean: number; sd: number } {
  let sum = 0;
  for (const x of xs) sum += x;
  const mean = sum / xs.length;
  let sq = 0;
  for (const x of xs) sq += (x - mean) ** 2;
  return { mean, sd: Math.sqrt(sq / xs.length) };
}

describe("resampleMeansByIndex", () => {
  test("the allocation-free loop draws exactly what the obvious bootstrap draws", () => {
    for (const n of [1, 2, 3, 4, 5, 6, 7, 1000, 1001, 1003]) {
      const values = continuous(n, n);
      const fast = new Float64Array(50);
      const fastRng = new Rng("same", 3);
      const naiveRng = new Rng("same", 3);
      resampleMeansByIndex(values, fastRng, fast);
      expect(fast).toEqual(naiveMeans(values, naiveRng, 50));
      // And it leaves the generator where the obvious version leaves it.
      expect(fastRng.uint32()).toBe(naiveRng.uint32());
    }
  });
});

describe("one stream of indices for several columns", () => {
  test("a pair gives each column what resampleMeansByIndex gives it alone, bit for bit, and leaves the generator alike", () => {
    for (const n of [1, 2, 3, 5, 6, 7, 1000, 1003]) {
      const a = continuous(n, n);
      const b = continuous(n, n + 100);
      const alone = [new Float64Array(40), new Float64Array(40)];
      const aloneRng = new Rng("same", 1);
      resampleMeansByIndex(a, aloneRng, alone[0]);
      resampleMeansByIndex(b, new Rng("same", 1), alone[1]);
      const paired = [new Float64Array(40), new Float64Array(40)];
      const pairRng = new Rng("same", 1);
      resampleMeansByIndexPair(a, b, pairRng, paired[0], paired[1]);
      expect(paired).toEqual(alone);
      expect(pairRng.uint32()).toBe(aloneRng.uint32());
    }
  });

  test("any number of columns (pairs and an odd one out) share one stream, each as alone", () => {
    for (const k of [1, 2, 3, 4, 5]) {
      const columns = Array.from({ length: k }, (_, c) => continuous(501, 7 * c + 1));
      const outs = columns.map(() => new Float64Array(30));
      const rng = new Rng(42, 1);
      resampleMeansByIndexShared(columns, rng, outs);
      const endAlone = new Rng(42, 1);
      columns.forEach((values, c) => {
        const alone = new Float64Array(30);
        resampleMeansByIndex(values, c === 0 ? endAlone : new Rng(42, 1), alone);
        expect(outs[c]).toEqual(alone);
      });
      expect(rng.uint32()).toBe(endAlone.uint32());
    }
  });
});

describe("levelsOf", () => {
  test("distinct values ascending with their counts, or null past the maximum", () => {
    const got = levelsOf(Float64Array.from([1, 0, 1, 0.5, 1]), 3)!;
    expect([...got.levels]).toEqual([0, 0.5, 1]);
    expect([...got.counts]).toEqual([1, 1, 3]);
    expect(levelsOf(Float64Array.from([1, 0, 1, 0.5, 1]), 2)).toBeNull();
  });
});

describe("resampleMeansByLevels", () => {
  // Per-example pass rates over 3 trials: four levels.
  const n = 3000;
  const values = Float64Array.from({ length: n }, (_, i) => [0, 1 / 3, 2 / 3, 1][(i * 7) % 11 < 3 ? 0 : (i * 5) % 4]);
  const { mean, sd: popSd } = meanSd(values);
  const se = popSd / Math.sqrt(n); // the standard deviation of a bootstrap mean

  test.each([
    ["by level", (out: Float64Array) => resampleMeansByLevels(levelsOf(values, 4)!.levels, levelsOf(values, 4)!.counts, new Rng(1), out)],
    ["by index", (out: Float64Array) => resampleMeansByIndex(values, new Rng(1), out)],
  ])("%s: resampled means centre on the mean with spread σ/√n", (_, draw) => {
    const out = new Float64Array(4000);
    draw(out);
    const got = meanSd(out);
    expect(Math.abs(got.mean - mean)).toBeLessThan((4 * se) / Math.sqrt(out.length));
    expect(got.sd / se).toBeGreaterThan(0.94);
    expect(got.sd / se).toBeLessThan(1.06);
  });

  test("0/1 values: the percentile interval is the binomial's quantiles over n", () => {
    // 300 of 1000 pass: a resample's mean is Binomial(1000, 0.3) / 1000.
    // SciPy 1.17.1: binom.ppf(0.025, 1000, 0.3) = 272.0, binom.ppf(0.975, 1000, 0.3) = 329.0
    const passes = Float64Array.from({ length: 1000 }, (_, i) => (i % 10 < 3 ? 1 : 0));
    const out = new Float64Array(20_000);
    resampleMeans(passes, new Rng(11), out);
    const [lo, hi] = percentileInterval(out, 0.95);
    expect(Math.abs(lo - 0.272)).toBeLessThanOrEqual(0.002);
    expect(Math.abs(hi - 0.329)).toBeLessThanOrEqual(0.002);
  });
});

describe("resampleMeans", () => {
  test("continuous values go by index", () => {
    const values = continuous(500, 2);
    const a = new Float64Array(20);
    const b = new Float64Array(20);
    resampleMeans(values, new Rng(4), a);
    resampleMeansByIndex(values, new Rng(4), b);
    expect(a).toEqual(b);
  });

  test("few levels over many values go by level; few values always by index", () => {
    const many = Float64Array.from({ length: 640 }, (_, i) => i % 3);
    const a = new Float64Array(20);
    const b = new Float64Array(20);
    resampleMeans(many, new Rng(4), a);
    resampleMeansByLevels(Float64Array.from([0, 1, 2]), Float64Array.from([214, 213, 213]), new Rng(4), b);
    expect(a).toEqual(b);
    const few = Float64Array.from([0, 1, 1, 0, 1]);
    resampleMeans(few, new Rng(4), a);
    resampleMeansByIndex(few, new Rng(4), b);
    expect(a).toEqual(b);
  });
});
