import { describe, expect, test } from "vitest";
import { compareOutcomes, thresholdOf } from "./diff.js";
import type { TestOutcome } from "./outcomes.js";

let n = 0;
const o = (exampleId: string, name: string, passed: boolean, scores: Record<string, number> = {}): TestOutcome => ({
  exampleId,
  runId: `run-${n++}`,
  name,
  passed,
  scores,
});

describe("compareOutcomes", () => {
  test("without a baseline: this run's tests, its pass rate, no deltas and no changes", () => {
    const c = compareOutcomes([o("x2", "b", false, { q: 0.5 }), o("x1", "a", true, { q: 1 })], null, { regressionThreshold: 0 });
    expect(c).toEqual({
      tests: [
        { exampleId: "x1", name: "a", passed: true, scores: { q: 1 } },
        { exampleId: "x2", name: "b", passed: false, scores: { q: 0.5 } },
      ],
      deltas: {},
      passRate: { after: 0.5 },
      regressions: [],
      improvements: [],
    });
  });

  test("matched by example: a test that passed and fails now is a regression of `pass`, the reverse an improvement", () => {
    const before = [o("x1", "case 1", true), o("x2", "case 2", false), o("x3", "case 3", true)];
    const after = [o("x1", "case 1 renamed", false), o("x2", "case 2", true), o("x3", "case 3", true)];
    const c = compareOutcomes(after, before, { regressionThreshold: 0 });
    expect(c.regressions).toEqual([{ exampleId: "x1", test: "case 1 renamed", key: "pass", before: 1, after: 0 }]);
    expect(c.improvements).toEqual([{ exampleId: "x2", test: "case 2", key: "pass", before: 0, after: 1 }]);
    expect(c.passRate.before).toBeCloseTo(2 / 3);
    expect(c.passRate.after).toBeCloseTo(2 / 3);
    expect(c.tests.find((t) => t.exampleId === "x1")!.before).toEqual({ passed: true, scores: {} });
  });

  test("a score that fell by more than the threshold is a regression; one that rose, an improvement", () => {
    const before = [o("x1", "a", true, { quality: 1, tone: 0.5 }), o("x2", "b", true, { quality: 0.5 })];
    const after = [o("x1", "a", true, { quality: 0.4, tone: 0.45 }), o("x2", "b", true, { quality: 0.9 })];
    const zero = compareOutcomes(after, before, { regressionThreshold: 0 });
    expect(zero.regressions.map((r) => [r.test, r.key, r.before, r.after])).toEqual([
      ["a", "quality", 1, 0.4],
      ["a", "tone", 0.5, 0.45],
    ]);
    expect(zero.improvements.map((r) => [r.test, r.key, r.before, r.after])).toEqual([["b", "quality", 0.5, 0.9]]);

    // Per key, with "*" for the rest: tone may fall by 0.1, quality by 0.5 (a fall of 0.6 still counts).
    const perKey = compareOutcomes(after, before, { regressionThreshold: { tone: 0.1, "*": 0.5 } });
    expect(perKey.regressions.map((r) => [r.test, r.key])).toEqual([["a", "quality"]]);
    expect(perKey.improvements).toEqual([]);

    // One number for every key; a change of exactly the threshold is not more than it.
    const exact = compareOutcomes([o("x1", "a", true, { q: 0.75 })], [o("x1", "a", true, { q: 1 })], { regressionThreshold: 0.25 });
    expect(exact.regressions).toEqual([]);
  });

  test("equal scores are no change, also when the runs' order makes the float sums differ", () => {
    const before = [0.1, 0.2, 0.3].map((q) => o("x1", "a", true, { q }));
    const after = [0.3, 0.2, 0.1].map((q) => o("x1", "a", true, { q }));
    const c = compareOutcomes(after, before, { regressionThreshold: 0 });
    expect([c.regressions, c.improvements]).toEqual([[], []]);
  });

  test("repetitions: an example passed when every run passed; its score is the mean of its runs", () => {
    const before = [o("x1", "a", true, { q: 1 }), o("x1", "a", true, { q: 1 })];
    const after = [o("x1", "a", true, { q: 1 }), o("x1", "a", false, { q: 0 }), o("x1", "a", true)];
    const c = compareOutcomes(after, before, { regressionThreshold: 0 });
    expect(c.tests).toEqual([
      { exampleId: "x1", name: "a", passed: false, scores: { q: 0.5 }, before: { passed: true, scores: { q: 1 } } },
    ]);
    expect(c.passRate).toEqual({ before: 1, after: 0 });
    expect(c.regressions.map((r) => [r.key, r.before, r.after])).toEqual([
      ["pass", 1, 0],
      ["q", 1, 0.5],
    ]);
    expect(c.deltas).toEqual({ q: { before: 1, after: 0.5, delta: -0.5 } });
  });

  test("deltas over matched examples scored on both sides; unmatched examples count only on their side", () => {
    const before = [
      o("x1", "a", true, { q: 0.8, old: 1 }),
      o("x2", "b", true, { q: 0.6 }),
      o("gone", "removed", false, { q: 0 }),
      o("gone2", "removed 2", false),
    ];
    const after = [o("x1", "a", true, { q: 1, new: 1 }), o("x2", "b", true), o("fresh", "added", false, { q: 0 })];
    const c = compareOutcomes(after, before, { regressionThreshold: 0 });
    expect(c.deltas.q!.before).toBeCloseTo(0.8);
    expect(c.deltas.q!.after).toBe(1);
    expect(c.deltas.q!.delta).toBeCloseTo(0.2);
    expect(Object.keys(c.deltas)).toEqual(["q"]);
    expect(c.passRate).toEqual({ before: 0.5, after: 2 / 3 });
    // A new failing test is no regression, a removed one no improvement.
    expect(c.regressions).toEqual([]);
    expect(c.improvements.map((r) => [r.test, r.key])).toEqual([["a", "q"]]);
    expect(c.tests.map((t) => [t.name, t.before !== undefined])).toEqual([
      ["a", true],
      ["added", false],
      ["b", true],
    ]);
  });

  test("an empty baseline is a baseline with nothing to match", () => {
    const c = compareOutcomes([o("x1", "a", true)], [], { regressionThreshold: 0 });
    expect(c.passRate).toEqual({ after: 1 });
    expect(c.tests[0]!.before).toBeUndefined();
  });

  test("the order is by test name, then key, whatever the input order", () => {
    const before = [o("x1", "b", true, { z: 1, a: 1 }), o("x2", "a", true, { m: 1 })];
    const after = [o("x2", "a", false, { m: 0 }), o("x1", "b", false, { z: 0, a: 0 })];
    const one = compareOutcomes(after, before, { regressionThreshold: 0 });
    expect(one.regressions.map((r) => `${r.test}/${r.key}`)).toEqual(["a/m", "a/pass", "b/a", "b/pass", "b/z"]);
    expect(compareOutcomes([...after].reverse(), [...before].reverse(), { regressionThreshold: 0 })).toEqual(one);
  });

  test("thresholdOf", () => {
    expect(thresholdOf(0.2, "q")).toBe(0.2);
    expect(thresholdOf({ q: 0.1, "*": 0.3 }, "q")).toBe(0.1);
    expect(thresholdOf({ q: 0.1, "*": 0.3 }, "r")).toBe(0.3);
    expect(thresholdOf({ q: 0.1 }, "r")).toBe(0);
  });
});
