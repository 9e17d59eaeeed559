// @tally/core: the runner-agnostic parts of Tally. The runner packages build on these.
export { startTallyRun, type TallyRun, type FinishedRun, type StartOptions } from "./run/tally-run.js";
export { resolveOptions, trackingEnabled, type TallyOptions, type ResolvedOptions } from "./run/options.js";
export { WORKER_ENV } from "./protocol/worker-env.js";
export { renderReport, renderRunEnd, deliveryLine, colors, type RunEndContext } from "./report/render.js";
export { reconcile, summarizeMerged, type ReportedTest, type RunSummary, type ExperimentSummary } from "./report/reconcile.js";
export { joinBinding, type RunBinding, type BoundFile, type BoundTest } from "./report/binding.js";
export { mergedRunEnd, type RunEnd } from "./report/run-end.js";
export {
  SINKS,
  runSinks,
  terminalSink,
  junitPropertySink,
  JUNIT_PROPERTY,
  type RunSink,
  type SinkContext,
  type SinkResult,
  type Terminal,
} from "./report/sinks/index.js";
export { outcomesOf, type TestOutcome } from "./compare/outcomes.js";
export { resolveBaseline, BaselineUnavailable, type BaselineQuery } from "./compare/baseline.js";
export {
  APPROVED_BASELINE_KEY,
  approveBaseline,
  approvedBaselineOf,
  approvedBaselines,
  findExperimentToApprove,
  type ApprovedBaseline,
  type Approved,
} from "./compare/approved-baseline.js";
export { openConfiguredBackend } from "./run/backend.js";
export {
  compareOutcomes,
  type Comparison,
  type ComparedTest,
  type DiffOptions,
  type ScoreChange,
  type ScoreDelta,
} from "./compare/diff.js";
export { validateGates, judgeGates, type GateOptions, type GateResult, type GatedExperiment } from "./compare/gates.js";
export {
  isTallyReport,
  type TallyReport,
  type TallyReportV1,
  type TallyReportV2,
  type ReportCi,
  type ReportExample,
  type ReportRun,
  type ReportGit,
  type ReportExperiment,
  type ReportDelivered,
  type ReportNeverRun,
  type ReportScore,
  type ReportBaseline,
  type ReportChange,
  type ReportTest,
  type ReportTestStatus,
  type ReportGate,
  type ReportTokens,
  type ReportCost,
  type ReportModelUsage,
} from "./report/json-report.js";
export { experimentIdentity, exampleId } from "./identity/experiment.js";
export { objectHash } from "./identity/example-hash.js";
export { deriveRunKey } from "./identity/run-key.js";
export type { AckedTest, FeedbackScore, TrackedTest, WorkerAck } from "./protocol/tracked-test.js";
export { DEFAULT_PORTS } from "./ports.js";
export { flushSpools } from "./run/flush.js";
export { BackendError } from "./backend/port.js";
export { experimentInfo, newestFirst, type SessionShape } from "./backend/experiment-info.js";
export { datasetInfo, withMetadataKeys, type DatasetShape } from "./backend/dataset-info.js";
export type {
  Backend,
  OpenLocalBackend,
  DatasetRef,
  DatasetInfo,
  ExperimentOpen,
  OpenedExperiment,
  ExperimentClose,
  ExperimentInfo,
  ExperimentRecords,
  RunsBatch,
  RunsDelivered,
  WireStats,
  ForwardRequest,
  ForwardReply,
} from "./backend/port.js";
export { reportMerge, type ReportMergeArgs } from "./run/report-merge.js";
export { mergeReports, type ShardReport } from "./report/ci/merge.js";
export { buildReport, spreadOf } from "./report/ci/build-report.js";
export { passRateCiOf } from "./report/spread.js";
export { jobSummaryMarkdown, workflowCommands } from "./report/ci/markdown.js";
