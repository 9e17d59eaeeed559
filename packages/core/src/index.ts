// @tally/core: the runner-agnostic parts of Tally. The runner packages build on these.
export { startTallyRun, type TallyRun, type FinishedRun, type StartOptions } from "./session/tally-run.js";
export { resolveOptions, trackingEnabled, type TallyOptions, type ResolvedOptions } from "./session/options.js";
export { WORKER_ENV } from "./session/worker-env.js";
export { renderReport, renderRunEnd, deliveryLine, colors, type RunEndContext } from "./report/render.js";
export { reconcile, type ReportedTest, type RunSummary, type ExperimentSummary } from "./report/reconcile.js";
export { experimentIdentity, exampleId } from "./identity/experiment.js";
export { objectHash } from "./identity/example-hash.js";
export { deriveRunKey } from "./identity/run-key.js";
export type { AckedTest, WorkerAck } from "./ledger/ledger.js";
