import { describe, expect, test } from "vitest";
import { wilson, zFor } from "./wilson.js";

// References: SciPy 1.17.1, binomtest(k, n).proportion_ci(confidence_level=c, method="wilson").
const cases: Array<[k: number, n: number, confidence: number, lo: number, hi: number]> = [
  [0, 10, 0.95, 0.0, 0.27753279986288926],
  [10, 10, 0.95, 0.7224672001371109, 1.0],
  [3, 14, 0.95, 0.07571386712693184, 0.47589230586600295],
  [7, 10, 0.95, 0.39677814746114526, 0.892208732593699],
  [50, 100, 0.95, 0.4038315303659956, 0.5961684696340044],
  [1, 1000, 0.95, 0.00017654637062607809, 0.0056425585979579355],
  [9999, 10000, 0.95, 0.9994337311025987, 0.9999823473263989],
  [7, 10, 0.9, 0.4416997958698351, 0.8731234160968021],
  [7, 10, 0.99, 0.32002467920110256, 0.9204336834769342],
  [1, 1, 0.95, 0.20654931437723745, 1.0],
];

describe("wilson", () => {
  test.each(cases)("%i of %i at %f matches SciPy", (k, n, confidence, lo, hi) => {
    const ci = wilson(k, n, confidence)!;
    expect(ci[0]).toBeCloseTo(lo, 13);
    expect(ci[1]).toBeCloseTo(hi, 13);
  });

  test("0 and n successes give exactly 0 and 1 as the outer bounds", () => {
    expect(wilson(0, 7)![0]).toBe(0);
    expect(wilson(7, 7)![1]).toBe(1);
  });

  test("confidence defaults to 0.95; z is SciPy's norm.ppf(0.975) = 1.959963984540054", () => {
    expect(wilson(3, 14)).toEqual(wilson(3, 14, 0.95));
    expect(zFor(0.95)).toBeCloseTo(1.959963984540054, 14);
  });

  test("n = 0 has no interval", () => {
    expect(wilson(0, 0)).toBeNull();
  });

  test("rejects counts and confidences no interval fits", () => {
    expect(() => wilson(5, 4)).toThrow(RangeError);
    expect(() => wilson(-1, 4)).toThrow(RangeError);
    expect(() => wilson(1.5, 4)).toThrow(RangeError);
    expect(() => wilson(1, 4, 1)).toThrow(RangeError);
    expect(() => wilson(1, 4, 0)).toThrow(RangeError);
    expect(() => wilson(1, 4, Number.NaN)).toThrow(RangeError);
  });
});
