// The methods' names as a report states them, beside the numbers they produced.

export const METHODS = {
  /** Pass rate, one trial per example: the p-value of the paired pass/fail outcomes. */
  passRate: "exact McNemar (two-sided)",
  /** Pass rate over several trials per example: per-example pass rates compared in pairs. */
  passRateTrials: "paired permutation test",
  /** Scores: per-example values compared in pairs. */
  scores: "paired bootstrap (percentile), sign-flip permutation p",
  /** One test's pass rate over its trials against the baseline's trials (independent samples). */
  testPassRate: "Fisher's exact test, Newcombe hybrid score interval",
  /** One test's score over its trials against the baseline's trials (independent samples). */
  testScores: "Welch's t-test",
  /** The interval of one experiment's pass rate. */
  passRateInterval: "Wilson score interval",
  /** The interval of one experiment's mean score. */
  scoreInterval: "percentile bootstrap of the mean",
} as const;
