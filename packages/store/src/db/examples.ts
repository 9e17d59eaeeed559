// Examples: upserted by id (never duplicated), with `modified_at` bumped on every write because
// the official integration pins the experiment's `dataset_version` to the max `modified_at`.
// Splits live in `metadata.dataset_split` (an array) as in LangSmith; an example created without
// a split gets ["base"].
import { type ExampleUpdate, type ExampleUpload, isUuid } from "@tally/core/wire";
import { normalizeTime, nowIso } from "./time.js";
import { type AttachmentRepo, attachmentUrls } from "./attachments.js";
import type { DatasetRepo } from "./datasets.js";
import { type Db, LOCAL_TENANT_ID, fromJson, invalid, isRecord, jsonList, notFound, toJson } from "./db.js";

export interface Example {
  id: string;
  dataset_id: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  metadata: Record<string, unknown> | null;
  created_at: string;
  modified_at: string;
  source_run_id: string | null;
  tenant_id: string;
  attachment_urls: Record<string, { presigned_url: string; s3_url: string; mime_type: string }> | null;
  runs: never[];
}

/** What a comparison of experiments shows of an example (see ExampleRepo.contents). */
export interface ExampleContent {
  id: string;
  dataset_id: string;
  created_at: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
}

export interface ExampleFilter {
  datasetId?: string;
  ids?: string[];
  /** Examples in any of these splits. */
  splits?: string[];
  metadata?: Record<string, unknown>;
  limit?: number;
  offset?: number;
}

export interface ExamplesWritten {
  count: number;
  example_ids: string[];
  /** The dataset version that includes these writes: their max `modified_at`. */
  as_of: string;
}

interface Row {
  id: string;
  dataset_id: string;
  created_at: string;
  modified_at: string;
  inputs: string;
  outputs: string | null;
  metadata: string | null;
  source_run_id: string | null;
}

function splitList(split: string | string[] | null | undefined): string[] | undefined {
  if (split === undefined || split === null) return undefined;
  return typeof split === "string" ? [split] : split;
}

export class ExampleRepo {
  constructor(
    private readonly db: Db,
    private readonly datasets: DatasetRepo,
    private readonly attachments: AttachmentRepo,
  ) {}

  /** Creates or overwrites examples (multipart POST, JSON POST /examples and /examples/bulk). */
  upsert(items: ExampleUpload[]): ExamplesWritten {
    return this.db.tx(() => {
      const ids: string[] = [];
      let asOf = "";
      for (const item of items) {
        if (!isUuid(item.id)) throw invalid(`example id must be a uuid: ${item.id}`);
        if (!this.datasets.get(item.dataset_id)) throw notFound(`Dataset ${item.dataset_id}`);
        const prev = this.db.get<{ created_at: string; metadata: string | null }>(
          "SELECT created_at, metadata FROM examples WHERE id = ?",
          item.id,
        );
        const prevSplit = fromJson<Record<string, unknown> | null>(prev?.metadata, null)?.dataset_split;
        const metadata: Record<string, unknown> = { ...(item.metadata ?? {}) };
        const split = splitList(item.split);
        if (split) metadata.dataset_split = split;
        else if (metadata.dataset_split === undefined) metadata.dataset_split = prevSplit ?? ["base"];
        const now = nowIso();
        this.db.run(
          `INSERT INTO examples (id, dataset_id, created_at, modified_at, inputs, outputs, metadata, source_run_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET dataset_id = excluded.dataset_id, modified_at = excluded.modified_at,
             inputs = excluded.inputs, outputs = excluded.outputs, metadata = excluded.metadata, source_run_id = excluded.source_run_id`,
          item.id,
          item.dataset_id,
          prev?.created_at ?? normalizeTime(item.created_at) ?? now,
          now,
          JSON.stringify(item.inputs ?? {}),
          toJson(item.outputs ?? null),
          JSON.stringify(metadata),
          item.source_run_id ?? null,
        );
        for (const a of item.attachments ?? []) this.attachments.put("example", item.id, a.name, a.contentType, a.data);
        this.datasets.touch(item.dataset_id, now);
        ids.push(item.id);
        asOf = now;
      }
      return { count: ids.length, example_ids: ids, as_of: asOf || nowIso() };
    });
  }

  /** Partial updates (multipart PATCH, JSON PATCH /examples/:id); every id must exist. */
  update(items: ExampleUpdate[]): ExamplesWritten {
    return this.db.tx(() => {
      const ids: string[] = [];
      let asOf = "";
      for (const item of items) {
        const row = this.db.get<Row>("SELECT * FROM examples WHERE id = ?", item.id);
        if (!row) throw notFound(`Example ${item.id}`);
        const datasetId = item.dataset_id ?? row.dataset_id;
        if (datasetId !== row.dataset_id && !this.datasets.get(datasetId)) throw notFound(`Dataset ${datasetId}`);
        const prevMeta = fromJson<Record<string, unknown>>(row.metadata, {});
        let metadata = prevMeta;
        if (item.metadata !== undefined) {
          // New metadata replaces the old, but the split survives unless it is changed too.
          metadata = { ...(item.metadata ?? {}) };
          if (metadata.dataset_split === undefined && prevMeta.dataset_split !== undefined) metadata.dataset_split = prevMeta.dataset_split;
        }
        const split = splitList(item.split);
        if (split) metadata = { ...metadata, dataset_split: split };
        const now = nowIso();
        this.db.run(
          "UPDATE examples SET dataset_id = ?, modified_at = ?, inputs = ?, outputs = ?, metadata = ? WHERE id = ?",
          datasetId,
          now,
          item.inputs !== undefined ? JSON.stringify(item.inputs) : row.inputs,
          item.outputs !== undefined ? toJson(item.outputs) : row.outputs,
          JSON.stringify(metadata),
          item.id,
        );
        if (item.attachments_operations) this.attachments.applyOperations("example", item.id, item.attachments_operations);
        for (const a of item.attachments ?? []) this.attachments.put("example", item.id, a.name, a.contentType, a.data);
        this.datasets.touch(datasetId, now);
        if (datasetId !== row.dataset_id) this.datasets.touch(row.dataset_id, now);
        ids.push(item.id);
        asOf = now;
      }
      return { count: ids.length, example_ids: ids, as_of: asOf || nowIso() };
    });
  }

  /** PUT /datasets/:id/splits — adds the examples to a split, or removes them from it. */
  setSplit(datasetId: string, split: string, ids: string[], remove: boolean): string[] {
    return this.db.tx(() => {
      const done: string[] = [];
      const now = nowIso();
      for (const id of ids) {
        const row = this.db.get<{ metadata: string | null }>(
          "SELECT metadata FROM examples WHERE id = ? AND dataset_id = ?",
          id,
          datasetId,
        );
        if (!row) continue;
        const metadata = fromJson<Record<string, unknown>>(row.metadata, {});
        const current = Array.isArray(metadata.dataset_split) ? (metadata.dataset_split as string[]) : [];
        metadata.dataset_split = remove ? current.filter((s) => s !== split) : [...new Set([...current, split])];
        this.db.run("UPDATE examples SET metadata = ?, modified_at = ? WHERE id = ?", JSON.stringify(metadata), now, id);
        done.push(id);
      }
      if (done.length) this.datasets.touch(datasetId, now);
      return done;
    });
  }

  get(id: string, baseUrl?: string): Example | undefined {
    const row = this.db.get<Row>("SELECT * FROM examples WHERE id = ?", id);
    return row && this.toExample(row, baseUrl);
  }

  list(filter: ExampleFilter = {}, baseUrl?: string): Example[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.datasetId !== undefined) {
      where.push("dataset_id = ?");
      params.push(filter.datasetId);
    }
    if (filter.ids?.length) {
      where.push("id IN (SELECT value FROM json_each(?))");
      params.push(jsonList(filter.ids));
    }
    if (filter.splits?.length) {
      where.push(
        "json_valid(metadata) AND EXISTS (SELECT 1 FROM json_each(metadata, '$.dataset_split') j WHERE j.value IN (SELECT value FROM json_each(?)))",
      );
      params.push(jsonList(filter.splits));
    }
    for (const [key, value] of Object.entries(filter.metadata ?? {})) {
      // Compare as JSON text so numbers, booleans, strings and nested values all match exactly.
      where.push("json_valid(metadata) AND json_quote(json_extract(metadata, ?)) = json_quote(json_extract(?, '$'))");
      params.push(`$."${key.replace(/"/g, '""')}"`, JSON.stringify(value));
    }
    const limit = filter.limit ?? 100;
    const offset = filter.offset ?? 0;
    const sql = `SELECT * FROM examples ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at, id LIMIT ? OFFSET ?`;
    return this.db.all<Row>(sql, ...params, limit, offset).map((r) => this.toExample(r, baseUrl));
  }

  /** The ids of the dataset's examples, in list order (created_at, id). */
  idsOf(datasetId: string): string[] {
    return this.db.all<{ id: string }>("SELECT id FROM examples WHERE dataset_id = ? ORDER BY created_at, id", datasetId).map((r) => r.id);
  }

  /** Inputs and reference outputs of these examples (no attachments), in list order (created_at, id); one query. */
  contents(ids: string[]): ExampleContent[] {
    if (!ids.length) return [];
    return this.db
      .all<{ id: string; dataset_id: string; created_at: string; inputs: string; outputs: string | null }>(
        `SELECT id, dataset_id, created_at, inputs, outputs FROM examples WHERE id IN (SELECT value FROM json_each(?))
         ORDER BY created_at, id`,
        jsonList(ids),
      )
      .map((r) => ({
        id: r.id,
        dataset_id: r.dataset_id,
        created_at: r.created_at,
        inputs: fromJson<Record<string, unknown>>(r.inputs, {}),
        outputs: fromJson<Record<string, unknown> | null>(r.outputs, null),
      }));
  }

  delete(ids: string[]): number {
    return this.db.tx(() => {
      let n = 0;
      for (const id of ids) {
        const row = this.db.get<{ dataset_id: string }>("SELECT dataset_id FROM examples WHERE id = ?", id);
        if (!row) continue;
        this.attachments.delete("example", id);
        n += this.db.run("DELETE FROM examples WHERE id = ?", id);
        this.datasets.touch(row.dataset_id, nowIso());
      }
      return n;
    });
  }

  private toExample(row: Row, baseUrl: string | undefined): Example {
    const files = this.attachments.list("example", row.id);
    return {
      id: row.id,
      dataset_id: row.dataset_id,
      inputs: fromJson<Record<string, unknown>>(row.inputs, {}),
      outputs: fromJson<Record<string, unknown> | null>(row.outputs, null),
      metadata: (() => {
        const m = fromJson<unknown>(row.metadata, null);
        return isRecord(m) ? m : null;
      })(),
      created_at: row.created_at,
      modified_at: row.modified_at,
      source_run_id: row.source_run_id,
      tenant_id: LOCAL_TENANT_ID,
      attachment_urls: files.length ? attachmentUrls(baseUrl, "example", row.id, files) : null,
      runs: [],
    };
  }
}
