import { type Interval, mcnemarExact, METHODS, type PairedResult, pairedBootstraps, type Verdict, verdict } from "../stats/index.js";
import { byText, groupByExample, type TestOutcome } from "./outcomes.js";

// Pure: the noise-aware comparison of one experiment with its baseline. The examples both sides ran
// are paired (by example id); a test's value is its trials' pass rate (or mean score), so repetitions
// count once per example. Per measure: both sides' means over the paired examples, the change, its
// bootstrap interval (seeded with the experiment's name), a p-value and the verdict at `alpha`.
// Examples only one side ran take no part in the statistics; they are counted and named.

/** One measure (the pass rate or a feedback key) compared over the paired examples. */
export interface MeasureVerdict {
  /** How `p` was computed (METHODS). */
  method: string;
  /** The paired examples. */
  n: number;
  baseline: number;
  current: number;
  /** current − baseline. */
  delta: number;
  /** Percentile bootstrap interval of `delta`. */
  ci: [lo: number, hi: number];
  p: number;
  verdict: Verdict;
}

/** Examples only one side ran: the first ids (sorted) and how many there are. */
export interface Unmatched {
  baselineOnly: string[];
  currentOnly: string[];
  baselineOnlyCount: number;
  currentOnlyCount: number;
}

export interface ExperimentVerdicts {
  /** The methods behind the p-values: of the pass rate (with or without trials) and of the scores. */
  method: { passRate: string; scores: string };
  alpha: number;
  /** null when no example was run by both sides. */
  passRate: MeasureVerdict | null;
  /** Per feedback key scored on both sides of at least one paired example. */
  scores: Record<string, MeasureVerdict>;
  unmatched: Unmatched;
}

export interface VerdictOptions {
  alpha: number;
  /** Seeds the bootstrap and permutation draws: the experiment's name, so a report can be reproduced. */
  seed: string;
  /** Bootstrap resamples (default 1000). */
  resamples?: number;
}

/** At most this many ids are listed of each side's unmatched examples. */
export const MAX_UNMATCHED_LISTED = 50;

interface Example {
  trials: number;
  /** Share of the trials that passed. */
  passRate: number;
  /** Per key, the mean over the trials that have it. */
  scores: Record<string, number>;
}

/** Outcomes by example id (groupByExample), or the outcomes to group. */
export type ExampleGroups = ReadonlyMap<string, readonly TestOutcome[]>;

/** Per key, the mean over the trials that have it: meanOf's numbers, without its per-call sorting and copying (10,000 examples). */
function trialMeans(runs: readonly TestOutcome[]): Record<string, number> {
  if (runs.length === 1) return runs[0]!.scores;
  const sums: Record<string, number> = {};
  const counts: Record<string, number> = {};
  for (const r of runs) {
    for (const k in r.scores) {
      if (!Object.hasOwn(r.scores, k)) continue;
      sums[k] = (sums[k] ?? 0) + r.scores[k]!;
      counts[k] = (counts[k] ?? 0) + 1;
    }
  }
  for (const k in sums) sums[k] = sums[k]! / counts[k]!;
  return sums;
}

function byExample(outcomes: readonly TestOutcome[] | ExampleGroups): Map<string, Example> {
  const out = new Map<string, Example>();
  for (const [id, runs] of Array.isArray(outcomes) ? groupByExample(outcomes) : (outcomes as ExampleGroups)) {
    let passed = 0;
    for (const r of runs) if (r.passed) passed++;
    out.set(id, { trials: runs.length, passRate: passed / runs.length, scores: trialMeans(runs) });
  }
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function measure(
  method: string,
  before: number[],
  after: number[],
  r: PairedResult | null,
  p: number | undefined,
  opts: VerdictOptions,
): MeasureVerdict | null {
  if (!r) return null;
  const ci: Interval = r.ci;
  const pValue = p ?? r.p;
  return {
    method,
    n: before.length,
    baseline: mean(before),
    current: mean(after),
    delta: r.delta,
    ci: [ci[0], ci[1]],
    p: pValue,
    verdict: verdict(r.delta, ci, pValue, opts.alpha),
  };
}

/** Each side is its outcomes, or them grouped by example already (the run groups a baseline while the tests run). */
export function compareVerdicts(
  current: readonly TestOutcome[] | ExampleGroups,
  baseline: readonly TestOutcome[] | ExampleGroups,
  opts: VerdictOptions,
): ExperimentVerdicts {
  const now = byExample(current);
  const then = byExample(baseline);
  const matched = [...now.keys()].filter((id) => then.has(id)).sort(byText);
  const currentOnly = [...now.keys()].filter((id) => !then.has(id)).sort(byText);
  const baselineOnly = [...then.keys()].filter((id) => !now.has(id)).sort(byText);
  const trials = matched.some((id) => now.get(id)!.trials !== 1 || then.get(id)!.trials !== 1);

  const before = matched.map((id) => then.get(id)!.passRate);
  const after = matched.map((id) => now.get(id)!.passRate);
  let p: number | undefined;
  if (!trials) {
    let b = 0;
    let c = 0;
    for (let i = 0; i < matched.length; i++) {
      if (before[i] === 1 && after[i] === 0) b++;
      else if (before[i] === 0 && after[i] === 1) c++;
    }
    p = mcnemarExact(b, c);
  }
  const passMethod = trials ? METHODS.passRateTrials : METHODS.passRate;

  const keys = new Set<string>();
  for (const id of matched) {
    const scores = now.get(id)!.scores;
    const before = then.get(id)!.scores;
    for (const k in scores) if (Object.hasOwn(scores, k) && before[k] !== undefined) keys.add(k);
  }
  const sortedKeys = [...keys].sort(byText);
  const keyValues = sortedKeys.map((key) => {
    const b: number[] = [];
    const a: number[] = [];
    for (const id of matched) {
      const x = then.get(id)!.scores[key];
      const y = now.get(id)!.scores[key];
      if (x === undefined || y === undefined) continue;
      b.push(x);
      a.push(y);
    }
    return { baseline: b, current: a };
  });
  // The pass rate and every key at once: each result is the one it would have alone, and the measures
  // share the drawing of their resamples' indices (the costly part at 10,000 examples).
  const [passResult, ...keyResults] = pairedBootstraps([{ baseline: before, current: after }, ...keyValues], {
    seed: opts.seed,
    ...(opts.resamples ? { resamples: opts.resamples } : {}),
  });
  const passRate = measure(passMethod, before, after, passResult ?? null, p, opts);
  const scores: Record<string, MeasureVerdict> = {};
  sortedKeys.forEach((key, i) => {
    const m = measure(METHODS.scores, keyValues[i]!.baseline, keyValues[i]!.current, keyResults[i] ?? null, undefined, opts);
    if (m) scores[key] = m;
  });
  return {
    method: { passRate: passMethod, scores: METHODS.scores },
    alpha: opts.alpha,
    passRate,
    scores,
    unmatched: {
      baselineOnly: baselineOnly.slice(0, MAX_UNMATCHED_LISTED),
      currentOnly: currentOnly.slice(0, MAX_UNMATCHED_LISTED),
      baselineOnlyCount: baselineOnly.length,
      currentOnlyCount: currentOnly.length,
    },
  };
}
