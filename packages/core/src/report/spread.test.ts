import { describe, expect, test } from "vitest";
import { bootstrapMeanCi, passAtK, passHatK, wilson } from "../stats/index.js";
import { experimentSpread, groupByExample, passRateCiOf, type SpreadTest } from "./spread.js";

// An experiment's spread from its tests: the pass rate's Wilson interval, each key's bootstrap
// interval over examples, and per example its trials with pass@k and pass^k.

const t = (name: string, status: SpreadTest["status"], exampleId: string | null, scores: Record<string, number> = {}): SpreadTest => ({
  name,
  status,
  exampleId,
  scores,
});

/** Three trials of two examples (names as the runner titles repetitions) and a test of no example. */
const TRIALS: SpreadTest[] = [
  t("qa > capital, run 1", "passed", "ex-1", { quality: 1 }),
  t("qa > capital, run 2", "passed", "ex-1", { quality: 0.8 }),
  t("qa > capital, run 3", "failed", "ex-1", { quality: 0.3 }),
  t("qa > river, run 1", "passed", "ex-2", { quality: 0.9 }),
  t("qa > river, run 2", "passed", "ex-2", { quality: 0.7 }),
  t("qa > river, run 3", "passed", "ex-2", { quality: 0.8 }),
  t("qa > unlinked", "failed", null, { quality: 0.1 }),
];

describe("groupByExample", () => {
  test("tests of one example together, in the order examples first appear; a test without one alone", () => {
    const tests = [t("a", "passed", "x"), t("b", "passed", null), t("c", "failed", "y"), t("d", "passed", "x"), t("e", "passed", null)];
    expect(groupByExample(tests).map((g) => g.map((x) => x.name))).toEqual([["a", "d"], ["b"], ["c"], ["e"]]);
    expect(groupByExample([])).toEqual([]);
  });
});

describe("experimentSpread", () => {
  test("per example: its trials, pass rate with the Wilson interval, pass@k and pass^k at k = trials", () => {
    const s = experimentSpread(TRIALS, "exp");
    expect(s.examples).toEqual([
      {
        exampleId: "ex-1",
        name: "qa > capital",
        trials: 3,
        passRate: 2 / 3,
        passRateCi: wilson(2, 3),
        passAtK: passAtK(3, 2, 3),
        passHatK: passHatK(3, 2, 3),
      },
      { exampleId: "ex-2", name: "qa > river", trials: 3, passRate: 1, passRateCi: [wilson(3, 3)![0], 1], passAtK: 1, passHatK: 1 },
      { exampleId: null, name: "qa > unlinked", trials: 1, passRate: 0, passRateCi: [0, wilson(0, 1)![1]] },
    ]);
    // At k = n: whether any trial passed, whether all did.
    expect(s.examples[0]!.passAtK).toBe(1);
    expect(s.examples[0]!.passHatK).toBe(0);
  });

  test("per experiment: the pass rate's Wilson interval over every test that ran, the most trials, pass@k and pass^k over the examples with that many", () => {
    const s = experimentSpread(TRIALS, "exp");
    expect(s.passRateCi).toEqual(wilson(5, 7));
    expect(s.passRateCi![0]).toBeCloseTo(0.3589, 3);
    expect(s.passRateCi![1]).toBeCloseTo(0.9178, 3);
    expect(s.trials).toBe(3);
    expect(s.passAtK).toBe(1);
    expect(s.passHatK).toBe(0.5);
  });

  test("each key's interval: a bootstrap over examples (trials averaged first), seeded with the given seed", () => {
    const s = experimentSpread(TRIALS, "exp");
    const perExample = [0.1, (0.3 + 0.8 + 1) / 3, (0.7 + 0.8 + 0.9) / 3];
    expect(s.scoreCi).toEqual({ quality: bootstrapMeanCi(perExample, { seed: "exp" }) });
    const [lo, hi] = s.scoreCi.quality!;
    expect(lo).toBeLessThanOrEqual(hi);
    expect(lo).toBeGreaterThanOrEqual(0.1 - 1e-9);
    expect(hi).toBeLessThanOrEqual(0.8 + 1e-9);
    // Reproducible: same tests, same seed, same interval, in whatever order the tests come.
    expect(experimentSpread(TRIALS, "exp").scoreCi).toEqual(s.scoreCi);
    expect(experimentSpread([...TRIALS].reverse(), "exp").scoreCi).toEqual(s.scoreCi);
  });

  test("a key only some examples have is over those; a single example's interval is its value", () => {
    const s = experimentSpread([t("a", "passed", "x", { q: 0.5, exact: 1 }), t("b", "failed", "y", { q: 0.7 })], "e");
    expect(s.scoreCi.exact).toEqual([1, 1]);
    expect(s.scoreCi.q).toEqual(bootstrapMeanCi([0.5, 0.7], { seed: "e" }));
    expect(Object.keys(s.scoreCi)).toEqual(["exact", "q"]);
  });

  test("one trial each: trials 1, no pass@k or pass^k anywhere", () => {
    const s = experimentSpread([t("a", "passed", "x"), t("b", "failed", "y")], "e");
    expect(s.trials).toBe(1);
    expect(s).not.toHaveProperty("passAtK");
    expect(s).not.toHaveProperty("passHatK");
    for (const e of s.examples) expect(e).not.toHaveProperty("passAtK");
  });

  test("skipped and pending tests are no trials; nothing ran: no rate, no interval, trials 0", () => {
    const s = experimentSpread([t("a", "skipped", "x"), t("a, run 2", "pending", "x")], "e");
    expect(s.passRateCi).toBeNull();
    expect(s.trials).toBe(0);
    expect(s.scoreCi).toEqual({});
    expect(s.examples).toEqual([{ exampleId: "x", name: "a", trials: 0, passRate: null, passRateCi: null }]);
    expect(experimentSpread([], "e")).toEqual({ trials: 0, passRateCi: null, scoreCi: {}, examples: [] });
  });

  test("uneven trials: the experiment's pass@k is over the examples with the most", () => {
    const s = experimentSpread([t("a, run 1", "passed", "x"), t("a, run 2", "failed", "x"), t("b", "failed", "y")], "e");
    expect(s.trials).toBe(2);
    expect(s.passAtK).toBe(1);
    expect(s.passHatK).toBe(0);
  });

  test("passRateCiOf: Wilson's 95 % interval as a plain pair, null for none", () => {
    expect(passRateCiOf(0, 0)).toBeNull();
    const ci = passRateCiOf(41, 50)!;
    expect(Array.isArray(ci)).toBe(true);
    expect(ci[0]).toBeCloseTo(0.692, 3);
    expect(ci[1]).toBeCloseTo(0.9023, 3);
  });
});
