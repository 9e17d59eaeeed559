import { describe, expect, test } from "vitest";
import { mcnemarExact } from "./mcnemar.js";
import { pairedBootstrap, pairedBootstraps } from "./paired.js";
import { Rng } from "./prng.js";
import { signFlipP } from "./sign-flip.js";

function scores(n: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.float());
}

describe("pairedBootstrap", () => {
  test("delta is the mean of current − baseline; same inputs and seed, same result", () => {
    const baseline = scores(300, 1);
    const current = baseline.map((b, i) => Math.min(1, b + (i % 3 === 0 ? 0.1 : 0)));
    const r = pairedBootstrap(baseline, current, { seed: "exp-42" })!;
    const delta = current.reduce((s, c, i) => s + c - baseline[i], 0) / current.length;
    expect(r.delta).toBeCloseTo(delta, 14);
    expect(pairedBootstrap(baseline, current, { seed: "exp-42" })).toEqual(r);
    expect(r.ci[0]).toBeLessThan(r.delta);
    expect(r.ci[1]).toBeGreaterThan(r.delta);
  });

  test("identical arrays: delta 0, interval [0, 0], p = 1", () => {
    const xs = scores(1000, 2);
    expect(pairedBootstrap(xs, xs, { seed: 1 })).toEqual({ delta: 0, ci: [0, 0], p: 1 });
  });

  test("a clear shift: p small, the interval excludes 0", () => {
    const baseline = scores(200, 3);
    const noise = scores(200, 4);
    const current = baseline.map((b, i) => b + 0.05 + 0.1 * (noise[i] - 0.5));
    const r = pairedBootstrap(baseline, current, { seed: 1 })!;
    expect(r.p).toBeLessThan(0.001);
    expect(r.p).toBeGreaterThan(0); // a Monte Carlo p-value is never 0
    expect(r.ci[0]).toBeGreaterThan(0.04);
    expect(r.ci[1]).toBeLessThan(0.06);
  });

  test("no shift, only noise: p is large and the interval straddles 0", () => {
    const baseline = scores(200, 5);
    const noise = scores(100, 6);
    // Noise that cancels out in pairs: the mean difference is 0 up to rounding.
    const current = baseline.map((b, i) => b + (i % 2 === 0 ? 1 : -1) * noise[i >> 1] * 0.2);
    const r = pairedBootstrap(baseline, current, { seed: 1 })!;
    expect(Math.abs(r.delta)).toBeLessThan(1e-15);
    expect(r.p).toBeGreaterThan(0.9);
    expect(r.ci[0]).toBeLessThan(0);
    expect(r.ci[1]).toBeGreaterThan(0);
  });

  test("the exact permutation p of small cases (enumerated in Python with itertools and Fractions)", () => {
    // Python: all 2^6 sign patterns of d = current − baseline = [.3, .4, 0, .1, −.2, .3]; 12 of 64 reach |Σd| = 0.9.
    expect(pairedBootstrap([0.2, 0.5, 0.1, 0.7, 0.4, 0.3], [0.5, 0.9, 0.1, 0.8, 0.2, 0.6], { seed: 1 })!.p).toBeCloseTo(0.1875, 12);
    // Python: 16 of 1024 patterns; the differences include a tie in size (0.05, −0.05) and three of 0.2.
    const b = [0.1, 0.4, 0.35, 0.8, 0.5, 0.45, 0.2, 0.9, 0.6, 0.3];
    const c = [0.3, 0.5, 0.3, 0.95, 0.7, 0.5, 0.45, 0.85, 0.8, 0.5];
    expect(pairedBootstrap(b, c, { seed: 1 })!.p).toBeCloseTo(0.015625, 12);
    // Python: pass rates over 3 trials of 8 examples, 48 of 256 patterns.
    const rb = [0, 1 / 3, 2 / 3, 1, 1 / 3, 2 / 3, 0, 1];
    const rc = [1 / 3, 1, 2 / 3, 1, 2 / 3, 1, 1 / 3, 2 / 3];
    expect(pairedBootstrap(rb, rc, { seed: 1 })!.p).toBeCloseTo(0.1875, 12);
  });

  test("exact p does not depend on the seed; the interval does, a little", () => {
    const b = [0.1, 0.4, 0.35, 0.8, 0.5, 0.45, 0.2, 0.9, 0.6, 0.3];
    const c = [0.3, 0.5, 0.3, 0.95, 0.7, 0.5, 0.45, 0.85, 0.8, 0.5];
    expect(pairedBootstrap(b, c, { seed: 1 })!.p).toBe(pairedBootstrap(b, c, { seed: 2 })!.p);
  });

  test("0/1 outcomes of one trial: the sign-flip p is McNemar's exact p", () => {
    // 3 examples pass only in the baseline, 11 only in the current one, 86 agree.
    const baseline = [...new Array(3).fill(1), ...new Array(11).fill(0), ...new Array(40).fill(1), ...new Array(46).fill(0)];
    const current = [...new Array(3).fill(0), ...new Array(11).fill(1), ...new Array(40).fill(1), ...new Array(46).fill(0)];
    // SciPy 1.17.1: binomtest(3, 14, 0.5).pvalue = 0.057373046875
    expect(pairedBootstrap(baseline, current, { seed: 1 })!.p).toBeCloseTo(0.057373046875, 12);
    expect(mcnemarExact(3, 11)).toBeCloseTo(0.057373046875, 12);
  });

  test("many discordant 0/1 pairs: still exact (one group of equal differences)", () => {
    const d = Float64Array.from([...new Array(400).fill(-1), ...new Array(600).fill(1), ...new Array(500).fill(0)]);
    // SciPy 1.17.1: binomtest(400, 1000, 0.5).pvalue = 2.728464156065947e-10
    expect(Math.abs(signFlipP(d, 2000, new Rng(1)) / 2.728464156065947e-10 - 1)).toBeLessThan(1e-9);
  });

  test("Monte Carlo p, distinct differences: agrees with the exact p", () => {
    // 40 distinct differences, 2^40 patterns: Monte Carlo. They are multiples of 0.01, so Python can
    // count the patterns exactly by dynamic programming over integer sums: p = 0.0025129065124929184.
    const d = Float64Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? -1 : 1) * (0.01 + i / 100));
    const p = signFlipP(d, 20_000, new Rng(3));
    // Monte Carlo standard error at 20,000 flips: 0.00035.
    expect(Math.abs(p - 0.0025129065124929184)).toBeLessThan(0.0012);
    expect(signFlipP(d, 20_000, new Rng(3))).toBe(p);
  });

  test("Monte Carlo p, many equal differences (pass rates over trials, drawn by popcount): agrees with the exact p", () => {
    // 1000 examples, differences in thirds: too many outcomes to enumerate.
    const rng = new Rng(8);
    const d = Float64Array.from({ length: 1000 }, (_, i) => Math.min(3, Math.floor(rng.float() * 7) - 3 + (i % 5 === 0 ? 1 : 0)) / 3);
    // Python (a port of Rng for the data, dynamic programming over integer sums for the p-value):
    // p = 0.01822402055071938. Monte Carlo standard error at 20,000 flips: 0.00095.
    const p = signFlipP(d, 20_000, new Rng(1));
    expect(Math.abs(p - 0.01822402055071938)).toBeLessThan(0.004);
  });

  test("null when there are no examples; throws when the arrays are not aligned", () => {
    expect(pairedBootstrap([], [], { seed: 1 })).toBeNull();
    expect(() => pairedBootstrap([1, 2], [1], { seed: 1 })).toThrow(RangeError);
    expect(() => pairedBootstrap([1, Number.NaN], [1, 2], { seed: 1 })).toThrow(RangeError);
  });
});

describe("pairedBootstraps", () => {
  test("each measure's result is pairedBootstrap's of that measure alone (they share the resampling of indices)", () => {
    const rng = new Rng(12);
    const n = 800;
    const base = (f: () => number) => Array.from({ length: n }, f);
    const rates = base(() => Math.floor(rng.float() * 4) / 3);
    const measures = [
      { baseline: rates, current: rates.map((r, i) => (i % 5 === 0 ? Math.max(0, r - 1 / 3) : r)) },
      { baseline: base(() => rng.float()), current: base(() => rng.float()) },
      { baseline: base(() => rng.float()), current: base(() => rng.float() * 0.9) },
      { baseline: [], current: [] },
      { baseline: [0.1, 0.4, 0.3], current: [0.2, 0.4, 0.1] },
    ];
    const all = pairedBootstraps(measures, { seed: "exp-2", resamples: 400 });
    expect(all).toEqual(measures.map((m) => pairedBootstrap(m.baseline, m.current, { seed: "exp-2", resamples: 400 })));
    expect(all[3]).toBeNull();
  });

  test("throws naming the measure whose arrays are not aligned", () => {
    expect(() =>
      pairedBootstraps(
        [
          { baseline: [1], current: [1] },
          { baseline: [1, 2], current: [1] },
        ],
        { seed: 1 },
      ),
    ).toThrow(/measure 1: /);
  });
});
