import { describe, expect, test } from "vitest";
import { type GatedExperiment, type GatedMeasure, judgeGates, validateGates } from "./gates.js";

describe("validateGates", () => {
  test("takes every known gate, and nothing for none", () => {
    const all = { passRate: 0.9, scores: { quality: 0.95 }, maxRegressions: 0, allDelivered: true, noSignificantRegression: true };
    expect(validateGates(all)).toEqual(all);
    expect(validateGates({})).toEqual({});
    expect(validateGates(undefined)).toEqual({});
    expect(validateGates(null)).toEqual({});
  });

  test("an unknown gate key is an error that lists the known ones", () => {
    expect(() => validateGates({ passrate: 0.9 })).toThrow(
      'tally: unknown gate "passrate" (known: passRate, scores, maxRegressions, allDelivered, noSignificantRegression, maxCostUsd, maxTokens)',
    );
  });

  test.each([
    [{ passRate: "0.9" }, 'gate "passRate" must be a number from 0 to 1 or { min, on: "mean" | "lower" }, got "0.9"'],
    [{ passRate: 90 }, 'gate "passRate" must be a number from 0 to 1, got 90'],
    [{ passRate: Number.NaN }, 'gate "passRate"'],
    [{ scores: 0.9 }, 'gate "scores" must be an object'],
    [{ scores: [0.9] }, 'gate "scores" must be an object'],
    [
      { scores: { quality: "high" } },
      'gate "scores.quality" must be a number (the least mean) or { min, on: "mean" | "lower" }, got "high"',
    ],
    [{ maxRegressions: -1 }, 'gate "maxRegressions" must be a whole number ≥ 0, got -1'],
    [{ maxRegressions: 1.5 }, 'gate "maxRegressions"'],
    [{ allDelivered: "yes" }, 'gate "allDelivered" must be true or false, got "yes"'],
    [{ noSignificantRegression: 1 }, 'gate "noSignificantRegression" must be true or false, got 1'],
  ])("%j is refused", (gates, message) => {
    expect(() => validateGates(gates)).toThrow(message);
  });

  test("gates that are not an object are refused", () => {
    expect(() => validateGates(0.9)).toThrow("tally: gates must be an object like { passRate: 0.9 }, got 0.9");
    expect(() => validateGates([])).toThrow("tally: gates must be an object");
  });
});

const exp = (more: Partial<GatedExperiment> = {}): GatedExperiment => ({
  name: "ci-suite:ci-head",
  passRate: 1,
  scores: {},
  regressions: 0,
  delivered: { runs: 80, expected: 80 },
  ...more,
});

describe("judgeGates", () => {
  test("no gates, no results", () => {
    expect(judgeGates({}, [exp()])).toEqual([]);
    expect(judgeGates({ allDelivered: false }, [exp()])).toEqual([]);
  });

  test("failing gates, one line each naming the experiment", () => {
    const results = judgeGates({ passRate: 0.9, scores: { quality: 0.95 }, maxRegressions: 0, allDelivered: true }, [
      exp({ passRate: 0.8, scores: { quality: { mean: 0.925, count: 8 } }, regressions: 3, delivered: { runs: 78, expected: 80 } }),
    ]);
    expect(results).toEqual([
      { name: "passRate", ok: false, message: "pass rate 0.80 < 0.90 (ci-suite:ci-head)" },
      { name: "scores.quality", ok: false, message: "mean quality 0.925 < 0.95 (ci-suite:ci-head)" },
      { name: "maxRegressions", ok: false, message: "3 regressions > 0 (ci-suite:ci-head)" },
      { name: "allDelivered", ok: false, message: "delivered 78/80 runs (ci-suite:ci-head)" },
    ]);
  });

  test("passing gates are listed too, per gate per experiment", () => {
    const results = judgeGates({ passRate: 0.9, scores: { quality: 0.9 }, maxRegressions: 1, allDelivered: true }, [
      exp({ name: "a", scores: { quality: { mean: 0.9, count: 1 } }, regressions: 1 }),
      exp({ name: "b", passRate: 0.5, scores: { quality: { mean: 1, count: 2 } } }),
    ]);
    expect(results.map((r) => [r.name, r.ok, r.message])).toEqual([
      ["passRate", true, "pass rate 1.00 ≥ 0.90 (a)"],
      ["scores.quality", true, "mean quality 0.9 ≥ 0.9 (a)"],
      ["maxRegressions", true, "1 regression ≤ 1 (a)"],
      ["allDelivered", true, "delivered 80/80 runs (a)"],
      ["passRate", false, "pass rate 0.50 < 0.90 (b)"],
      ["scores.quality", true, "mean quality 1 ≥ 0.9 (b)"],
      ["maxRegressions", true, "0 regressions ≤ 1 (b)"],
      ["allDelivered", true, "delivered 80/80 runs (b)"],
    ]);
  });

  test("a value just under its bound is not printed equal to it", () => {
    const [score, rate] = [
      judgeGates({ scores: { q: 0.95 } }, [exp({ scores: { q: { mean: 0.9499, count: 4 } } })])[0]!,
      judgeGates({ passRate: 0.9 }, [exp({ passRate: 0.899 })])[0]!,
    ];
    expect(score).toMatchObject({ ok: false, message: "mean q 0.9499 < 0.95 (ci-suite:ci-head)" });
    expect(rate).toMatchObject({ ok: false, message: "pass rate 0.899 < 0.900 (ci-suite:ci-head)" });
  });

  describe('on: "lower"', () => {
    const noisy = exp({ passRate: 0.85, passRateCi: [0.74, 0.92], scores: { quality: { mean: 0.82, count: 40, ci: [0.71, 0.9] } } });

    test("judges the lower bound of the 95 % interval, not the mean, and says so", () => {
      const results = judgeGates({ passRate: { min: 0.8, on: "lower" }, scores: { quality: { min: 0.7, on: "lower" } } }, [noisy]);
      expect(results).toEqual([
        { name: "passRate", ok: false, message: "pass rate 0.85, lower bound 0.74 < 0.80 (ci-suite:ci-head)" },
        { name: "scores.quality", ok: true, message: "mean quality 0.82, lower bound 0.71 ≥ 0.7 (ci-suite:ci-head)" },
      ]);
      // The same bounds on the mean pass.
      expect(judgeGates({ passRate: { min: 0.8 }, scores: { quality: { min: 0.7, on: "mean" } } }, [noisy]).every((r) => r.ok)).toBe(true);
    });

    test("without an interval there is nothing to judge: the gate fails, saying why", () => {
      const bare = exp({ passRate: 0.85, scores: { quality: { mean: 0.82, count: 40 } } });
      expect(judgeGates({ passRate: { min: 0.8, on: "lower" }, scores: { quality: { min: 0.7, on: "lower" } } }, [bare])).toEqual([
        { name: "passRate", ok: false, message: "pass rate: no interval to judge its lower bound, need ≥ 0.8 (ci-suite:ci-head)" },
        { name: "scores.quality", ok: false, message: "mean quality: no interval to judge its lower bound, need ≥ 0.7 (ci-suite:ci-head)" },
      ]);
    });

    test.each([
      [{ passRate: { min: 0.8, on: "upper" } }, 'gate "passRate" must be a number from 0 to 1 or { min, on: "mean" | "lower" }'],
      [{ passRate: { min: 1.5, on: "lower" } }, 'gate "passRate" must be a number from 0 to 1'],
      [
        { scores: { quality: { minimum: 0.7 } } },
        'gate "scores.quality" must be a number (the least mean) or { min, on: "mean" | "lower" }',
      ],
    ])("%j is refused", (gates, message) => {
      expect(() => validateGates(gates)).toThrow(message);
    });
  });

  test("a score gate on a key nothing scored fails", () => {
    expect(judgeGates({ scores: { qualty: 0.5 } }, [exp({ scores: { quality: { mean: 1, count: 3 } } })])).toEqual([
      { name: "scores.qualty", ok: false, message: "mean qualty: no scores recorded, need ≥ 0.5 (ci-suite:ci-head)" },
    ]);
  });

  describe("noSignificantRegression", () => {
    const measure = (
      verdict: GatedMeasure["verdict"],
      delta: number,
      ci: [number, number],
      p: number,
      method = "paired bootstrap",
    ): GatedMeasure => ({
      verdict,
      delta,
      ci,
      p,
      method,
    });
    const unchanged = measure("unchanged", -0.02, [-0.06, 0.02], 0.4);

    test("fails on each regressed measure, naming it with Δ, interval and p", () => {
      const results = judgeGates({ noSignificantRegression: true }, [
        exp({
          comparison: {
            passRate: measure("regressed", -1 / 3, [-0.58, -0.08], 0.031, "exact McNemar (two-sided)"),
            scores: { quality: measure("regressed", -0.12, [-0.18, -0.06], 0.0004), exact: unchanged },
          },
        }),
      ]);
      expect(results).toEqual([
        {
          name: "noSignificantRegression",
          ok: false,
          message: "pass rate regressed: Δ −0.333 [−0.58, −0.08], p 0.031 (exact McNemar (two-sided)) (ci-suite:ci-head)",
        },
        {
          name: "noSignificantRegression",
          ok: false,
          message: "quality regressed: Δ −0.12 [−0.18, −0.06], p < 0.001 (paired bootstrap) (ci-suite:ci-head)",
        },
      ]);
    });

    test("passes on anything else: unchanged, improved, no comparison, and a large but noisy drop", () => {
      const results = judgeGates({ noSignificantRegression: true }, [
        exp({ name: "a", comparison: { passRate: unchanged, scores: { q: measure("improved", 0.2, [0.1, 0.3], 0.001) } } }),
        exp({ name: "b", comparison: { passRate: measure("unchanged", -0.5, [-1, 0], 0.25), scores: {} } }),
        exp({ name: "c", comparison: null }),
        exp({ name: "d", regressions: 5 }),
      ]);
      expect(results.map((r) => [r.ok, r.message])).toEqual([
        [true, "no significant regression (a)"],
        [true, "no significant regression (b)"],
        [true, "no significant regression (no paired comparison with a baseline) (c)"],
        [true, "no significant regression (no paired comparison with a baseline) (d)"],
      ]);
    });

    test("off (false or absent): not judged", () => {
      const regressed = exp({ comparison: { passRate: measure("regressed", -0.5, [-0.7, -0.3], 0.001), scores: {} } });
      expect(judgeGates({ noSignificantRegression: false }, [regressed])).toEqual([]);
      expect(judgeGates({}, [regressed])).toEqual([]);
    });
  });
});
