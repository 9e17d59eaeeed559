// The shapes the statistics module hands back and takes in.

/** A confidence interval, low end first. */
export type Interval = readonly [lo: number, hi: number];

/** What a report is seeded with: a number (a safe integer) or a string such as an experiment id. */
export type Seed = number | string;

/** Options of the resampling methods (bootstrap intervals and permutation p-values). */
export interface ResampleOptions {
  /** Same values and seed give the same numbers, run after run. */
  seed: Seed;
  /** Bootstrap resamples, and Monte Carlo sign flips when the permutation test is not exact. Default 2000. */
  resamples?: number;
  /** Coverage of the interval, between 0 and 1. Default 0.95. */
  confidence?: number;
}

/** A paired comparison of per-example values: current minus baseline. */
export interface PairedResult {
  /** Mean of current − baseline over the examples. */
  delta: number;
  /** Percentile bootstrap interval of `delta` (examples resampled in pairs). */
  ci: Interval;
  /** Two-sided p-value of the paired sign-flip permutation test. */
  p: number;
}

/** What a comparison concludes. */
export type Verdict = "regressed" | "improved" | "unchanged";
