// @tally/core: the runner-agnostic parts of Tally. The runner packages build on these.
export { startTallyRun, type TallyRun, type FinishedRun, type StartOptions } from "./run/tally-run.js";
export { resolveOptions, trackingEnabled, type TallyOptions, type ResolvedOptions } from "./run/options.js";
export { WORKER_ENV } from "./protocol/worker-env.js";
export { renderReport, renderRunEnd, deliveryLine, colors, type RunEndContext } from "./report/render.js";
export { reconcile, type ReportedTest, type RunSummary, type ExperimentSummary } from "./report/reconcile.js";
export { experimentIdentity, exampleId } from "./identity/experiment.js";
export { objectHash } from "./identity/example-hash.js";
export { deriveRunKey } from "./identity/run-key.js";
export type { AckedTest, FeedbackScore, TrackedTest, WorkerAck } from "./protocol/tracked-test.js";
