// Run ingestion formats of the langsmith SDK, turned into RunOp[]:
// - `POST /runs/multipart`: parts `post.<id>` / `patch.<id>` hold the run minus its big fields, which
//   come as `post.<id>.inputs|outputs|events|extra|error|serialized`; binary attachments come as
//   `attachment.<id>.<name>`; `feedback.<id>` parts hold feedback (the Python SDK, and the JS SDK
//   from 0.11.1, which batches `createFeedback` with the runs when it has a run and trace id).
// - `POST /runs/batch`: JSON `{post: RunCreate[], patch: RunUpdate[]}`.
// - `POST /runs` and `PATCH /runs/:id`: one JSON run.
// Pure functions: no I/O, no clock.
import { isRecord } from "./json-object.js";
import { isUuid } from "./ids.js";
import type { FeedbackRecord, RunOp, RunRecord } from "./types.js";
import { MultipartError, parseMultipart, partJson } from "./multipart.js";

export { MultipartError };

/** Fields the SDK splits out of the main multipart part into their own parts. */
export const RUN_PAYLOAD_FIELDS = ["inputs", "outputs", "events", "extra", "error", "serialized"] as const;

/** A binary attachment of a run. The bytes are a view into the request body. */
export interface RunAttachment {
  runId: string;
  name: string;
  contentType: string;
  data: Buffer;
}

/**
 * Puts each attachment on an op of its run from the same body (the create when there is one), so
 * that it is spooled and sent with that op. Returns the attachments whose run is not in the body.
 */
export function attachToOps(ops: RunOp[], attachments: RunAttachment[]): RunAttachment[] {
  const orphans: RunAttachment[] = [];
  for (const a of attachments) {
    const op = ops.find((o) => o.kind === "create" && o.run.id === a.runId) ?? ops.find((o) => o.run.id === a.runId);
    if (!op) {
      orphans.push(a);
      continue;
    }
    (op.attachments ??= []).push({ name: a.name, contentType: a.contentType, data: a.data.toString("base64") });
  }
  return orphans;
}

export interface ParsedRunsMultipart {
  /** Creates and updates in body order; a create and patch of one id stay two ops (see mergeRun). */
  ops: RunOp[];
  /** `feedback.<id>` parts: the same object the SDK would POST to /feedback. */
  feedback: FeedbackRecord[];
  attachments: RunAttachment[];
  /** Parts that were skipped, for logging. */
  warnings: string[];
}

/** A structurally invalid run payload; servers answer 422. */
export class RunPayloadError extends Error {
  override name = "RunPayloadError";
}

/**
 * Validates and cleans one run object from any ingest path. `idHint` is the id from a part name or
 * URL, used when the body has none. Drops `child_runs` (the SDK always sends `[]`; nested creates
 * are flattened by `flattenRunCreate`) and `attachments` (bytes travel in their own parts; in JSON
 * paths they arrive as useless `{"0":…}` objects).
 */
export function normalizeRun(value: unknown, idHint?: string): RunRecord {
  if (!isRecord(value)) throw new RunPayloadError(`run payload must be a JSON object${idHint ? ` (run ${idHint})` : ""}`);
  const { child_runs: _children, attachments: _attachments, ...rest } = value;
  const id = typeof rest.id === "string" && rest.id !== "" ? rest.id : idHint;
  if (!id) throw new RunPayloadError("run payload has no id");
  // LangSmith rejects non-uuid run ids too; catching it here keeps junk out of every store.
  if (!isUuid(id)) throw new RunPayloadError(`run id must be a uuid: ${String(id).slice(0, 80)}`);
  if (idHint && rest.id !== undefined && rest.id !== idHint) {
    throw new RunPayloadError(`run id ${String(rest.id)} does not match ${idHint}`);
  }
  return { ...rest, id } as RunRecord;
}

/** A create with nested `child_runs` (deprecated `postRun(false)`) becomes one create per run. */
export function flattenRunCreate(value: unknown, parentId?: string): RunRecord[] {
  if (!isRecord(value)) throw new RunPayloadError("run payload must be a JSON object");
  const run = normalizeRun(value);
  if (parentId && run.parent_run_id == null) run.parent_run_id = parentId;
  const out = [run];
  const children = value.child_runs;
  if (Array.isArray(children)) {
    for (const child of children) {
      if (isRecord(child) && typeof child.id === "string") out.push(...flattenRunCreate(child, run.id));
    }
  }
  return out;
}

/** Parses a `/runs/multipart` body (already decoded from zstd/gzip). Throws MultipartError/RunPayloadError. */
export function parseRunsMultipart(body: Buffer, contentType: string): ParsedRunsMultipart {
  const parts = parseMultipart(body, contentType);
  const ops: RunOp[] = [];
  const byKey = new Map<string, RunOp>(); // "post.<id>" → op, so field parts find their run
  const feedback: FeedbackRecord[] = [];
  const attachments: RunAttachment[] = [];
  const warnings: string[] = [];

  const opFor = (method: string, id: string): RunOp => {
    const key = `${method}.${id}`;
    let op = byKey.get(key);
    if (!op) {
      if (!isUuid(id)) throw new RunPayloadError(`run id must be a uuid: ${String(id).slice(0, 80)}`);
      // A field part before (or without) its main part: start the run from the id alone.
      op = { kind: method === "post" ? "create" : "update", run: { id } };
      byKey.set(key, op);
      ops.push(op);
    }
    return op;
  };

  for (const part of parts) {
    const segs = part.name.split(".");
    const head = segs[0];
    if ((head === "post" || head === "patch") && segs.length >= 2) {
      const id = segs[1]!;
      if (segs.length === 2) {
        const run = normalizeRun(partJson(part), id);
        const op = opFor(head, id);
        // Field parts seen earlier stay; main-part keys fill in around them.
        op.run = { ...run, ...fieldsOnly(op.run) };
      } else if (segs.length === 3 && (RUN_PAYLOAD_FIELDS as readonly string[]).includes(segs[2]!)) {
        opFor(head, id).run[segs[2]!] = partJson(part);
      } else {
        warnings.push(`skipped unknown part "${part.name}"`);
      }
    } else if (head === "attachment" && segs.length >= 3) {
      if (!isUuid(segs[1])) {
        warnings.push(`skipped attachment part "${part.name}": run id is not a uuid`);
        continue;
      }
      attachments.push({
        runId: segs[1]!,
        // Attachment names may not contain dots per the SDK, but keep any rest intact.
        name: segs.slice(2).join("."),
        contentType: (part.contentType ?? "application/octet-stream").replace(/;\s*length=\d+/i, "").trim(),
        data: part.data,
      });
    } else if (head === "feedback" && segs.length === 2) {
      feedback.push(normalizeFeedback(partJson(part), segs[1]!));
    } else {
      warnings.push(`skipped unknown part "${part.name}"`);
    }
  }
  return { ops, feedback, attachments, warnings };
}

function fieldsOnly(run: RunRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of RUN_PAYLOAD_FIELDS) if (run[f] !== undefined) out[f] = run[f];
  return out;
}

/** Parses a `/runs/batch` body: `{post?: RunCreate[], patch?: RunUpdate[]}`. */
export function parseRunsBatch(json: unknown): RunOp[] {
  if (!isRecord(json)) throw new RunPayloadError("batch body must be an object {post: [...], patch: [...]}");
  const ops: RunOp[] = [];
  for (const [key, kind] of [
    ["post", "create"],
    ["patch", "update"],
  ] as const) {
    const list = json[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new RunPayloadError(`"${key}" must be an array`);
    for (const item of list) {
      if (kind === "create") for (const run of flattenRunCreate(item)) ops.push({ kind, run });
      else ops.push({ kind, run: normalizeRun(item) });
    }
  }
  return ops;
}

/** Validates a feedback object (from a multipart part or `POST /feedback`). */
export function normalizeFeedback(value: unknown, idHint?: string): FeedbackRecord {
  if (!isRecord(value)) throw new RunPayloadError("feedback payload must be a JSON object");
  const id = typeof value.id === "string" && value.id !== "" ? value.id : idHint;
  if (!id) throw new RunPayloadError("feedback payload has no id");
  if (typeof value.key !== "string" || value.key === "") throw new RunPayloadError(`feedback ${id} has no key`);
  return { ...value, id, key: value.key } as FeedbackRecord;
}

const isSet = (v: unknown): boolean => v !== undefined && v !== null;

/**
 * Folds one op into what is known about a run, whatever order they arrive in:
 * - an update overrides every field it sets (null/undefined never erase a value);
 * - a create only fills fields still missing, so a create that arrives after its patch (or a
 *   retried create after the run finished) cannot roll back `end_time`, `outputs` or `error`;
 * - `extra` is merged one level deep and `extra.metadata` key by key, with the same precedence.
 */
export function mergeRun(existing: RunRecord | undefined, incoming: RunOp): RunRecord {
  if (!existing) return { ...incoming.run };
  const updateWins = incoming.kind === "update";
  const [low, high] = updateWins ? [existing, incoming.run] : [incoming.run, existing];
  const out: RunRecord = { ...low };
  for (const [k, v] of Object.entries(high)) if (isSet(v)) out[k] = v;
  const extra = mergeExtra(low.extra, high.extra);
  if (extra !== undefined) out.extra = extra;
  out.id = existing.id;
  return out;
}

function mergeExtra(low: unknown, high: unknown): Record<string, unknown> | undefined {
  if (!isRecord(low)) return isRecord(high) ? high : undefined;
  if (!isRecord(high)) return low;
  const merged: Record<string, unknown> = { ...low, ...high };
  if (isRecord(low.metadata) || isRecord(high.metadata)) {
    merged.metadata = { ...(isRecord(low.metadata) ? low.metadata : {}), ...(isRecord(high.metadata) ? high.metadata : {}) };
  }
  return merged;
}

/**
 * Merges ops on the same run id into one op per id (first-seen order). The result is a create when
 * any op for that id was a create, mirroring how the SDK folds a create and patch into one `post`.
 */
export function coalesceRunOps(ops: RunOp[]): RunOp[] {
  const byId = new Map<string, RunOp>();
  for (const op of ops) {
    const prev = byId.get(op.run.id);
    if (!prev) byId.set(op.run.id, { kind: op.kind, run: { ...op.run } });
    else byId.set(op.run.id, { kind: prev.kind === "create" || op.kind === "create" ? "create" : "update", run: mergeRun(prev.run, op) });
  }
  return [...byId.values()];
}
