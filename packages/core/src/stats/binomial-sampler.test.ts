import binomialCdf from "@stdlib/stats-base-dists-binomial-cdf";
import { describe, expect, test } from "vitest";
import { sampleBinomial } from "./binomial-sampler.js";
import { Rng } from "./prng.js";

/** Chi-square of `draws` samples of Binomial(n, p) against its CDF, over bins of expected count ≥ 20. */
function chiSquare(n: number, p: number, draws: number, seed: number): { chi2: number; df: number } {
  const rng = new Rng(seed);
  const counts = new Map<number, number>();
  for (let i = 0; i < draws; i++) {
    const k = sampleBinomial(n, p, rng);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  expect([...counts.keys()].every((k) => Number.isInteger(k) && k >= 0 && k <= n)).toBe(true);
  // Bins: [0, a], then single values, then [b, n]; merged until each expects ≥ 20 draws.
  let chi2 = 0;
  let bins = 0;
  let from = 0;
  let observed = 0;
  for (let k = 0; k <= n; k++) {
    observed += counts.get(k) ?? 0;
    const expected = draws * (binomialCdf(k, n, p) - (from > 0 ? binomialCdf(from - 1, n, p) : 0));
    const restExpected = draws * (1 - binomialCdf(k, n, p));
    if ((expected >= 20 && restExpected >= 20) || k === n) {
      chi2 += (observed - expected) ** 2 / expected;
      bins++;
      from = k + 1;
      observed = 0;
    }
  }
  return { chi2, df: bins - 1 };
}

describe("sampleBinomial", () => {
  test.each([
    [5, 0.5],
    [20, 0.9],
    [1000, 0.3],
    [10_000, 0.002],
    [10_000, 0.5],
    [3, 0.01],
  ])("Binomial(%i, %f) fits its distribution (chi-square against the CDF)", (n, p) => {
    const { chi2, df } = chiSquare(n, p, 50_000, 1234);
    // df + 5 √(2 df) lies past the 0.999 quantile for every df here; the seed makes it deterministic.
    expect(chi2).toBeLessThan(df + 5 * Math.sqrt(2 * df));
  });

  test("edge cases: n = 0, p = 0, p = 1", () => {
    const rng = new Rng(1);
    expect(sampleBinomial(0, 0.5, rng)).toBe(0);
    expect(sampleBinomial(10, 0, rng)).toBe(0);
    expect(sampleBinomial(10, 1, rng)).toBe(10);
  });

  test("mean and variance of a large one", () => {
    const rng = new Rng(5);
    const draws = 20_000;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < draws; i++) {
      const k = sampleBinomial(100_000, 0.37, rng);
      sum += k;
      sq += k * k;
    }
    const mean = sum / draws;
    const variance = sq / draws - mean * mean;
    expect(Math.abs(mean - 37_000)).toBeLessThan(5 * Math.sqrt(23_310 / draws));
    expect(variance / 23_310).toBeGreaterThan(0.95);
    expect(variance / 23_310).toBeLessThan(1.05);
  });
});
