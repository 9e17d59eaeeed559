// Example upload formats of the langsmith SDK, turned into records:
// - multipart `POST|PATCH /v1/platform/datasets/:id/examples`: part `<exId>` holds
//   `{created_at?, metadata?, split?, source_run_id?, …}`, then `<exId>.inputs`, `<exId>.outputs`,
//   `<exId>.attachment.<name>` (bytes) and, on PATCH, `<exId>.attachments_operations`.
//   The SDK builds these with FormData + Blob, so every part carries `filename="blob"`.
// - JSON `POST /examples`, `POST /examples/bulk`, `PATCH /examples/:id`.
// Pure functions: no I/O, no clock.
import { isRecord } from "./json-object.js";
import type { ExampleRecord } from "./types.js";
import { MultipartError, parseMultipart, partJson } from "./multipart.js";

export interface ExampleAttachment {
  name: string;
  contentType: string;
  /** A view into the request body. */
  data: Buffer;
}

/** `{rename?: {old: new}, retain?: [names]}` as sent on PATCH. */
export interface AttachmentsOperations {
  rename?: Record<string, string>;
  retain?: string[];
}

/** An example to create (or overwrite) — inputs default to `{}` when the upload has none. */
export interface ExampleUpload extends ExampleRecord {
  source_run_id?: string | null;
  attachments?: ExampleAttachment[];
}

/** A partial example update: only the fields that were sent are present. */
export interface ExampleUpdate {
  id: string;
  dataset_id: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown> | null;
  metadata?: Record<string, unknown> | null;
  split?: string | string[] | null;
  attachments?: ExampleAttachment[];
  attachments_operations?: AttachmentsOperations;
}

/** A structurally invalid example payload; servers answer 422. */
export class ExamplePayloadError extends Error {
  override name = "ExamplePayloadError";
}

function objectOrNull(v: unknown, what: string): Record<string, unknown> | null {
  if (v === null) return null;
  if (!isRecord(v)) throw new ExamplePayloadError(`${what} must be a JSON object`);
  return v;
}

function splitOf(v: unknown, id: string): string | string[] | null {
  if (v === null || typeof v === "string") return v;
  if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v as string[];
  throw new ExamplePayloadError(`example ${id}: split must be a string or an array of strings`);
}

interface Grouped {
  body?: Record<string, unknown>;
  inputs?: unknown;
  outputs?: unknown;
  attachments: ExampleAttachment[];
  attachmentsOperations?: unknown;
}

/** Groups the parts of a multipart examples body by example id, in first-seen order. */
function groupParts(body: Buffer, contentType: string): Map<string, Grouped> {
  const groups = new Map<string, Grouped>();
  const get = (id: string): Grouped => {
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { attachments: [] }));
    return g;
  };
  for (const part of parseMultipart(body, contentType)) {
    const dot = part.name.indexOf(".");
    const id = dot < 0 ? part.name : part.name.slice(0, dot);
    const field = dot < 0 ? "" : part.name.slice(dot + 1);
    if (id === "") throw new MultipartError(`part "${part.name}" has no example id`);
    const g = get(id);
    if (field === "") {
      const v = partJson(part);
      if (!isRecord(v)) throw new ExamplePayloadError(`part "${part.name}" must be a JSON object`);
      g.body = v;
    } else if (field === "inputs") g.inputs = partJson(part);
    else if (field === "outputs") g.outputs = partJson(part);
    else if (field === "attachments_operations") g.attachmentsOperations = partJson(part);
    else if (field.startsWith("attachment.")) {
      g.attachments.push({
        name: field.slice("attachment.".length),
        contentType: (part.contentType ?? "application/octet-stream").replace(/;\s*length=\d+/i, "").trim(),
        data: part.data,
      });
    } else throw new ExamplePayloadError(`unknown example part "${part.name}"`);
  }
  return groups;
}

/** Parses a multipart `POST …/datasets/:id/examples` body into examples to create. */
export function parseExampleUploads(body: Buffer, contentType: string, datasetId: string): ExampleUpload[] {
  return [...groupParts(body, contentType)].map(([id, g]) =>
    exampleUploadFromJson({ ...g.body, id, inputs: g.inputs ?? {}, outputs: g.outputs, attachments: g.attachments }, datasetId),
  );
}

/** Parses a multipart `PATCH …/datasets/:id/examples` body into partial updates. */
export function parseExampleUpdates(body: Buffer, contentType: string, datasetId: string): ExampleUpdate[] {
  return [...groupParts(body, contentType)].map(([id, g]) =>
    exampleUpdateFromJson(
      { ...g.body, id, inputs: g.inputs, outputs: g.outputs, attachments: g.attachments, attachments_operations: g.attachmentsOperations },
      datasetId,
    ),
  );
}

/**
 * Validates one JSON example create (`POST /examples` shape, or a grouped multipart example).
 * `defaultDatasetId` is the dataset from the URL; a body `dataset_id` wins when there is none.
 */
export function exampleUploadFromJson(value: unknown, defaultDatasetId?: string): ExampleUpload {
  if (!isRecord(value)) throw new ExamplePayloadError("example must be a JSON object");
  const id = value.id;
  if (typeof id !== "string" || id === "") throw new ExamplePayloadError("example has no id");
  const datasetId = defaultDatasetId ?? value.dataset_id;
  if (typeof datasetId !== "string" || datasetId === "") throw new ExamplePayloadError(`example ${id} has no dataset_id`);
  const out: ExampleUpload = {
    id,
    dataset_id: datasetId,
    inputs: objectOrNull(value.inputs ?? {}, `example ${id}: inputs`) ?? {},
  };
  if (value.outputs !== undefined) out.outputs = objectOrNull(value.outputs, `example ${id}: outputs`);
  if (value.metadata !== undefined) out.metadata = objectOrNull(value.metadata, `example ${id}: metadata`);
  if (value.split !== undefined) out.split = splitOf(value.split, id);
  if (typeof value.created_at === "string") out.created_at = value.created_at;
  if (typeof value.source_run_id === "string") out.source_run_id = value.source_run_id;
  if (isAttachmentList(value.attachments)) out.attachments = value.attachments;
  return out;
}

/** Only parsed multipart parts carry attachments; JSON bodies cannot hold bytes, so theirs are ignored. */
function isAttachmentList(v: unknown): v is ExampleAttachment[] {
  return Array.isArray(v) && v.length > 0 && v.every((a) => isRecord(a) && Buffer.isBuffer(a.data) && typeof a.name === "string");
}

/** Validates one JSON example update (`PATCH /examples/:id` shape, or a grouped multipart example). */
export function exampleUpdateFromJson(value: unknown, defaultDatasetId?: string): ExampleUpdate {
  if (!isRecord(value)) throw new ExamplePayloadError("example update must be a JSON object");
  const id = value.id;
  if (typeof id !== "string" || id === "") throw new ExamplePayloadError("example update has no id");
  const datasetId = typeof value.dataset_id === "string" && value.dataset_id !== "" ? value.dataset_id : defaultDatasetId;
  if (!datasetId) throw new ExamplePayloadError(`example ${id} has no dataset_id`);
  const out: ExampleUpdate = { id, dataset_id: datasetId };
  if (value.inputs !== undefined && value.inputs !== null) out.inputs = objectOrNull(value.inputs, `example ${id}: inputs`) ?? {};
  if (value.outputs !== undefined) out.outputs = objectOrNull(value.outputs, `example ${id}: outputs`);
  if (value.metadata !== undefined) out.metadata = objectOrNull(value.metadata, `example ${id}: metadata`);
  if (value.split !== undefined) out.split = splitOf(value.split, id);
  if (isAttachmentList(value.attachments)) out.attachments = value.attachments;
  const ops = value.attachments_operations;
  if (ops !== undefined && ops !== null) {
    const o = isRecord(ops) ? ops : undefined;
    const renameOk = o?.rename === undefined || (isRecord(o.rename) && Object.values(o.rename).every((v) => typeof v === "string"));
    const retainOk = o?.retain === undefined || (Array.isArray(o.retain) && o.retain.every((v: unknown) => typeof v === "string"));
    if (!o || !renameOk || !retainOk) {
      throw new ExamplePayloadError(`example ${id}: attachments_operations must be {rename?: {old: new}, retain?: [names]}`);
    }
    out.attachments_operations = ops as AttachmentsOperations;
  }
  return out;
}
