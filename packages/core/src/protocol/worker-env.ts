// The environment variables through which the main process hands a run to its workers. Both runners
// spawn workers after the run starts, and workers inherit the main process's environment.
export const WORKER_ENV = {
  url: "TALLY_COLLECTOR_URL",
  token: "TALLY_RUN_TOKEN",
  runKey: "TALLY_RUN_KEY",
  dataset: "TALLY_DATASET",
  prefix: "TALLY_EXPERIMENT_PREFIX",
  flushTimeout: "TALLY_FLUSH_TIMEOUT_MS",
} as const;
