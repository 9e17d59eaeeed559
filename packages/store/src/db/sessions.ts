// Sessions: LangSmith's name for both tracing projects and experiments (an experiment is a session
// with `reference_dataset_id`). Names are unique; runs may create a session just by naming it.
import { isUuid, uuid4 } from "@tally/core/wire";
import { normalizeTime, nowIso, timeMs } from "./time.js";
import { type Db, LOCAL_TENANT_ID, conflict, fromJson, invalid, isRecord, jsonList, notFound } from "./db.js";
import { matchesSubset } from "./datasets.js";
import type { FeedbackRepo, FeedbackStats } from "./feedback.js";

export interface SessionCreate {
  id?: string;
  name?: string;
  description?: string | null;
  reference_dataset_id?: string | null;
  start_time?: unknown;
  end_time?: unknown;
  extra?: Record<string, unknown> | null;
  [key: string]: unknown;
}

export interface SessionPatch {
  name?: string | null;
  description?: string | null;
  extra?: Record<string, unknown> | null;
  end_time?: unknown;
  [key: string]: unknown;
}

export interface SessionStats {
  /** Root runs (traces) in the session. */
  run_count: number;
  latency_p50: number | null;
  latency_p99: number | null;
  first_token_p50: null;
  first_token_p99: null;
  total_tokens: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_cost: null;
  error_rate: number | null;
  last_run_start_time: string | null;
  feedback_stats: FeedbackStats;
  run_facets: never[];
}

export interface Session extends Partial<SessionStats> {
  id: string;
  name: string;
  tenant_id: string;
  description: string | null;
  reference_dataset_id: string | null;
  start_time: string;
  end_time: string | null;
  extra: Record<string, unknown> | null;
  [key: string]: unknown;
}

export interface SessionFilter {
  ids?: string[];
  name?: string;
  nameContains?: string;
  referenceDatasets?: string[];
  /** true: only sessions without a dataset (tracing projects); false: only experiments. */
  referenceFree?: boolean;
  metadata?: Record<string, unknown>;
  includeStats?: boolean;
  limit?: number;
  offset?: number;
}

/** A session's recording progress, for polling (see SessionRepo.activity). */
export interface SessionActivity {
  /** Root runs (tests, traces). */
  runs: number;
  /** Every run, children included. */
  allRuns: number;
  /** Root runs neither finished nor errored. */
  pending: number;
  /** Feedback on the session or its runs. */
  feedback: number;
  ended: boolean;
  endTime: string | null;
  /** The latest write to the session's runs or feedback, or its end. */
  updatedAt: string | null;
}

interface Row {
  id: string;
  name: string;
  reference_dataset_id: string | null;
  start_time: string;
  end_time: string | null;
  data: string;
}

/** Percentile of sorted numbers (nearest-rank). */
function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export class SessionRepo {
  /** name → id; runs resolve `session_name` on every ingest. */
  private readonly idByName = new Map<string, string>();

  constructor(
    private readonly db: Db,
    private readonly feedback: FeedbackRepo,
  ) {}

  /** POST /sessions. With `upsert`, an existing session of that name is returned instead of a 409. */
  create(input: SessionCreate, opts: { upsert?: boolean } = {}): { session: Session; created: boolean } {
    const name = typeof input.name === "string" && input.name !== "" ? input.name : `project-${uuid4().slice(0, 8)}`;
    const id = input.id ?? uuid4();
    if (!isUuid(id)) throw invalid(`session id must be a uuid: ${String(id)}`);
    return this.db.tx(() => {
      const existing = this.db.get<{ id: string }>("SELECT id FROM sessions WHERE name = ?", name);
      if (existing) {
        if (opts.upsert) return { session: this.get(existing.id, false)!, created: false };
        throw conflict(`Session with name "${name}" already exists`);
      }
      if (this.db.get("SELECT 1 FROM sessions WHERE id = ?", id)) {
        if (opts.upsert) return { session: this.get(id, false)!, created: false };
        throw conflict(`Session with id ${id} already exists`);
      }
      const { id: _i, name: _n, start_time, end_time, reference_dataset_id, ...rest } = input;
      this.db.run(
        "INSERT INTO sessions (id, name, reference_dataset_id, start_time, end_time, data) VALUES (?, ?, ?, ?, ?, ?)",
        id,
        name,
        typeof reference_dataset_id === "string" ? reference_dataset_id : null,
        normalizeTime(start_time) ?? nowIso(),
        normalizeTime(end_time),
        JSON.stringify({ ...rest, description: input.description ?? null, extra: isRecord(input.extra) ? input.extra : null }),
      );
      this.idByName.set(name, id);
      return { session: this.get(id, false)!, created: true };
    });
  }

  /** The id of the session called `name`, creating a tracing project if there is none (as LangSmith does). */
  ensureByName(name: string): string {
    const cached = this.idByName.get(name);
    if (cached) return cached;
    return this.db.tx(() => {
      const row = this.db.get<{ id: string }>("SELECT id FROM sessions WHERE name = ?", name);
      const id = row?.id ?? this.create({ name }).session.id;
      this.idByName.set(name, id);
      return id;
    });
  }

  get(id: string, includeStats: boolean): Session | undefined {
    const row = this.db.get<Row>("SELECT * FROM sessions WHERE id = ?", id);
    return row && this.toSession(row, includeStats);
  }

  list(filter: SessionFilter = {}): Session[] {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.ids?.length) {
      where.push("id IN (SELECT value FROM json_each(?))");
      params.push(jsonList(filter.ids));
    }
    if (filter.name !== undefined) {
      where.push("name = ?");
      params.push(filter.name);
    }
    if (filter.nameContains !== undefined) {
      where.push("instr(lower(name), lower(?)) > 0");
      params.push(filter.nameContains);
    }
    if (filter.referenceDatasets?.length) {
      where.push("reference_dataset_id IN (SELECT value FROM json_each(?))");
      params.push(jsonList(filter.referenceDatasets));
    }
    if (filter.referenceFree === true) where.push("reference_dataset_id IS NULL");
    if (filter.referenceFree === false) where.push("reference_dataset_id IS NOT NULL");
    const sql = `SELECT * FROM sessions ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY start_time DESC, id`;
    let rows = this.db.all<Row>(sql, ...params);
    if (filter.metadata) {
      rows = rows.filter((r) => {
        const extra = fromJson<Record<string, unknown>>(r.data, {}).extra;
        return matchesSubset(isRecord(extra) && isRecord(extra.metadata) ? extra.metadata : null, filter.metadata!);
      });
    }
    const offset = filter.offset ?? 0;
    return rows.slice(offset, offset + (filter.limit ?? 100)).map((r) => this.toSession(r, filter.includeStats ?? false));
  }

  /**
   * PATCH /sessions/:id. Null fields mean "unchanged" (the SDK sends `name: null` etc.). `extra` is
   * merged, and `extra.metadata` key by key, so two writers adding different keys both survive.
   */
  update(id: string, patch: SessionPatch): Session {
    return this.db.tx(() => {
      const row = this.db.get<Row>("SELECT * FROM sessions WHERE id = ?", id);
      if (!row) throw notFound("Session");
      const data = fromJson<Record<string, unknown>>(row.data, {});
      let name = row.name;
      if (typeof patch.name === "string" && patch.name !== "" && patch.name !== row.name) {
        if (this.db.get("SELECT 1 FROM sessions WHERE name = ?", patch.name))
          throw conflict(`Session with name "${patch.name}" already exists`);
        this.idByName.delete(row.name);
        name = patch.name;
      }
      if (typeof patch.description === "string") data.description = patch.description;
      if (isRecord(patch.extra)) {
        const old = isRecord(data.extra) ? data.extra : {};
        const merged: Record<string, unknown> = { ...old, ...patch.extra };
        if (isRecord(old.metadata) || isRecord(patch.extra.metadata)) {
          merged.metadata = {
            ...(isRecord(old.metadata) ? old.metadata : {}),
            ...(isRecord(patch.extra.metadata) ? patch.extra.metadata : {}),
          };
        }
        data.extra = merged;
      }
      const endTime = patch.end_time === null || patch.end_time === undefined ? row.end_time : normalizeTime(patch.end_time);
      if (patch.end_time !== null && patch.end_time !== undefined && !endTime)
        throw invalid(`end_time is not a timestamp: ${JSON.stringify(patch.end_time)}`);
      let refDataset = row.reference_dataset_id;
      if (typeof patch.reference_dataset_id === "string") refDataset = patch.reference_dataset_id;
      this.db.run(
        "UPDATE sessions SET name = ?, end_time = ?, reference_dataset_id = ?, data = ? WHERE id = ?",
        name,
        endTime,
        refDataset,
        JSON.stringify(data),
        id,
      );
      this.idByName.set(name, id);
      return this.get(id, false)!;
    });
  }

  /** Deletes the session, its runs and their feedback. */
  delete(id: string): boolean {
    return this.db.tx(() => {
      const row = this.db.get<{ name: string }>("SELECT name FROM sessions WHERE id = ?", id);
      if (!row) return false;
      this.db.run("DELETE FROM feedback WHERE session_id = ? OR run_id IN (SELECT id FROM runs WHERE session_id = ?)", id, id);
      this.db.run("DELETE FROM attachments WHERE owner_kind = 'run' AND owner_id IN (SELECT id FROM runs WHERE session_id = ?)", id);
      this.db.run("DELETE FROM runs WHERE session_id = ?", id);
      this.db.run("DELETE FROM sessions WHERE id = ?", id);
      this.idByName.delete(row.name);
      return true;
    });
  }

  /** Tracing projects (sessions without a dataset), newest first: one page and how many there are. */
  projects(limit: number, offset: number): { sessions: Session[]; total: number } {
    return { sessions: this.list({ referenceFree: true, limit, offset }), total: this.projectCount() };
  }

  /** How many tracing projects (sessions without a dataset) there are. */
  projectCount(): number {
    return Number(this.db.get<{ n: number }>("SELECT count(*) AS n FROM sessions WHERE reference_dataset_id IS NULL")?.n ?? 0);
  }

  /** How many experiments the dataset has. */
  experimentCount(datasetId: string): number {
    return Number(this.db.get<{ n: number }>("SELECT count(*) AS n FROM sessions WHERE reference_dataset_id = ?", datasetId)?.n ?? 0);
  }

  /** Experiments whose dataset is gone (deleted, or never stored here), newest first. */
  orphanExperiments(limit: number): Session[] {
    const ids = this.db
      .all<{ id: string }>(
        `SELECT id FROM sessions s WHERE reference_dataset_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM datasets d WHERE d.id = s.reference_dataset_id)
         ORDER BY start_time DESC, id LIMIT ?`,
        limit,
      )
      .map((r) => r.id);
    return ids.length ? this.list({ ids, limit }) : [];
  }

  /**
   * The experiment `id` is compared with by default, by the rule of Tally's CI baseline "previous": the
   * newest experiment of the same dataset that started before it and has ended. Undefined when there is
   * none, or when `id` is not an experiment.
   */
  previousExperiment(id: string): Session | undefined {
    const row = this.db.get<Row>(
      `SELECT p.* FROM sessions s JOIN sessions p ON p.reference_dataset_id = s.reference_dataset_id
       WHERE s.id = ? AND s.reference_dataset_id IS NOT NULL AND p.id != s.id
         AND p.end_time IS NOT NULL AND p.end_time != '' AND p.start_time < s.start_time
       ORDER BY p.start_time DESC, p.id DESC LIMIT 1`,
      id,
    );
    return row && this.toSession(row, false);
  }

  /**
   * What changes while a session records (the viewer's live updates), in three small indexed queries:
   * run and feedback counts, the latest write to either, and whether the session has ended.
   */
  activity(id: string): SessionActivity | undefined {
    const s = this.db.get<{ end_time: string | null }>("SELECT end_time FROM sessions WHERE id = ?", id);
    if (!s) return undefined;
    const r = this.db.get<{ n: number; roots: number | null; pending: number | null; last: string | null }>(
      `SELECT count(*) AS n, sum(is_root) AS roots,
         sum(CASE WHEN is_root = 1 AND has_error = 0 AND (end_time IS NULL OR end_time = '') THEN 1 ELSE 0 END) AS pending,
         max(modified_at) AS last
       FROM runs WHERE session_id = ?`,
      id,
    );
    const f = this.db.get<{ n: number; last: string | null }>(
      `SELECT count(*) AS n, max(modified_at) AS last FROM (
         SELECT modified_at FROM feedback WHERE session_id = ?
         UNION ALL
         SELECT f.modified_at FROM feedback f JOIN runs r ON r.id = f.run_id WHERE f.session_id IS NULL AND r.session_id = ?)`,
      id,
      id,
    );
    const endTime = s.end_time || null;
    const times = [r?.last, f?.last, endTime]
      .map((t) => normalizeTime(t))
      .filter((t): t is string => t !== null)
      .sort();
    return {
      runs: Number(r?.roots ?? 0),
      allRuns: Number(r?.n ?? 0),
      pending: Number(r?.pending ?? 0),
      feedback: Number(f?.n ?? 0),
      ended: endTime !== null,
      endTime,
      updatedAt: times[times.length - 1] ?? null,
    };
  }

  stats(id: string): SessionStats {
    const roots = this.db.all<{ start_time: string; end_time: string | null; has_error: number }>(
      "SELECT start_time, end_time, has_error FROM runs WHERE session_id = ? AND is_root = 1",
      id,
    );
    const latencies: number[] = [];
    let errors = 0;
    for (const r of roots) {
      if (r.has_error) errors++;
      const s = timeMs(r.start_time);
      const e = timeMs(r.end_time);
      if (s !== null && e !== null) latencies.push(Math.round(Math.max(0, e - s) * 1000) / 1e6); // seconds, µs precision
    }
    latencies.sort((a, b) => a - b);
    const last = this.db.get<{ t: string | null }>("SELECT max(start_time) AS t FROM runs WHERE session_id = ? AND start_time != ''", id);
    return {
      run_count: roots.length,
      latency_p50: percentile(latencies, 0.5),
      latency_p99: percentile(latencies, 0.99),
      first_token_p50: null,
      first_token_p99: null,
      total_tokens: 0,
      prompt_tokens: 0,
      completion_tokens: 0,
      total_cost: null,
      error_rate: roots.length ? errors / roots.length : null,
      last_run_start_time: last?.t ?? null,
      feedback_stats: this.feedback.statsForSession(id),
      run_facets: [],
    };
  }

  private toSession(row: Row, includeStats: boolean): Session {
    const data = fromJson<Record<string, unknown>>(row.data, {});
    const session: Session = {
      ...data,
      id: row.id,
      name: row.name,
      tenant_id: LOCAL_TENANT_ID,
      description: typeof data.description === "string" ? data.description : null,
      reference_dataset_id: row.reference_dataset_id,
      start_time: row.start_time,
      end_time: row.end_time,
      extra: isRecord(data.extra) ? data.extra : null,
    };
    return includeStats ? { ...session, ...this.stats(row.id) } : session;
  }
}
