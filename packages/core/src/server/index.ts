// Public surface of `@tally/core/server`: the embedded LangSmith-compatible server and its store.
export { startServer, handler, createRouter } from "./app.js";
export type { HandlerOptions, ServerOptions, ServerStats, RunningServer, TallyRequestListener } from "./app.js";
export { Store } from "./store.js";
export { StoreError, LOCAL_TENANT_ID } from "./store/db.js";
export { SERVER_VERSION } from "./routes/info.js";
export { DEFAULT_SESSION_NAME } from "./store/runs.js";
export type { Run, RunQuery, RunPage, RunStats, ApplyResult } from "./store/runs.js";
export type { Dataset, DatasetCreate, DatasetFilter, DatasetVersion } from "./store/datasets.js";
export type { Example, ExampleFilter, ExamplesWritten } from "./store/examples.js";
export type { Session, SessionCreate, SessionPatch, SessionFilter, SessionStats } from "./store/sessions.js";
export type { Feedback, FeedbackFilter, FeedbackStats, FeedbackKeyStats } from "./store/feedback.js";
export { normalizeTime, nowIso } from "./time.js";
