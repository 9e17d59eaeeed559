import { byText, groupByExample, type TestOutcome } from "./outcomes.js";
import { meanOf } from "./means.js";

// Pure: one experiment's tests against its baseline's, matched by example. Per example, every run of
// it (repetitions) is folded into one: it passed when every run passed, and each score is the mean
// over the runs that have it. An example only one side has counts only on that side.

/** A change of one test between the baseline and now; `key` is "pass" (1 → 0) or a feedback key. */
export interface ScoreChange {
  exampleId: string;
  /** The test's name (this run's). */
  test: string;
  key: string;
  before: number;
  after: number;
}

export interface ComparedTest {
  exampleId: string;
  name: string;
  passed: boolean;
  scores: Record<string, number>;
  /** The same example in the baseline; absent when the baseline did not run it. */
  before?: { passed: boolean; scores: Record<string, number> };
}

export interface ScoreDelta {
  /** Mean over the matched examples that have the key on both sides. */
  before: number;
  after: number;
  delta: number;
}

export interface Comparison {
  /** This run's examples, by name. */
  tests: ComparedTest[];
  /** Per feedback key, over the matched examples scored on both sides. */
  deltas: Record<string, ScoreDelta>;
  /** Each side over its own examples; `after` is 0 when this run has none, `before` absent without a baseline. */
  passRate: { before?: number; after: number };
  regressions: ScoreChange[];
  improvements: ScoreChange[];
}

export interface DiffOptions {
  /** How far a score may fall (or rise) before it counts: one number, or per key with "*" for the rest. */
  regressionThreshold: number | Record<string, number>;
}

/** Sums of doubles in another order can differ in the last bits: not a change. */
const EPSILON = 1e-9;

interface Folded {
  exampleId: string;
  name: string;
  passed: boolean;
  scores: Record<string, number>;
}

function fold(outcomes: readonly TestOutcome[]): Map<string, Folded> {
  const out = new Map<string, Folded>();
  for (const [exampleId, runs] of groupByExample(outcomes)) {
    const scores = meanOf(runs.map((r) => r.scores));
    out.set(exampleId, {
      exampleId,
      name: runs.map((r) => r.name).sort(byText)[0]!,
      passed: runs.every((r) => r.passed),
      scores,
    });
  }
  return out;
}

export function thresholdOf(threshold: DiffOptions["regressionThreshold"], key: string): number {
  if (typeof threshold === "number") return threshold;
  return threshold[key] ?? threshold["*"] ?? 0;
}

const passRate = (examples: Iterable<Folded>): number | undefined => {
  let n = 0;
  let passed = 0;
  for (const e of examples) {
    n++;
    if (e.passed) passed++;
  }
  return n > 0 ? passed / n : undefined;
};

const byTestAndKey = (a: ScoreChange, b: ScoreChange) => byText(a.test, b.test) || byText(a.key, b.key) || byText(a.exampleId, b.exampleId);

export function compareOutcomes(current: readonly TestOutcome[], baseline: readonly TestOutcome[] | null, opts: DiffOptions): Comparison {
  const now = fold(current);
  const then = baseline ? fold(baseline) : undefined;
  const tests: ComparedTest[] = [];
  const regressions: ScoreChange[] = [];
  const improvements: ScoreChange[] = [];
  const pairs = new Map<string, { before: number; after: number; n: number }>();

  for (const e of now.values()) {
    const b = then?.get(e.exampleId);
    tests.push({ ...e, ...(b ? { before: { passed: b.passed, scores: b.scores } } : {}) });
    if (!b) continue;
    const change = (key: string, before: number, after: number): ScoreChange => ({
      exampleId: e.exampleId,
      test: e.name,
      key,
      before,
      after,
    });
    if (b.passed && !e.passed) regressions.push(change("pass", 1, 0));
    if (!b.passed && e.passed) improvements.push(change("pass", 0, 1));
    for (const [key, after] of Object.entries(e.scores)) {
      const before = b.scores[key];
      if (before === undefined) continue;
      const p = pairs.get(key) ?? { before: 0, after: 0, n: 0 };
      p.before += before;
      p.after += after;
      p.n++;
      pairs.set(key, p);
      const t = thresholdOf(opts.regressionThreshold, key);
      if (before - after > t + EPSILON) regressions.push(change(key, before, after));
      else if (after - before > t + EPSILON) improvements.push(change(key, before, after));
    }
  }

  const deltas: Record<string, ScoreDelta> = {};
  for (const key of [...pairs.keys()].sort(byText)) {
    const p = pairs.get(key)!;
    const before = p.before / p.n;
    const after = p.after / p.n;
    deltas[key] = { before, after, delta: after - before };
  }
  const before = then ? passRate(then.values()) : undefined;
  return {
    tests: tests.sort((a, b) => byText(a.name, b.name) || byText(a.exampleId, b.exampleId)),
    deltas,
    passRate: { ...(before !== undefined ? { before } : {}), after: passRate(now.values()) ?? 0 },
    regressions: regressions.sort(byTestAndKey),
    improvements: improvements.sort(byTestAndKey),
  };
}
