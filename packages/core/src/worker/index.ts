// @tally/core/worker: what runs inside a test worker. No imports of a runner or of langsmith here:
// both are handed in by the runner's setup file, from the user's own project.
export { installWorker, getRuntime, type WorkerRuntime } from "./runtime.js";
export { createLsApi, type RunnerBinding, type TestEndInfo } from "./ls-api.js";
export { wrapRunnerMethods } from "./wrap-runner.js";
export { lsMatchers } from "./matchers.js";
// Whether a runner's setup installs the runtime at all (off: the `ls` API runs on the runner alone).
export { trackingEnabled } from "../protocol/worker-env.js";
export { cacheIgnoredWithoutTracking } from "../cache/settings.js";
export type * from "./ls-types.js";
export type { LangsmithModules } from "./langsmith-types.js";
