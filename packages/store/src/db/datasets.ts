// Datasets, their version tags and splits.
import { isUuid, uuid4 } from "@tally/core/wire";
import { normalizeTime, nowIso } from "./time.js";
import { type Db, LOCAL_TENANT_ID, conflict, fromJson, invalid, isRecord, jsonList, notFound } from "./db.js";

export interface DatasetCreate {
  id?: string;
  name: string;
  description?: string | null;
  data_type?: string | null;
  extra?: Record<string, unknown> | null;
  inputs_schema_definition?: unknown;
  outputs_schema_definition?: unknown;
  [key: string]: unknown;
}

export interface Dataset {
  id: string;
  name: string;
  description: string | null;
  tenant_id: string;
  data_type: string;
  created_at: string;
  modified_at: string;
  extra: Record<string, unknown> | null;
  metadata: Record<string, unknown> | null;
  inputs_schema_definition: unknown;
  outputs_schema_definition: unknown;
  externally_managed: boolean;
  example_count: number;
  session_count: number;
  last_session_start_time: string | null;
  [key: string]: unknown;
}

export interface DatasetFilter {
  ids?: string[];
  name?: string;
  nameContains?: string;
  metadata?: Record<string, unknown>;
  limit?: number;
  offset?: number;
}

export interface DatasetVersion {
  as_of: string;
  tags: string[];
}

interface Row {
  id: string;
  name: string;
  created_at: string;
  modified_at: string;
  data: string;
  example_count: number;
  session_count: number;
  last_session_start_time: string | null;
}

const SELECT = `SELECT d.id, d.name, d.created_at, d.modified_at, d.data,
  (SELECT count(*) FROM examples e WHERE e.dataset_id = d.id) AS example_count,
  (SELECT count(*) FROM sessions s WHERE s.reference_dataset_id = d.id) AS session_count,
  (SELECT max(s.start_time) FROM sessions s WHERE s.reference_dataset_id = d.id) AS last_session_start_time
  FROM datasets d`;

export class DatasetRepo {
  constructor(private readonly db: Db) {}

  create(input: DatasetCreate): Dataset {
    if (typeof input.name !== "string" || input.name.trim() === "") throw invalid("dataset name is required");
    const id = input.id ?? uuid4();
    if (!isUuid(id)) throw invalid(`dataset id must be a uuid: ${String(id)}`);
    return this.db.tx(() => {
      if (this.db.get("SELECT 1 FROM datasets WHERE name = ?", input.name)) {
        throw conflict(`Dataset with name "${input.name}" already exists`);
      }
      if (this.db.get("SELECT 1 FROM datasets WHERE id = ?", id)) throw conflict(`Dataset with id ${id} already exists`);
      const now = nowIso();
      const { id: _id, name, ...rest } = input;
      const data = { ...rest, description: input.description ?? null, data_type: input.data_type ?? "kv" };
      this.db.run(
        "INSERT INTO datasets (id, name, created_at, modified_at, data) VALUES (?, ?, ?, ?, ?)",
        id,
        name,
        normalizeTime(input.created_at) ?? now,
        now,
        JSON.stringify(data),
      );
      return this.get(id)!;
    });
  }

  get(id: string): Dataset | undefined {
    const row = this.db.get<Row>(`${SELECT} WHERE d.id = ?`, id);
    return row && toDataset(row);
  }

  getByName(name: string): Dataset | undefined {
    const row = this.db.get<Row>(`${SELECT} WHERE d.name = ?`, name);
    return row && toDataset(row);
  }

  list(filter: DatasetFilter = {}): Dataset[] {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.ids?.length) {
      where.push("d.id IN (SELECT value FROM json_each(?))");
      params.push(jsonList(filter.ids));
    }
    if (filter.name !== undefined) {
      where.push("d.name = ?");
      params.push(filter.name);
    }
    if (filter.nameContains !== undefined) {
      where.push("instr(lower(d.name), lower(?)) > 0");
      params.push(filter.nameContains);
    }
    const sql = `${SELECT} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY d.created_at DESC, d.id`;
    let rows = this.db.all<Row>(sql, ...params).map(toDataset);
    if (filter.metadata) rows = rows.filter((d) => matchesSubset(d.metadata, filter.metadata!));
    const offset = filter.offset ?? 0;
    return rows.slice(offset, offset + (filter.limit ?? 100));
  }

  /** PATCH /datasets/:id — name, description, metadata and other top-level fields. */
  update(id: string, patch: Record<string, unknown>): Dataset {
    return this.db.tx(() => {
      const row = this.db.get<{ name: string; data: string }>("SELECT name, data FROM datasets WHERE id = ?", id);
      if (!row) throw notFound("Dataset");
      const data = fromJson<Record<string, unknown>>(row.data, {});
      let name = row.name;
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined || k === "id" || k === "tenant_id" || k === "created_at") continue;
        if (k === "name") {
          if (typeof v !== "string" || v === "") continue;
          if (v !== row.name && this.db.get("SELECT 1 FROM datasets WHERE name = ?", v)) {
            throw conflict(`Dataset with name "${v}" already exists`);
          }
          name = v;
        } else if (k === "metadata") {
          // LangSmith's PATCH replaces the metadata whole; it is kept where POST /datasets puts it
          // (extra.metadata), which is where the dataset's `metadata` is read from.
          const extra = isRecord(data.extra) ? data.extra : {};
          data.extra = { ...extra, metadata: isRecord(v) ? v : null };
        } else data[k] = v;
      }
      this.db.run("UPDATE datasets SET name = ?, data = ?, modified_at = ? WHERE id = ?", name, JSON.stringify(data), nowIso(), id);
      return this.get(id)!;
    });
  }

  /** Deletes the dataset with its examples and tags. Experiments that referenced it stay. */
  delete(id: string): boolean {
    return this.db.tx(() => {
      this.db.run(
        "DELETE FROM attachments WHERE owner_kind = 'example' AND owner_id IN (SELECT id FROM examples WHERE dataset_id = ?)",
        id,
      );
      this.db.run("DELETE FROM examples WHERE dataset_id = ?", id);
      this.db.run("DELETE FROM dataset_tags WHERE dataset_id = ?", id);
      return this.db.run("DELETE FROM datasets WHERE id = ?", id) > 0;
    });
  }

  /** Marks the dataset changed (an example was written). */
  touch(id: string, at: string): void {
    this.db.run("UPDATE datasets SET modified_at = max(modified_at, ?) WHERE id = ?", at, id);
  }

  /** PUT /datasets/:id/tags — moves `tag` to the version `asOf`. */
  setTag(id: string, tag: string, asOf: unknown): DatasetVersion {
    if (typeof tag !== "string" || tag === "") throw invalid("tag is required");
    const asOfIso = normalizeTime(asOf);
    if (!asOfIso) throw invalid(`as_of must be a timestamp, got ${JSON.stringify(asOf)}`);
    return this.db.tx(() => {
      if (!this.db.get("SELECT 1 FROM datasets WHERE id = ?", id)) throw notFound("Dataset");
      this.db.run(
        "INSERT INTO dataset_tags (dataset_id, tag, as_of) VALUES (?, ?, ?) ON CONFLICT (dataset_id, tag) DO UPDATE SET as_of = excluded.as_of",
        id,
        tag,
        asOfIso,
      );
      return { as_of: asOfIso, tags: this.tagsAt(id, asOfIso) };
    });
  }

  private tagsAt(id: string, asOf: string): string[] {
    return this.db
      .all<{ tag: string }>("SELECT tag FROM dataset_tags WHERE dataset_id = ? AND as_of = ? ORDER BY tag", id, asOf)
      .map((r) => r.tag);
  }

  /** GET /datasets/:id/versions — tagged versions plus the latest, newest first. */
  versions(id: string): DatasetVersion[] {
    const ds = this.get(id);
    if (!ds) throw notFound("Dataset");
    const rows = this.db.all<{ as_of: string; tags: string }>(
      "SELECT as_of, json_group_array(tag) AS tags FROM dataset_tags WHERE dataset_id = ? GROUP BY as_of ORDER BY as_of DESC",
      id,
    );
    const out = rows.map((r) => ({ as_of: r.as_of, tags: fromJson<string[]>(r.tags, []) }));
    const latest = out.find((v) => v.as_of === ds.modified_at);
    if (latest) latest.tags = [...new Set([...latest.tags, "latest"])];
    else out.unshift({ as_of: ds.modified_at, tags: ["latest"] });
    return out;
  }

  /** GET /datasets/:id/version?as_of=|tag= — resolves a tag or a time to a version. */
  version(id: string, opts: { asOf?: string; tag?: string }): DatasetVersion {
    const ds = this.get(id);
    if (!ds) throw notFound("Dataset");
    if (opts.tag !== undefined && opts.tag !== "latest") {
      const row = this.db.get<{ as_of: string }>("SELECT as_of FROM dataset_tags WHERE dataset_id = ? AND tag = ?", id, opts.tag);
      if (!row) throw notFound(`Dataset version with tag "${opts.tag}"`);
      return { as_of: row.as_of, tags: this.tagsAt(id, row.as_of) };
    }
    const asOf = (opts.asOf !== undefined ? normalizeTime(opts.asOf) : null) ?? ds.modified_at;
    return { as_of: asOf, tags: this.tagsAt(id, asOf) };
  }

  /** The split names used by the dataset's examples. */
  splits(id: string): string[] {
    return this.db
      .all<{ split: string }>(
        `SELECT DISTINCT j.value AS split FROM examples e, json_each(e.metadata, '$.dataset_split') j
         WHERE e.dataset_id = ? AND json_valid(e.metadata) ORDER BY 1`,
        id,
      )
      .map((r) => r.split);
  }
}

function toDataset(row: Row): Dataset {
  const data = fromJson<Record<string, unknown>>(row.data, {});
  const extra = isRecord(data.extra) ? data.extra : null;
  return {
    ...data,
    id: row.id,
    name: row.name,
    description: typeof data.description === "string" ? data.description : null,
    tenant_id: LOCAL_TENANT_ID,
    data_type: typeof data.data_type === "string" ? data.data_type : "kv",
    created_at: row.created_at,
    modified_at: row.modified_at,
    extra,
    metadata: extra && isRecord(extra.metadata) ? extra.metadata : null,
    inputs_schema_definition: data.inputs_schema_definition ?? null,
    outputs_schema_definition: data.outputs_schema_definition ?? null,
    externally_managed: false,
    example_count: Number(row.example_count),
    session_count: Number(row.session_count),
    last_session_start_time: row.last_session_start_time,
  };
}

/** True when every key of `want` equals (by JSON) the same key of `have`. */
export function matchesSubset(have: Record<string, unknown> | null | undefined, want: Record<string, unknown>): boolean {
  if (!have) return Object.keys(want).length === 0;
  return Object.entries(want).every(([k, v]) => JSON.stringify(have[k]) === JSON.stringify(v));
}
