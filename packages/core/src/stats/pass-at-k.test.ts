import { describe, expect, test } from "vitest";
import { passAtK, passHatK } from "./pass-at-k.js";

// References: the closed forms in Python 3 with math.comb:
//   pass@k = 1 - comb(n - c, k) / comb(n, k),   pass^k = comb(c, k) / comb(n, k).
const cases: Array<[n: number, c: number, k: number, passAt: number, passHat: number]> = [
  [10, 3, 1, 0.30000000000000004, 0.3],
  [10, 3, 5, 0.9166666666666666, 0.0],
  [10, 0, 3, 0.0, 0.0],
  [10, 10, 3, 1.0, 1.0],
  [200, 17, 10, 0.5974489015799118, 8.662418719590339e-13],
  [100, 95, 10, 1.0, 0.583752366926152],
  [1000, 1, 100, 0.09999999999999998, 0.0],
  [3, 2, 3, 1.0, 0.0],
  [3, 3, 3, 1.0, 1.0],
  [5, 2, 3, 0.9, 0.0],
];

describe("passAtK and passHatK", () => {
  test.each(cases)("n=%i c=%i k=%i match the closed forms", (n, c, k, passAt, passHat) => {
    expect(passAtK(n, c, k)).toBeCloseTo(passAt, 13);
    // Relative agreement: pass^k can be tiny.
    if (passHat === 0) expect(passHatK(n, c, k)).toBe(0);
    else expect(Math.abs(passHatK(n, c, k) / passHat - 1)).toBeLessThan(1e-12);
  });

  test("k = 1: both are the pass rate", () => {
    expect(passAtK(8, 6, 1)).toBeCloseTo(0.75, 15);
    expect(passHatK(8, 6, 1)).toBeCloseTo(0.75, 15);
  });

  test("large n: no overflow (C(100000, 500) is far beyond a double)", () => {
    const at = passAtK(100_000, 50_000, 500);
    const hat = passHatK(100_000, 50_000, 500);
    expect(at).toBe(1);
    expect(hat).toBeGreaterThan(0);
    expect(hat).toBeLessThan(2 ** -499);
    expect(passAtK(100_000, 1, 500)).toBeCloseTo(0.005, 12);
  });

  test("k must be 1..n and c at most n", () => {
    expect(() => passAtK(3, 1, 4)).toThrow(RangeError);
    expect(() => passAtK(3, 1, 0)).toThrow(RangeError);
    expect(() => passHatK(3, 4, 1)).toThrow(RangeError);
    expect(() => passHatK(3, 1, 1.5)).toThrow(RangeError);
  });
});
