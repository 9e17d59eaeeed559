// Public surface of `@tally/store`: Tally's embedded store on node:sqlite and what serves it — the
// LangSmith-compatible server, the viewer (`tally ui`), and the local backend a run records to when
// there is no API key. node:sqlite is loaded when a store is opened, not when this is imported.

// The local backend (the Backend port of @tally/core, in-process).
export { openLocalBackend, LocalBackend } from "./backend.js";

// The store and its query API (one repository per resource).
export { Store } from "./db/store.js";
export { StoreError, LOCAL_TENANT_ID } from "./db/db.js";
export { DEFAULT_SESSION_NAME } from "./db/runs.js";
export type { Run, RunQuery, RunPage, RunStats, ApplyResult, RootCounts, RootRunQuery, StatusFilter } from "./db/runs.js";
export type { Dataset, DatasetCreate, DatasetFilter, DatasetVersion } from "./db/datasets.js";
export type { Example, ExampleFilter, ExamplesWritten } from "./db/examples.js";
export type { Session, SessionCreate, SessionPatch, SessionFilter, SessionStats } from "./db/sessions.js";
export type { Feedback, FeedbackFilter, FeedbackStats, FeedbackKeyStats, KeyAverage } from "./db/feedback.js";
export { normalizeTime, nowIso } from "./db/time.js";

// The LangSmith-compatible server.
export { startServer, handler, createServerApp, createRouter } from "./server/app.js";
export type { HandlerOptions, ServerOptions, ServerStats, ServerApp, RunningServer, TallyRequestListener } from "./server/app.js";
export type { RequestContext, RouteOptions } from "./server/context.js";
export { SERVER_VERSION } from "./server/routes/info.js";

// The viewer.
export { startUi, uiHandler, createViewerApp, openStore, StoreNotFoundError, DEFAULT_UI_PORT } from "./viewer/index.js";
export type { UiOptions, ViewerOptions, RunningUi } from "./viewer/index.js";
