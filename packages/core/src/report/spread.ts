import { bootstrapMeanCis, passAtK, passHatK, wilson } from "../stats/index.js";
import type { ReportTestStatus } from "./json-report.js";

// Pure: the spread of an experiment's results, not only their means. The pass rate with its Wilson
// interval, each feedback key's mean with a bootstrap interval over examples (trials averaged first,
// so an example's trials are resampled together), and per example its trials with pass@k and pass^k.
// The run's report and `tally report merge` both compute it here, from the report's tests.

/** A test as the spread needs it: the report's test, or the runner's (then without an example). */
export interface SpreadTest {
  name: string;
  status: ReportTestStatus;
  /** The dataset example it ran; a test without one is a group of its own. */
  exampleId: string | null;
  /** Every feedback key but `pass`. */
  scores: Readonly<Record<string, number>>;
}

export type Ci = [lo: number, hi: number];

/** One example's trials (the tests of one example id). */
export interface ExampleSpread {
  exampleId: string | null;
  /** The test's name, without the `, run n` of its repetitions. */
  name: string;
  /** Its tests that ran (passed or failed). */
  trials: number;
  passRate: number | null;
  passRateCi: Ci | null;
  /** With 2 trials or more: pass@k and pass^k at k = trials (did any, did all pass). */
  passAtK?: number;
  passHatK?: number;
}

export interface ExperimentSpread {
  /** The most trials any example has (0 when none ran). */
  trials: number;
  /** Wilson 95 % interval of the pass rate over the tests that ran; null when none ran. */
  passRateCi: Ci | null;
  /** Per feedback key: the bootstrap 95 % interval of its mean over examples; null when none has it. */
  scoreCi: Record<string, Ci | null>;
  /** With 2 trials or more: pass@k and pass^k at k = trials, averaged over the examples with that many. */
  passAtK?: number;
  passHatK?: number;
  examples: ExampleSpread[];
}

const REPETITION = /, run \d+$/;

function ci(i: readonly [number, number] | null): Ci | null {
  return i ? [i[0], i[1]] : null;
}

/** The Wilson 95 % interval of `passed` of `n`; null when n is 0. */
export function passRateCiOf(passed: number, n: number): Ci | null {
  return ci(wilson(passed, n));
}

/** The tests by example id, in the order examples first appear; a test without one stands alone. */
export function groupByExample<T extends SpreadTest>(tests: readonly T[]): T[][] {
  const groups: T[][] = [];
  const byId = new Map<string, T[]>();
  for (const t of tests) {
    if (t.exampleId === null) {
      groups.push([t]);
      continue;
    }
    const g = byId.get(t.exampleId);
    if (g) g.push(t);
    else {
      const fresh = [t];
      byId.set(t.exampleId, fresh);
      groups.push(fresh);
    }
  }
  return groups;
}

function exampleSpread(group: readonly SpreadTest[]): ExampleSpread {
  const ran = group.filter((t) => t.status === "passed" || t.status === "failed");
  const passed = ran.filter((t) => t.status === "passed").length;
  const first = group[0]!;
  const name = group.length > 1 ? first.name.replace(REPETITION, "") : first.name;
  const n = ran.length;
  return {
    exampleId: first.exampleId,
    name,
    trials: n,
    passRate: n > 0 ? passed / n : null,
    passRateCi: passRateCiOf(passed, n),
    ...(n >= 2 ? { passAtK: passAtK(n, passed, n), passHatK: passHatK(n, passed, n) } : {}),
  };
}

/**
 * The spread of one experiment's tests. `seed` (the experiment's name) seeds the bootstrap, so the
 * same tests give the same intervals, run after run and shard merge after shard merge. `neverRun`
 * tests (no result: see reconcile's `NeverRunTest`) count as failed in the pass rate's interval; the
 * per-example trials and pass@k/pass^k are over what ran (a never-run test's example is not known).
 */
export function experimentSpread(tests: readonly SpreadTest[], seed: string, neverRun = 0): ExperimentSpread {
  const groups = groupByExample(tests);
  const examples = groups.map(exampleSpread);
  const ran = tests.filter((t) => t.status === "passed" || t.status === "failed");
  const passed = ran.filter((t) => t.status === "passed").length;
  const keys = [...new Set(tests.flatMap((t) => Object.keys(t.scores)))].sort();
  const columns = keys.map((key) => {
    const perExample: number[] = [];
    for (const g of groups) {
      if (g.length === 1) {
        const v = g[0]!.scores[key];
        if (typeof v === "number" && Number.isFinite(v)) perExample.push(v);
        continue;
      }
      const values: number[] = [];
      for (const t of g) {
        const v = t.scores[key];
        if (typeof v === "number" && Number.isFinite(v)) values.push(v);
      }
      if (values.length > 0) perExample.push(values.sort((a, b) => a - b).reduce((a, b) => a + b, 0) / values.length);
    }
    // Summed and resampled in order of value: the interval does not depend on the order the tests came
    // in (a merge's shards), down to the last bit.
    return perExample.sort((a, b) => a - b);
  });
  // All keys at once: each key's interval is the one it would have alone, and the keys share the
  // drawing of their resamples' indices (the costly part at 10,000 examples).
  const intervals = bootstrapMeanCis(columns, { seed });
  const scoreCi: Record<string, Ci | null> = {};
  keys.forEach((key, i) => {
    scoreCi[key] = ci(intervals[i]);
  });
  const trials = Math.max(0, ...examples.map((e) => e.trials));
  const atK = examples.filter((e) => e.trials === trials && e.passAtK !== undefined);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    trials,
    passRateCi: passRateCiOf(passed, ran.length + neverRun),
    scoreCi,
    ...(trials >= 2 && atK.length > 0 ? { passAtK: mean(atK.map((e) => e.passAtK!)), passHatK: mean(atK.map((e) => e.passHatK!)) } : {}),
    examples,
  };
}
