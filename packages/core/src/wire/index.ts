// Public surface of `@tally/core/wire`: LangSmith's wire formats as Tally reads them (run, example
// and feedback payloads, multipart ingest bodies, request bodies and their Content-Encoding, ids),
// for the package that serves and stores them (@tally/store). Pure functions and types, no I/O.
export type { RunRecord, RunOp, SpooledAttachment, FeedbackRecord, ExampleRecord } from "./types.js";
export { isUuid, uuid4, uuid7 } from "./ids.js";
export { isRecord } from "./json-object.js";
export {
  RUN_PAYLOAD_FIELDS,
  RunPayloadError,
  MultipartError,
  normalizeRun,
  flattenRunCreate,
  parseRunsMultipart,
  parseRunsBatch,
  normalizeFeedback,
  mergeRun,
} from "./runs.js";
export type { RunAttachment, ParsedRunsMultipart } from "./runs.js";
export { ExamplePayloadError, parseExampleUploads, parseExampleUpdates, exampleUploadFromJson, exampleUpdateFromJson } from "./examples.js";
export type { ExampleUpload, ExampleUpdate, ExampleAttachment, AttachmentsOperations } from "./examples.js";
export { BodyError, DEFAULT_BODY_LIMIT_BYTES, decodeBody, parseJsonBody, contentEncodings } from "./body.js";
export type { BodySizes } from "./body.js";
export { ZSTD_AVAILABLE } from "./content-encoding.js";
