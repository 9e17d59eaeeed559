import { describe, expect, test } from "vitest";
import { bootstrapMeanCi, bootstrapMeanCis } from "./bootstrap.js";
import { Rng } from "./prng.js";

function scores(n: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.float());
}
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("bootstrapMeanCi", () => {
  test("same values and seed, same interval; another seed, a slightly different one", () => {
    const xs = scores(200, 1);
    const a = bootstrapMeanCi(xs, { seed: 7 });
    expect(bootstrapMeanCi(xs, { seed: 7 })).toEqual(a);
    expect(bootstrapMeanCi(Float64Array.from(xs), { seed: 7 })).toEqual(a);
    const b = bootstrapMeanCi(xs, { seed: 8 })!;
    expect(b).not.toEqual(a);
    expect(Math.abs(b[0] - a![0])).toBeLessThan(0.01);
  });

  test("the interval contains the mean, inside the values' range", () => {
    for (const seed of [1, 2, 3]) {
      const xs = scores(100, seed);
      const [lo, hi] = bootstrapMeanCi(xs, { seed })!;
      expect(lo).toBeLessThan(mean(xs));
      expect(hi).toBeGreaterThan(mean(xs));
      expect(lo).toBeGreaterThanOrEqual(Math.min(...xs));
      expect(hi).toBeLessThanOrEqual(Math.max(...xs));
    }
  });

  test("its width is about 2 × 1.96 σ/√n and narrows as n grows", () => {
    const sizes = [100, 400, 1600];
    const widths = sizes.map((n) => {
      const [lo, hi] = bootstrapMeanCi(scores(n, n), { seed: 1 })!;
      return hi - lo;
    });
    // Uniform(0, 1): σ = 1/√12.
    for (const [i, n] of sizes.entries()) expect(widths[i] / ((2 * 1.96) / Math.sqrt(12 * n))).toBeCloseTo(1, 1);
    expect(widths[1] / widths[0]).toBeCloseTo(0.5, 1);
    expect(widths[2] / widths[1]).toBeCloseTo(0.5, 1);
  });

  test("a higher confidence gives a wider interval", () => {
    const xs = scores(300, 4);
    const [lo90, hi90] = bootstrapMeanCi(xs, { seed: 1, confidence: 0.9 })!;
    const [lo99, hi99] = bootstrapMeanCi(xs, { seed: 1, confidence: 0.99 })!;
    expect(lo99).toBeLessThan(lo90);
    expect(hi99).toBeGreaterThan(hi90);
  });

  test("one value gives [v, v]; all alike too; none gives null", () => {
    expect(bootstrapMeanCi([0.4], { seed: 1 })).toEqual([0.4, 0.4]);
    expect(bootstrapMeanCi(new Array(5000).fill(0.1), { seed: 1 })).toEqual([0.1, 0.1]);
    expect(bootstrapMeanCi([], { seed: 1 })).toBeNull();
  });

  test("pass rates over trials (few levels, many examples) get the same kind of interval", () => {
    const rng = new Rng(3);
    const rates = Array.from({ length: 5000 }, () => Math.floor(rng.float() * 4) / 3);
    const [lo, hi] = bootstrapMeanCi(rates, { seed: 1 })!;
    const m = mean(rates);
    const sd = Math.sqrt(mean(rates.map((r) => (r - m) ** 2)));
    expect((hi - lo) / ((2 * 1.96 * sd) / Math.sqrt(5000))).toBeCloseTo(1, 1);
    expect(lo).toBeLessThan(m);
    expect(hi).toBeGreaterThan(m);
  });

  test("rejects what no interval fits", () => {
    expect(() => bootstrapMeanCi([1, Number.NaN], { seed: 1 })).toThrow(RangeError);
    expect(() => bootstrapMeanCi([1, Number.POSITIVE_INFINITY], { seed: 1 })).toThrow(RangeError);
    expect(() => bootstrapMeanCi([1, 2], { seed: 1, resamples: 0 })).toThrow(RangeError);
    expect(() => bootstrapMeanCi([1, 2], { seed: 1, confidence: 95 })).toThrow(RangeError);
    expect(() => bootstrapMeanCi([], { seed: 1, confidence: 95 })).toThrow(RangeError);
    expect(() => bootstrapMeanCi([1, 2], { seed: 0.5 })).toThrow(RangeError);
  });
});

describe("bootstrapMeanCis", () => {
  test("each set's interval is bootstrapMeanCi's of that set alone: continuous, 0/1, constant, single and empty sets, two lengths", () => {
    const passes = Array.from({ length: 3000 }, (_, i) => (i % 7 < 5 ? 1 : 0));
    const sets = [scores(3000, 1), passes, scores(3000, 2), [0.5, 0.5, 0.5], [0.25], [], scores(1200, 3), scores(3000, 4), scores(1200, 5)];
    const all = bootstrapMeanCis(sets, { seed: "exp", resamples: 500 });
    expect(all).toEqual(sets.map((xs) => bootstrapMeanCi(xs, { seed: "exp", resamples: 500 })));
    expect(all[5]).toBeNull();
    expect(all[3]).toEqual([0.5, 0.5]);
    expect(bootstrapMeanCis([], { seed: 1 })).toEqual([]);
  });

  test("rejects what no interval fits, naming the set", () => {
    expect(() =>
      bootstrapMeanCis(
        [
          [1, 2],
          [1, Number.NaN],
        ],
        { seed: 1 },
      ),
    ).toThrow(/values\[1\]\[1\] is not a finite number/);
    expect(() => bootstrapMeanCis([[]], { seed: 1, resamples: 0 })).toThrow(RangeError);
  });
});
