import {
  fisherExact,
  METHODS,
  newcombeDiffCi,
  type Verdict,
  verdict,
  welchCi,
  welchP,
  type WelchStatistic,
  welchStatistic,
  zFor,
} from "../stats/index.js";
import type { TestOutcome } from "./outcomes.js";

// Pure: each test's own verdict over its trials, against the same example's trials in the baseline.
// Not paired (trial 2 now has nothing to do with trial 2 then): two independent samples per test,
// exact where they are pass/fail (Fisher), Welch's t-test for other scores. A suite has many tests,
// so at alpha some would come out "regressed" by chance alone on every run — the very noise the
// experiment's verdict is there to see through. The p-values are therefore adjusted for the number
// of tests compared on the measure (Benjamini–Hochberg: of the tests called changed, at most alpha
// are expected to be noise), and a verdict needs the adjusted p below alpha and an interval that
// excludes 0.
//
// Only the tests that changed are reported in full. That is also what keeps this cheap for 10,000
// tests: a p-value at or above alpha can never be adjusted below it, so such tests are screened out
// first (Welch's |t| below the normal critical value is such a p, whatever the degrees of freedom)
// and never get a distribution function or an interval computed.

/** One measure of one test that changed beyond noise. */
export interface TestMeasure {
  method: string;
  baseline: number;
  current: number;
  /** current − baseline. */
  delta: number;
  ci: [lo: number, hi: number];
  /** The test's own p-value. */
  p: number;
  /** `p` adjusted for the number of tests compared on this measure (Benjamini–Hochberg). */
  pAdjusted: number;
  verdict: Verdict;
}

/** A test whose verdict is not "unchanged", with the measures that changed. */
export interface TestVerdict {
  exampleId: string;
  /** The test's name, without the `, run n` of its repetitions. */
  name: string;
  /** This run's trials of the example, and the baseline's. */
  trials: number;
  baselineTrials: number;
  /** "regressed" when any measure regressed, else "improved". */
  verdict: Verdict;
  /** The pass rate, when it changed. */
  passRate: TestMeasure | null;
  /** The feedback keys that changed. */
  scores: Record<string, TestMeasure>;
}

export interface TestComparison {
  /** The tests compared: two trials or more in this run, and run by the baseline. */
  compared: number;
  /** Each compared test's verdict, by example id. */
  verdictOf: ReadonlyMap<string, Verdict>;
  /** The compared tests whose verdict is not "unchanged", by name. */
  changed: TestVerdict[];
}

/** With this many trials of its own, or more, a test gets a verdict. */
export const MIN_TRIALS_FOR_TEST_VERDICT = 2;

const REPETITION = /, run \d+$/;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const isBinary = (xs: readonly number[]) => xs.every((x) => x === 0 || x === 1);
const ones = (xs: readonly number[]) => xs.reduce((n, x) => n + (x === 1 ? 1 : 0), 0);

/** A measure's test before adjusting: its p (1 when screened out: known to be ≥ alpha) and what finishes it. */
interface Screened {
  /** Index of the test in the compared ids. */
  at: number;
  p: number;
  /** Fisher: passes and trials now and then; Welch: its statistic and both samples. */
  fisher?: readonly [x1: number, n1: number, x2: number, n2: number];
  welch?: { s: WelchStatistic; before: readonly number[]; after: readonly number[] };
}

/** Benjamini–Hochberg adjusted p-values, in the order given. */
export function adjustBH(ps: readonly number[]): number[] {
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

/**
 * The adjusted p-values below alpha, exactly, of `m` tests of which `candidates` are those with a p
 * below alpha: every other p is at least alpha, so it ranks after them and cannot bring one of
 * theirs below alpha (nor can any of theirs come out below it). Same values as adjustBH over all m.
 */
function adjustedBelow(candidates: readonly Screened[], m: number, alpha: number): Map<Screened, number> {
  const sorted = [...candidates].sort((a, b) => a.p - b.p);
  const out = new Map<Screened, number>();
  let running = 1;
  for (let rank = sorted.length; rank >= 1; rank--) {
    const c = sorted[rank - 1]!;
    running = Math.min(running, (c.p * m) / rank);
    if (running < alpha) out.set(c, running);
  }
  return out;
}

class Screen {
  /** Fisher's p by table: with a few trials a side, the same few tables come up again and again. */
  private readonly fisherP = new Map<number, number>();
  private readonly zCritical: number;

  constructor(alpha: number) {
    // The least |t| a p-value below alpha needs, for any degrees of freedom.
    this.zCritical = zFor(1 - alpha);
  }

  /** x1 of n1 now, x2 of n2 then: Fisher's exact p (Newcombe's interval when finished). */
  proportions(at: number, x1: number, n1: number, x2: number, n2: number): Screened {
    // Trials past 2^10 a side would collide in this key: then it is not cached.
    const key = n1 < 1024 && n2 < 1024 ? ((x1 * 1024 + n1) * 1024 + x2) * 1024 + n2 : -1;
    let p = this.fisherP.get(key);
    if (p === undefined) {
      p = fisherExact(x1, n1, x2, n2);
      if (key >= 0) this.fisherP.set(key, p);
    }
    return { at, p, fisher: [x1, n1, x2, n2] };
  }

  scores(at: number, before: readonly number[], after: readonly number[]): Screened | null {
    if (before.length === 0 || after.length === 0) return null;
    if (isBinary(before) && isBinary(after)) return this.proportions(at, ones(after), after.length, ones(before), before.length);
    const s = welchStatistic(before, after);
    if (!s) return null;
    return { at, p: Math.abs(s.t) < this.zCritical ? 1 : welchP(s), welch: { s, before, after } };
  }

  finish(m: Screened): Omit<TestMeasure, "pAdjusted" | "verdict"> {
    if (m.fisher) {
      const [x1, n1, x2, n2] = m.fisher;
      const ci = newcombeDiffCi(x1, n1, x2, n2)!;
      return { method: METHODS.testPassRate, baseline: x2 / n2, current: x1 / n1, delta: x1 / n1 - x2 / n2, ci: [ci[0], ci[1]], p: m.p };
    }
    const { s, before, after } = m.welch!;
    const ci = welchCi(s);
    return { method: METHODS.testScores, baseline: mean(before), current: mean(after), delta: s.delta, ci: [ci[0], ci[1]], p: welchP(s) };
  }
}

/**
 * The verdict of every test with at least two trials in this run that the baseline also ran. The
 * groups are this run's and the baseline's outcomes by example id (compare/outcomes.ts groupByExample).
 */
export function compareTests(
  now: ReadonlyMap<string, readonly TestOutcome[]>,
  then: ReadonlyMap<string, readonly TestOutcome[]>,
  alpha: number,
): TestComparison {
  const screen = new Screen(alpha);
  const ids = [...now.keys()].filter((id) => then.has(id) && now.get(id)!.length >= MIN_TRIALS_FOR_TEST_VERDICT).sort();
  // Per measure ("pass", or "score:<key>"), each compared test's screened test.
  const measures = new Map<string, Screened[]>([["pass", []]]);
  const passes = (runs: readonly TestOutcome[]) => runs.reduce((n, r) => n + (r.passed ? 1 : 0), 0);
  const valuesOf = (runs: readonly TestOutcome[], key: string) => {
    const out: number[] = [];
    for (const r of runs) {
      const v = r.scores[key];
      if (v !== undefined) out.push(v);
    }
    return out;
  };
  // The keys any compared test scored, once (a suite has a few): an example without one has no values of it.
  const keys = new Set<string>();
  for (const id of ids) for (const o of now.get(id)!) for (const k in o.scores) keys.add(k);
  ids.forEach((id, at) => {
    const after = now.get(id)!;
    const before = then.get(id)!;
    measures.get("pass")!.push(screen.proportions(at, passes(after), after.length, passes(before), before.length));
    for (const key of keys) {
      const m = screen.scores(at, valuesOf(before, key), valuesOf(after, key));
      if (!m) continue;
      const list = measures.get(`score:${key}`);
      if (list) list.push(m);
      else measures.set(`score:${key}`, [m]);
    }
  });
  // Adjusted per measure over the tests compared on it; only a p below alpha can come out below it.
  const changedMeasures = new Map<number, Array<[string, TestMeasure]>>();
  for (const [name, list] of measures) {
    const below = adjustedBelow(
      list.filter((m) => m.p < alpha),
      list.length,
      alpha,
    );
    for (const [m, q] of below) {
      const done = screen.finish(m);
      const word = verdict(done.delta, done.ci, q, alpha);
      if (word === "unchanged") continue;
      const changed = changedMeasures.get(m.at) ?? [];
      changed.push([name, { ...done, pAdjusted: q, verdict: word }]);
      changedMeasures.set(m.at, changed);
    }
  }
  const verdictOf = new Map<string, Verdict>();
  const changed: TestVerdict[] = [];
  ids.forEach((id, at) => {
    const list = changedMeasures.get(at);
    if (!list) {
      verdictOf.set(id, "unchanged");
      return;
    }
    const word: Verdict = list.some(([, m]) => m.verdict === "regressed") ? "regressed" : "improved";
    verdictOf.set(id, word);
    const after = now.get(id)!;
    const scores: Record<string, TestMeasure> = {};
    for (const [name, m] of list) if (name !== "pass") scores[name.slice("score:".length)] = m;
    const name = after[0]!.name;
    changed.push({
      exampleId: id,
      name: after.length > 1 ? name.replace(REPETITION, "") : name,
      trials: after.length,
      baselineTrials: then.get(id)!.length,
      verdict: word,
      passRate: list.find(([n]) => n === "pass")?.[1] ?? null,
      scores,
    });
  });
  changed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { compared: ids.length, verdictOf, changed };
}
