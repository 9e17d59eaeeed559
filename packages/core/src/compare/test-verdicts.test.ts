import { describe, expect, test } from "vitest";
import { fisherExact, METHODS, Rng, verdict, welch } from "../stats/index.js";
import { groupByExample, type TestOutcome } from "./outcomes.js";
import { compareTests } from "./test-verdicts.js";

/** `passes` trials of example `id`, as outcomes (trial i passes when passes[i]). */
function trials(id: string, passes: readonly boolean[], scores: (i: number) => Record<string, number> = () => ({})): TestOutcome[] {
  return passes.map((passed, i) => ({ exampleId: id, runId: `${id}-${i}`, name: `case ${id}, run ${i + 1}`, passed, scores: scores(i) }));
}
const times = (n: number, v: boolean) => Array.from({ length: n }, () => v);
const run = (...groups: TestOutcome[][]) => groupByExample(groups.flat());

/** Benjamini–Hochberg adjusted p-values, in the order given: the plain procedure, the reference compareTests' screened one is checked against. */
function adjustBH(ps: readonly number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(m);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const [p, i] = order[rank - 1]!;
    running = Math.min(running, (p * m) / rank);
    out[i] = running;
  }
  return out;
}

describe("adjustBH", () => {
  test("matches SciPy's false_discovery_control (1.17.1)", () => {
    // false_discovery_control([0.01, 0.04, 0.03, 0.2, 0.5]) = [0.05, 0.0667, 0.0667, 0.25, 0.5]
    const q = adjustBH([0.01, 0.04, 0.03, 0.2, 0.5]);
    for (const [i, v] of [0.05, 0.06666666666666667, 0.06666666666666667, 0.25, 0.5].entries()) expect(q[i]).toBeCloseTo(v, 12);
  });
  test("one p-value is its own adjusted value", () => {
    expect(adjustBH([0.003])).toEqual([0.003]);
  });
});

describe("compareTests", () => {
  test("10 of 10 trials passing before, 1 of 10 now: regressed, with Fisher's p from SciPy", () => {
    const r = compareTests(run(trials("a", [true, ...times(9, false)])), run(trials("a", times(10, true))), 0.05);
    expect([r.compared, r.verdictOf.get("a")]).toEqual([1, "regressed"]);
    const [t] = r.changed;
    expect(t!.verdict).toBe("regressed");
    expect(t!.name).toBe("case a");
    expect([t!.trials, t!.baselineTrials]).toEqual([10, 10]);
    const m = t!.passRate!;
    expect(m.method).toBe(METHODS.testPassRate);
    expect(m.delta).toBeCloseTo(-0.9, 12);
    // fisher_exact([[1, 9], [10, 0]]).pvalue = 0.00011907597046915932 (SciPy 1.17.1)
    expect(m.p).toBeCloseTo(0.00011907597046915932, 12);
    expect(m.pAdjusted).toBe(m.p);
    expect(m.ci[1]).toBeLessThan(0);
  });

  test("3 trials a side cannot be called changed: 3/3 → 0/3 is p 0.1 (the honest answer for so few trials)", () => {
    const r = compareTests(run(trials("a", times(3, false))), run(trials("a", times(3, true))), 0.05);
    expect(fisherExact(0, 3, 3, 3)).toBeCloseTo(0.1, 12);
    expect([r.compared, r.verdictOf.get("a"), r.changed]).toEqual([1, "unchanged", []]);
  });

  test("a test with one trial this run gets no verdict; an example the baseline did not run neither", () => {
    const now = run(trials("a", [true]), trials("b", [true, false]));
    const then = run(trials("a", [false, false]));
    const r = compareTests(now, then, 0.05);
    expect([r.compared, r.verdictOf.size, r.changed]).toEqual([0, 0, []]);
  });

  test("0/1 scores are compared as proportions, others with Welch's t-test; only the measures that changed are listed", () => {
    const now = run(trials("a", times(8, true), (i) => ({ correct: 0, quality: 0.5 + (i % 3) * 0.05, fixed: 1, level: 3 })));
    const then = run(trials("a", times(8, true), (i) => ({ correct: 1, quality: 0.9 + (i % 2) * 0.05, fixed: 1, level: 2 })));
    const [t] = compareTests(now, then, 0.05).changed;
    expect(t!.scores.correct!.method).toBe(METHODS.testPassRate);
    expect(t!.scores.correct!.verdict).toBe("regressed");
    expect(t!.scores.quality!.method).toBe(METHODS.testScores);
    expect(t!.scores.quality!.verdict).toBe("regressed");
    expect(Object.keys(t!.scores).sort()).toEqual(["correct", "quality"]);
    expect(t!.passRate).toBeNull();
    expect(t!.verdict).toBe("regressed");
  });

  test("improved when a measure improved and none regressed", () => {
    const [t] = compareTests(run(trials("a", times(10, true))), run(trials("a", times(10, false))), 0.05).changed;
    expect(t!.verdict).toBe("improved");
  });
});

describe("compareTests: seeded noisy simulation", () => {
  /** 100 tests × `k` trials a side, true pass rate `before` then `after` (per test). */
  function simulate(seed: number, before: (i: number) => number, after: (i: number) => number, k = 10) {
    const rng = new Rng(seed);
    const draw = (p: number) => Array.from({ length: k }, () => rng.float() < p);
    const now: TestOutcome[][] = [];
    const then: TestOutcome[][] = [];
    for (let i = 0; i < 100; i++) {
      then.push(trials(`e${i}`, draw(before(i))));
      now.push(trials(`e${i}`, draw(after(i))));
    }
    // Unadjusted: how many tests a plain per-test Fisher at alpha would call regressed.
    const passed = (ts: TestOutcome[]) => ts.filter((t) => t.passed).length;
    const unadjusted = now.filter((ts, i) => {
      const [x1, x2] = [passed(ts), passed(then[i]!)];
      return x1 < x2 && fisherExact(x1, k, x2, k) < 0.05;
    }).length;
    return { ...compareTests(run(...now), run(...then), 0.05), unadjusted };
  }

  test("the same true rate on both sides: a regressed test in at most 3 of 50 seeds (without adjusting, nearly every seed would have one)", () => {
    let seedsWithOne = 0;
    let unadjusted = 0;
    for (let seed = 1; seed <= 50; seed++) {
      const v = simulate(
        seed,
        () => 0.7,
        () => 0.7,
      );
      expect(v.compared).toBe(100);
      if (v.changed.some((t) => t.verdict === "regressed")) seedsWithOne++;
      if (v.unadjusted > 0) unadjusted++;
    }
    expect(seedsWithOne).toBeLessThanOrEqual(3);
    expect(unadjusted).toBeGreaterThan(25);
  });

  // Adjusted for 100 tests, a test needs p below about 0.0005: 20 trials a side give that for a drop
  // this large, 10 (9 of 10 → 1 of 10, p 0.001) do not.
  test("one test dropping from 0.95 to 0.05 among 100 steady ones, 20 trials a side: found in every seed", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const v = simulate(
        seed,
        (i) => (i === 7 ? 0.95 : 0.8),
        (i) => (i === 7 ? 0.05 : 0.8),
        20,
      );
      const regressed = v.changed.filter((t) => t.verdict === "regressed").map((t) => t.exampleId);
      expect(regressed).toContain("e7");
      expect(regressed.length).toBeLessThanOrEqual(2);
    }
  });
});

describe("compareTests: the screen", () => {
  test("screening out p ≥ alpha gives the same verdicts as testing every test in full", () => {
    const rng = new Rng("screen");
    const now: TestOutcome[][] = [];
    const then: TestOutcome[][] = [];
    for (let i = 0; i < 300; i++) {
      const shift = i % 10 === 0 ? -0.3 : 0;
      then.push(trials(`e${i}`, times(4, true), () => ({ q: 0.7 + rng.float() * 0.2 })));
      now.push(trials(`e${i}`, times(4, true), () => ({ q: 0.7 + shift + rng.float() * 0.2 })));
    }
    const got = compareTests(run(...now), run(...then), 0.05);
    // In full: Welch on every test, the exact p-values adjusted, the verdict on each.
    const full = now.map(
      (ts, i) =>
        welch(
          then[i]!.map((t) => t.scores.q!),
          ts.map((t) => t.scores.q!),
        )!,
    );
    const q = adjustBH(full.map((r) => r.p));
    const expected = full.map((r, i) => [`e${i}`, verdict(r.delta, r.ci, q[i]!, 0.05)] as const).filter(([, v]) => v !== "unchanged");
    expect(expected.length).toBeGreaterThan(0);
    expect(got.changed.map((t) => [t.exampleId, t.verdict]).sort()).toEqual(expected.map(([id, v]) => [id, v]).sort());
    for (const t of got.changed) {
      const i = Number(t.exampleId.slice(1));
      expect(t.scores.q!.pAdjusted).toBeCloseTo(q[i]!, 12);
    }
  });
});
