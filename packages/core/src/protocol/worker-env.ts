// The environment variables through which the main process hands a run to its workers. Both runners
// spawn workers after the run starts, and workers inherit the main process's environment.
export const WORKER_ENV = {
  url: "TALLY_COLLECTOR_URL",
  token: "TALLY_RUN_TOKEN",
  runKey: "TALLY_RUN_KEY",
  dataset: "TALLY_DATASET",
  prefix: "TALLY_EXPERIMENT_PREFIX",
  flushTimeout: "TALLY_FLUSH_TIMEOUT_MS",
  /** The run's trials (the `trials` option or TALLY_TRIALS, resolved): an integer ≥ 1. */
  trials: "TALLY_RUN_TRIALS",
  /** The dataset of tests that name none (LANGSMITH_TEST_SUITE, resolved). */
  fallbackDataset: "TALLY_RUN_FALLBACK_DATASET",
} as const;

/**
 * Test tracking is on unless the user turned it off the way `langsmith/vitest` users do. Off, Tally
 * starts nothing: no run in the main process, no runtime (and no langsmith) in the workers.
 */
export function trackingEnabled(env: Record<string, string | undefined> = process.env): boolean {
  return env.LANGSMITH_TEST_TRACKING !== "false";
}
