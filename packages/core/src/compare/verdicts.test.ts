import { describe, expect, test } from "vitest";
import { METHODS, Rng } from "../stats/index.js";
import type { TestOutcome } from "./outcomes.js";
import { compareVerdicts, MAX_UNMATCHED_LISTED } from "./verdicts.js";

const o = (exampleId: string, passed: boolean, scores: Record<string, number> = {}, runId = `${exampleId}-r`): TestOutcome => ({
  exampleId,
  runId,
  name: `t ${exampleId}`,
  passed,
  scores,
});

/** `n` examples e0.. with the given pass/fail on each side. */
function sides(pairs: ReadonlyArray<[before: boolean, after: boolean, count: number]>) {
  const baseline: TestOutcome[] = [];
  const current: TestOutcome[] = [];
  let i = 0;
  for (const [b, a, count] of pairs) {
    for (let k = 0; k < count; k++, i++) {
      baseline.push(o(`e${i}`, b));
      current.push(o(`e${i}`, a));
    }
  }
  return { baseline, current };
}

describe("compareVerdicts: pass rate without trials (exact McNemar)", () => {
  test("10 regressed, 2 improved, 8 passing on both sides: p from SciPy, regressed", () => {
    const { baseline, current } = sides([
      [true, false, 10],
      [false, true, 2],
      [true, true, 8],
    ]);
    const v = compareVerdicts(current, baseline, { alpha: 0.05, seed: "exp" });
    expect(v.method.passRate).toBe(METHODS.passRate);
    const pr = v.passRate!;
    expect(pr.method).toBe(METHODS.passRate);
    expect(pr.n).toBe(20);
    expect(pr.baseline).toBeCloseTo(0.9, 12);
    expect(pr.current).toBeCloseTo(0.5, 12);
    expect(pr.delta).toBeCloseTo(-0.4, 12);
    // SciPy 1.17.1: binomtest(2, 12, 0.5).pvalue == 0.03857421875
    expect(pr.p).toBeCloseTo(0.03857421875, 12);
    expect(pr.ci[0]).toBeLessThan(pr.delta);
    expect(pr.ci[1]).toBeGreaterThan(pr.delta);
    expect(pr.ci[1]).toBeLessThan(0);
    expect(pr.verdict).toBe("regressed");
    // Seeded: the same numbers again.
    expect(compareVerdicts(current, baseline, { alpha: 0.05, seed: "exp" })).toEqual(v);
  });

  test.each([
    // [b, c, SciPy 1.17.1 binomtest(min(b, c), b + c, 0.5).pvalue]
    [5, 0, 0.0625],
    [1, 8, 0.0390625],
    [0, 3, 0.25],
    [4, 2, 0.6875],
  ])("b %i, c %i: p %f as SciPy gives", (b, c, p) => {
    const { baseline, current } = sides([
      [true, false, b],
      [false, true, c],
      [true, true, 5],
    ]);
    expect(compareVerdicts(current, baseline, { alpha: 0.05, seed: "s" }).passRate!.p).toBeCloseTo(p, 12);
  });

  test("b 5, c 0 is not significant at 0.05 (p 0.0625) but is at 0.1", () => {
    const { baseline, current } = sides([
      [true, false, 5],
      [true, true, 5],
    ]);
    expect(compareVerdicts(current, baseline, { alpha: 0.05, seed: "s" }).passRate!.verdict).toBe("unchanged");
    expect(compareVerdicts(current, baseline, { alpha: 0.1, seed: "s" }).passRate!.verdict).toBe("regressed");
  });

  test("no change: p 1, unchanged", () => {
    const { baseline, current } = sides([[true, true, 4]]);
    const pr = compareVerdicts(current, baseline, { alpha: 0.05, seed: "s" }).passRate!;
    expect(pr).toMatchObject({ delta: 0, p: 1, verdict: "unchanged", ci: [0, 0] });
  });
});

describe("compareVerdicts: trials and scores", () => {
  test("with trials a test's value is its trials' pass rate, compared by paired bootstrap", () => {
    const baseline = [o("a", true, {}, "a1"), o("a", true, {}, "a2"), o("b", true, {}, "b1"), o("b", false, {}, "b2")];
    const current = [o("a", false, {}, "a3"), o("a", true, {}, "a4"), o("b", false, {}, "b3"), o("b", false, {}, "b4")];
    const v = compareVerdicts(current, baseline, { alpha: 0.05, seed: "s" });
    expect(v.method.passRate).toBe(METHODS.passRateTrials);
    expect(v.passRate).toMatchObject({ method: METHODS.passRateTrials, n: 2, baseline: 0.75, current: 0.25, delta: -0.5 });
  });

  test("each key scored on both sides, over per-example means; keys of one side are left out", () => {
    const baseline = [o("a", true, { quality: 0.9, only: 1 }), o("b", true, { quality: 0.8 })];
    const current = [o("a", true, { quality: 0.7 }, "a1"), o("a", true, { quality: 0.5 }, "a2"), o("b", true, { quality: 0.8, extra: 1 })];
    const v = compareVerdicts(current, baseline, { alpha: 0.05, seed: "s" });
    expect(Object.keys(v.scores)).toEqual(["quality"]);
    const q = v.scores.quality!;
    expect(q.method).toBe(METHODS.scores);
    expect(q.n).toBe(2);
    expect(q.baseline).toBeCloseTo(0.85, 12);
    expect(q.current).toBeCloseTo(0.7, 12);
    expect(q.delta).toBeCloseTo(-0.15, 12);
    expect(q.verdict).toBe("unchanged");
  });

  test("examples of one side are counted and listed, never silently dropped; lists capped", () => {
    const baseline = [o("shared", true), ...Array.from({ length: 60 }, (_, i) => o(`b${String(i).padStart(2, "0")}`, true))];
    const current = [o("shared", false), o("c1", true)];
    const v = compareVerdicts(current, baseline, { alpha: 0.05, seed: "s" });
    expect(v.passRate!.n).toBe(1);
    expect(v.unmatched.currentOnly).toEqual(["c1"]);
    expect(v.unmatched.currentOnlyCount).toBe(1);
    expect(v.unmatched.baselineOnly).toHaveLength(MAX_UNMATCHED_LISTED);
    expect(v.unmatched.baselineOnly[0]).toBe("b00");
    expect(v.unmatched.baselineOnlyCount).toBe(60);
  });

  test("nothing paired: no pass-rate measure", () => {
    const v = compareVerdicts([o("a", true)], [o("b", true)], { alpha: 0.05, seed: "s" });
    expect(v.passRate).toBeNull();
    expect(v.scores).toEqual({});
  });
});

describe("compareVerdicts: seeded noisy simulation", () => {
  function simulate(seed: number, before: number, after: number, n = 200) {
    const rng = new Rng(seed);
    const baseline: TestOutcome[] = [];
    const current: TestOutcome[] = [];
    for (let i = 0; i < n; i++) {
      baseline.push(o(`e${i}`, rng.float() < before));
      current.push(o(`e${i}`, rng.float() < after));
    }
    return compareVerdicts(current, baseline, { alpha: 0.05, seed: `sim-${seed}`, resamples: 500 });
  }

  test("the same true pass rate 0.8 on both sides: unchanged for most of 50 seeds (≤ 10 % regressed)", () => {
    const verdicts = Array.from({ length: 50 }, (_, s) => simulate(s, 0.8, 0.8).passRate!.verdict);
    expect(verdicts.filter((v) => v === "regressed").length).toBeLessThanOrEqual(5);
    expect(verdicts.filter((v) => v === "unchanged").length).toBeGreaterThanOrEqual(40);
  });

  test("a drop from 0.9 to 0.5: regressed for every one of 20 seeds", () => {
    for (let s = 0; s < 20; s++) expect(simulate(1000 + s, 0.9, 0.5).passRate!.verdict).toBe("regressed");
  });
});
