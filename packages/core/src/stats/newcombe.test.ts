import { describe, expect, test } from "vitest";
import { newcombeDiffCi } from "./newcombe.js";

// References: Newcombe RG (1998), "Interval estimation for the difference between independent
// proportions: comparison of eleven methods", Statistics in Medicine 17:873–890, Table II, method 10
// (the hybrid score interval), quoted to the paper's 4 decimals.
const cases: Array<[x1: number, n1: number, x2: number, n2: number, lo: number, hi: number]> = [
  [56, 70, 48, 80, 0.0524, 0.3339],
  [9, 10, 3, 10, 0.1705, 0.809],
  [10, 10, 0, 10, 0.6075, 1],
];

describe("newcombeDiffCi", () => {
  test.each(cases)("%i/%i − %i/%i matches Newcombe's table", (x1, n1, x2, n2, lo, hi) => {
    const ci = newcombeDiffCi(x1, n1, x2, n2)!;
    expect(ci[0]).toBeCloseTo(lo, 4);
    expect(ci[1]).toBeCloseTo(hi, 4);
  });

  test("contains the difference and stays in [-1, 1]", () => {
    for (const [x1, n1, x2, n2] of [
      [0, 3, 3, 3],
      [3, 3, 0, 3],
      [2, 5, 2, 5],
    ] as const) {
      const [lo, hi] = newcombeDiffCi(x1, n1, x2, n2)!;
      const d = x1 / n1 - x2 / n2;
      expect(lo).toBeLessThanOrEqual(d);
      expect(hi).toBeGreaterThanOrEqual(d);
      expect(lo).toBeGreaterThanOrEqual(-1);
      expect(hi).toBeLessThanOrEqual(1);
    }
  });

  test("null when a side has no trials", () => {
    expect(newcombeDiffCi(0, 0, 1, 2)).toBeNull();
  });
});
