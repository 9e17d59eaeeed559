import { describe, expect, test } from "vitest";
import { fisherExact } from "./fisher.js";

// References: SciPy 1.17.1, fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue (two-sided).
const cases: Array<[x1: number, n1: number, x2: number, n2: number, p: number]> = [
  [3, 3, 0, 3, 0.10000000000000002], // 3 trials a side can never be significant at 0.05
  [5, 5, 0, 5, 0.007936507936507938],
  [1, 5, 4, 5, 0.2063492063492064],
  [2, 3, 3, 3, 1.0],
  [0, 10, 7, 10, 0.0030959752321981426],
  [9, 10, 3, 10, 0.019766611097880443],
  [56, 70, 48, 80, 0.012521129749209154],
  [10, 10, 10, 10, 1.0],
  [0, 4, 0, 4, 1.0],
  [12, 40, 25, 40, 0.006745915282824635],
];

describe("fisherExact", () => {
  test.each(cases)("%i/%i against %i/%i matches SciPy's fisher_exact", (x1, n1, x2, n2, p) => {
    expect(Math.abs(fisherExact(x1, n1, x2, n2) - p)).toBeLessThanOrEqual(1e-9 * p);
  });

  test("symmetric in the two sides", () => {
    expect(fisherExact(9, 10, 3, 10)).toBeCloseTo(fisherExact(3, 10, 9, 10), 12);
  });

  test("an empty side: p = 1", () => {
    expect(fisherExact(0, 0, 3, 5)).toBe(1);
  });

  test("rejects counts no table fits", () => {
    expect(() => fisherExact(4, 3, 0, 3)).toThrow(RangeError);
    expect(() => fisherExact(-1, 3, 0, 3)).toThrow(RangeError);
    expect(() => fisherExact(1.5, 3, 0, 3)).toThrow(RangeError);
  });
});
