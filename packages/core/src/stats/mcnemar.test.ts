import { describe, expect, test } from "vitest";
import { mcnemarExact } from "./mcnemar.js";

// References: SciPy 1.17.1, binomtest(b, b + c, 0.5).pvalue.
const cases: Array<[b: number, c: number, p: number]> = [
  [3, 11, 0.057373046875], // binomtest(3, 14, 0.5).pvalue = 0.057373046875
  [0, 1, 1.0],
  [1, 1, 1.0], // a tie
  [5, 5, 1.0], // a tie
  [30, 31, 1.0], // as near a tie as an odd total allows
  [0, 5, 0.0625],
  [2, 9, 0.0654296875],
  [12, 3, 0.03515625],
  [10, 25, 0.016673847800120715],
  [100, 130, 0.05561357778139238],
  [400, 600, 2.728464156065947e-10],
  [1000, 1000, 1.0], // a large tie
  [0, 50, 1.7763568394002505e-15], // 2 / 2^50
];

describe("mcnemarExact", () => {
  test.each(cases)("b=%i c=%i matches SciPy's binomtest", (b, c, p) => {
    // Relative agreement: the small p-values are what a verdict turns on.
    expect(Math.abs(mcnemarExact(b, c) - p)).toBeLessThanOrEqual(1e-12 * p);
  });

  test("no discordant pair: p = 1", () => {
    expect(mcnemarExact(0, 0)).toBe(1);
  });

  test("symmetric in b and c", () => {
    expect(mcnemarExact(11, 3)).toBe(mcnemarExact(3, 11));
    expect(mcnemarExact(600, 400)).toBe(mcnemarExact(400, 600));
  });

  test("rejects counts that are not non-negative integers", () => {
    expect(() => mcnemarExact(-1, 2)).toThrow(RangeError);
    expect(() => mcnemarExact(1.5, 2)).toThrow(RangeError);
    expect(() => mcnemarExact(Number.NaN, 2)).toThrow(RangeError);
  });
});
