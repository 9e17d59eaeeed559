import { describe, expect, test } from "vitest";
import { welch } from "./welch.js";

// References: SciPy 1.17.1, r = ttest_ind(current, baseline, equal_var=False): r.pvalue and
// r.confidence_interval() (95 %).
const cases: Array<[baseline: number[], current: number[], p: number, lo: number, hi: number]> = [
  [[0.9, 0.8, 0.85], [0.6, 0.5, 0.7], 0.031562231625678436, -0.45776997515912526, -0.04223002484087496],
  [[1, 2, 3, 4], [2, 2.5, 3.5, 5, 6], 0.23088167277019744, -1.0428812316435505, 3.64288123164355],
  [[0.5, 0.5, 0.6], [0.5, 0.4, 0.6], 0.6494501780131947, -0.23818859531421077, 0.17152192864754412],
  [[0.91, 0.93, 0.88, 0.95, 0.9], [0.72, 0.81, 0.79, 0.85, 0.7], 0.004804880131324004, -0.21661884306866758, -0.06338115693133244],
];

describe("welch", () => {
  test.each(cases)("%j against %j matches SciPy's ttest_ind(equal_var=False)", (baseline, current, p, lo, hi) => {
    const r = welch(baseline, current)!;
    expect(r.p).toBeCloseTo(p, 9);
    expect(r.ci[0]).toBeCloseTo(lo, 9);
    expect(r.ci[1]).toBeCloseTo(hi, 9);
    expect(r.delta).toBeCloseTo(
      current.reduce((a, b) => a + b, 0) / current.length - baseline.reduce((a, b) => a + b, 0) / baseline.length,
      12,
    );
  });

  test("null without spread or with fewer than 2 values a side", () => {
    expect(welch([1, 1, 1], [0, 0, 0])).toBeNull();
    expect(welch([1], [0, 0.5])).toBeNull();
  });

  test("rejects values that are not finite", () => {
    expect(() => welch([1, Number.NaN], [0, 1])).toThrow(RangeError);
  });
});
