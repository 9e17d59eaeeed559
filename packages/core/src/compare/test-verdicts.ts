import {
  fisherExact,
  METHODS,
  newcombeDiffCi,
  tCritical,
  type Verdict,
  verdict,
  welchCi,
  welchP,
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
// first — Welch's statistic from running moments (no arrays), its |t| against the critical value at
// the next whole degrees of freedom (a lower bar than its own) — and never get a distribution
// function or an interval computed; the few left are computed again from their values.

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

/** A measure of one test whose p is below alpha: a candidate for a verdict, finished once adjusted. */
interface Screened {
  /** Index of the test in the compared ids. */
  at: number;
  p: number;
  /** Fisher: passes and trials now and then. Welch: the key, whose values are read again to finish. */
  fisher?: readonly [x1: number, n1: number, x2: number, n2: number];
  welchKey?: string;
}

/** One measure over the compared tests: how many were tested on it, and those with a p below alpha. */
interface Measure {
  tested: number;
  candidates: Screened[];
}

/** One side's values of a key in one pass, without collecting them: count, mean and squared deviations (Welford), 0/1 or not. */
class Moments {
  n = 0;
  mean = 0;
  m2 = 0;
  ones = 0;
  binary = true;
  add(x: number): void {
    this.n++;
    const d = x - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (x - this.mean);
    if (x === 1) this.ones++;
    else if (x !== 0) this.binary = false;
  }
  reset(): void {
    this.n = this.mean = this.m2 = this.ones = 0;
    this.binary = true;
  }
}

/**
 * The adjusted p-values below alpha, exactly, of `m` tests of which `candidates` are those with a p
 * below alpha: every other p is at least alpha, so it ranks after them and cannot bring one of
 * theirs below alpha (nor can any of theirs come out below it). The same values as Benjamini–Hochberg over all m
 * p-values (the tests check it against the plain procedure).
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
  private readonly alpha: number;
  /** tCritical by whole degrees of freedom: at df, |t| below the critical value at ⌈df⌉ is below df's own. */
  private readonly tCriticalAt = new Map<number, number>();

  constructor(alpha: number) {
    this.alpha = alpha;
    // The least |t| a p-value below alpha needs, for any degrees of freedom.
    this.zCritical = zFor(1 - alpha);
  }

  /** x1 of n1 now, x2 of n2 then: Fisher's exact p, counted on `into`, and kept when below alpha. */
  proportions(into: Measure, at: number, x1: number, n1: number, x2: number, n2: number): void {
    // Trials past 2^10 a side would collide in this key: then it is not cached.
    const key = n1 < 1024 && n2 < 1024 ? ((x1 * 1024 + n1) * 1024 + x2) * 1024 + n2 : -1;
    let p = this.fisherP.get(key);
    if (p === undefined) {
      p = fisherExact(x1, n1, x2, n2);
      if (key >= 0) this.fisherP.set(key, p);
    }
    into.tested++;
    if (p < this.alpha) into.candidates.push({ at, p, fisher: [x1, n1, x2, n2] });
  }

  /**
   * A key's values then (`b`) and now (`a`): 0/1 on both sides as proportions, else Welch's test,
   * screened on its statistic from the running moments; a key one side lacks, or that varies on
   * neither side, has no test.
   */
  scores(into: Measure, at: number, key: string, b: Moments, a: Moments): void {
    if (b.n === 0 || a.n === 0) return;
    if (b.binary && a.binary) {
      this.proportions(into, at, a.ones, a.n, b.ones, b.n);
      return;
    }
    if (b.n < 2 || a.n < 2) return;
    const vb = b.m2 / (b.n - 1) / b.n;
    const va = a.m2 / (a.n - 1) / a.n;
    const se = Math.sqrt(vb + va);
    if (!(se > 0)) return;
    into.tested++;
    const t = (a.mean - b.mean) / se;
    if (Math.abs(t) < this.zCritical) return;
    const df = (vb + va) ** 2 / (vb ** 2 / (b.n - 1) + va ** 2 / (a.n - 1));
    const whole = Math.ceil(df);
    let critical = this.tCriticalAt.get(whole);
    if (critical === undefined) this.tCriticalAt.set(whole, (critical = tCritical(this.alpha, whole)));
    if (Math.abs(t) < critical) return;
    // Screened on the running moments; finish() computes it again from the values themselves.
    const p = welchP({ delta: a.mean - b.mean, se, t, df });
    if (p < this.alpha * (1 + 1e-9)) into.candidates.push({ at, p, welchKey: key });
  }

  finish(m: Screened, before: readonly TestOutcome[], after: readonly TestOutcome[]): Omit<TestMeasure, "pAdjusted" | "verdict"> | null {
    if (m.fisher) {
      const [x1, n1, x2, n2] = m.fisher;
      const ci = newcombeDiffCi(x1, n1, x2, n2)!;
      return { method: METHODS.testPassRate, baseline: x2 / n2, current: x1 / n1, delta: x1 / n1 - x2 / n2, ci: [ci[0], ci[1]], p: m.p };
    }
    const key = m.welchKey!;
    const valuesOf = (runs: readonly TestOutcome[]) => runs.flatMap((r) => (r.scores[key] === undefined ? [] : [r.scores[key]!]));
    const [b, a] = [valuesOf(before), valuesOf(after)];
    const s = welchStatistic(b, a);
    if (!s) return null;
    const ci = welchCi(s);
    return { method: METHODS.testScores, baseline: mean(b), current: mean(a), delta: s.delta, ci: [ci[0], ci[1]], p: welchP(s) };
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
  // The keys any compared test scored, once (a suite has a few): an example without one has no values of it.
  const keys = new Set<string>();
  for (const id of ids) for (const o of now.get(id)!) for (const k in o.scores) keys.add(k);
  const measure = (): Measure => ({ tested: 0, candidates: [] });
  const pass = measure();
  const byKey = new Map([...keys].map((k) => [k, measure()]));
  const before = new Moments();
  const after = new Moments();
  ids.forEach((id, at) => {
    const a = now.get(id)!;
    const b = then.get(id)!;
    let x1 = 0;
    let x2 = 0;
    for (const r of a) if (r.passed) x1++;
    for (const r of b) if (r.passed) x2++;
    screen.proportions(pass, at, x1, a.length, x2, b.length);
    for (const key of keys) {
      before.reset();
      after.reset();
      for (const r of b) if (r.scores[key] !== undefined) before.add(r.scores[key]!);
      for (const r of a) if (r.scores[key] !== undefined) after.add(r.scores[key]!);
      screen.scores(byKey.get(key)!, at, key, before, after);
    }
  });
  // Adjusted per measure over the tests compared on it; only a p below alpha can come out below it.
  const changedMeasures = new Map<number, Array<[string, TestMeasure]>>();
  for (const [name, m] of [["pass", pass] as const, ...[...byKey].map(([k, m]) => [`score:${k}`, m] as const)]) {
    for (const [c, q] of adjustedBelow(m.candidates, m.tested, alpha)) {
      const done = screen.finish(c, then.get(ids[c.at]!)!, now.get(ids[c.at]!)!);
      if (!done) continue;
      const word = verdict(done.delta, done.ci, q, alpha);
      if (word === "unchanged") continue;
      const changed = changedMeasures.get(c.at) ?? [];
      changed.push([name, { ...done, pAdjusted: q, verdict: word }]);
      changedMeasures.set(c.at, changed);
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
