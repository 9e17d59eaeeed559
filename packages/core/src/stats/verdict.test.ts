import { describe, expect, test } from "vitest";
import * as stats from "./index.js";
import { verdict } from "./verdict.js";

describe("verdict", () => {
  test("significant (p < alpha, interval clear of 0): the sign of delta decides", () => {
    expect(verdict(0.05, [0.02, 0.08], 0.001, 0.05)).toBe("improved");
    expect(verdict(-0.05, [-0.08, -0.02], 0.001, 0.05)).toBe("regressed");
  });

  test("lower is better (latency, cost): the other way round", () => {
    expect(verdict(0.05, [0.02, 0.08], 0.001, 0.05, false)).toBe("regressed");
    expect(verdict(-0.05, [-0.08, -0.02], 0.001, 0.05, false)).toBe("improved");
  });

  test("unchanged unless both hold", () => {
    expect(verdict(0.05, [-0.01, 0.08], 0.001, 0.05)).toBe("unchanged"); // interval straddles 0
    expect(verdict(0.05, [0, 0.08], 0.001, 0.05)).toBe("unchanged"); // touches 0
    expect(verdict(0.05, [0.02, 0.08], 0.05, 0.05)).toBe("unchanged"); // p = alpha is not below it
    expect(verdict(0.05, [0.02, 0.08], 0.2, 0.05)).toBe("unchanged");
    expect(verdict(0, [0, 0], 1, 0.05)).toBe("unchanged");
    expect(verdict(-0.01, [0.02, 0.08], 0.001, 0.05)).toBe("unchanged"); // interval on the other side of delta
    expect(verdict(0.05, [0.02, 0.08], Number.NaN, 0.05)).toBe("unchanged");
  });

  test("alpha must be a probability", () => {
    expect(() => verdict(0.05, [0.02, 0.08], 0.001, 0)).toThrow(RangeError);
    expect(() => verdict(0.05, [0.02, 0.08], 0.001, 5)).toThrow(RangeError);
  });
});

describe("the module's surface", () => {
  test("exports the methods and their names for reports", () => {
    expect(Object.keys(stats).sort()).toEqual(
      [
        "METHODS",
        "Rng",
        "bootstrapMeanCi",
        "bootstrapMeanCis",
        "fisherExact",
        "mcnemarExact",
        "newcombeDiffCi",
        "pairedBootstrap",
        "pairedBootstraps",
        "passAtK",
        "passHatK",
        "tCritical",
        "verdict",
        "welch",
        "welchCi",
        "welchP",
        "welchStatistic",
        "wilson",
        "zFor",
      ].sort(),
    );
    expect(stats.METHODS).toMatchObject({
      passRate: "exact McNemar (two-sided)",
      passRateTrials: "paired permutation test",
      scores: "paired bootstrap (percentile), sign-flip permutation p",
    });
  });

  test("end to end: a pass rate over 3 trials that dropped is a regression", () => {
    // 400 examples, 3 trials; the current run fails one more trial on every fourth example.
    const baseline = Array.from({ length: 400 }, (_, i) => [1, 2 / 3, 1, 1 / 3][i % 4]);
    const current = baseline.map((r, i) => (i % 4 === 0 ? r - 1 / 3 : r));
    const r = stats.pairedBootstrap(baseline, current, { seed: "exp-1" })!;
    expect(r.delta).toBeCloseTo(-1 / 12, 12);
    expect(stats.verdict(r.delta, r.ci, r.p, 0.05)).toBe("regressed");
  });
});
