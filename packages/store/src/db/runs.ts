// Runs, upserted by id: every create/patch is folded into one row with `mergeRun`, whatever order
// they arrive in, so retries and out-of-order batches never make duplicates or roll a run back.
import { type FeedbackRecord, type RunAttachment, type RunOp, type RunRecord, mergeRun } from "@tally/core/wire";
import { normalizeTime, timeMs } from "./time.js";
import type { AttachmentRepo } from "./attachments.js";
import { type Db, LOCAL_TENANT_ID, clampInt, fromJson, invalid, isRecord, jsonList } from "./db.js";
import type { FeedbackRepo, FeedbackStats } from "./feedback.js";
import { compileRunFilter } from "./run-filter.js";
import type { SessionRepo } from "./sessions.js";

/** The project LangSmith files runs under when they name none. */
export const DEFAULT_SESSION_NAME = "default";

/** A run as the read endpoints return it: the merged record plus derived fields. */
export interface Run {
  id: string;
  name: string;
  run_type: string;
  trace_id: string;
  dotted_order: string;
  parent_run_id: string | null;
  reference_example_id: string | null;
  inputs: unknown;
  outputs: unknown;
  error: unknown;
  extra: Record<string, unknown>;
  events: unknown;
  tags: string[];
  session_id: string | null;
  tenant_id: string;
  status: "success" | "error" | "pending";
  start_time: string | null;
  end_time: string | null;
  parent_run_ids: string[];
  feedback_stats: FeedbackStats | null;
  app_path: string;
  child_run_ids?: string[];
  attachments?: Record<string, { presigned_url: string; mime_type: string; size: number }>;
  [key: string]: unknown;
}

/** The body of `POST /runs/query` (and `/runs/stats`), as the SDK's listRuns sends it. */
export interface RunQuery {
  session?: string[] | string | null;
  id?: string[] | null;
  trace?: string | null;
  parent_run?: string | null;
  is_root?: boolean | null;
  execution_order?: number | null;
  reference_example?: string[] | string | null;
  run_type?: string | null;
  error?: boolean | null;
  start_time?: string | null;
  end_time?: string | null;
  filter?: string | null;
  limit?: number | null;
  cursor?: string | null;
  order?: "asc" | "desc" | null;
  [key: string]: unknown;
}

export interface RunPage {
  runs: Run[];
  cursors: { next: string | null; prev: null };
  /** Set when `filter` used something outside the supported subset and was ignored. */
  ignored_filter?: string;
}

export interface RunStats {
  run_count: number;
  latency_p50: number | null;
  latency_p99: number | null;
  error_rate: number | null;
  last_run_start_time: string | null;
  feedback_stats: FeedbackStats;
  total_tokens: number;
  prompt_tokens: number;
  completion_tokens: number;
  first_token_p50: null;
  first_token_p99: null;
  total_cost: null;
  run_facets: never[];
}

/** Root-run counts of one session (the viewer's experiment and project tables). */
export interface RootCounts {
  runs: number;
  errors: number;
  /** Neither finished nor errored. */
  pending: number;
  lastStart: string | null;
}

/** A root run as a comparison of experiments reads it (see RunRepo.rootOutcomes). */
export interface RootOutcome {
  id: string;
  name: string;
  reference_example_id: string | null;
  start_time: string | null;
  end_time: string | null;
  status: "success" | "error" | "pending";
  outputs: unknown;
  error: unknown;
}

export type StatusFilter = "all" | "passed" | "failed";

/** One page of a session's root runs, as the viewer lists them. */
export interface RootRunQuery {
  sessionId: string;
  /** "failed": errored, or its `pass` feedback is below 1 (false). */
  status: StatusFilter;
  /** Case-insensitive substring of the run name. */
  search: string;
  order: "asc" | "desc";
  limit: number;
  offset: number;
}

// A root run failed when it errored or its `pass` feedback is below 1 (false).
const FAILED = `(runs.has_error = 1 OR EXISTS (SELECT 1 FROM feedback f WHERE f.run_id = runs.id AND f.key = 'pass' AND f.score < 1))`;

export interface ApplyResult {
  /** Runs that did not exist before. */
  created: number;
  /** Runs that existed and were merged into. */
  updated: number;
}

interface Row {
  id: string;
  session_id: string | null;
  start_time: string;
  data: string;
}

/** "2025-01-02T03:04:05.123456Z" + id → the dotted-order segment "20250102T030405123456Z<id>". */
function dottedSegment(startIso: string, id: string): string {
  return `${startIso.replace(/[-:.]/g, "")}${id}`;
}

function asList(v: string[] | string | null | undefined): string[] | undefined {
  if (v === null || v === undefined) return undefined;
  return (Array.isArray(v) ? v : [v]).filter((x) => typeof x === "string");
}

function encodeCursor(row: Row): string {
  return Buffer.from(JSON.stringify([row.start_time, row.id])).toString("base64url");
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === "string" && typeof v[1] === "string") return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw invalid("invalid cursor");
}

export class RunRepo {
  constructor(
    private readonly db: Db,
    private readonly sessions: SessionRepo,
    private readonly feedback: FeedbackRepo,
    private readonly attachments: AttachmentRepo,
  ) {}

  /** Applies creates and updates in order, in one transaction. */
  apply(ops: RunOp[], files: RunAttachment[] = []): ApplyResult {
    return this.db.tx(() => {
      let created = 0;
      let updated = 0;
      for (const op of ops) {
        const row = this.db.get<{ data: string; session_id: string | null; has_create: number }>(
          "SELECT data, session_id, has_create FROM runs WHERE id = ?",
          op.run.id,
        );
        const existing = row ? fromJson<RunRecord | undefined>(row.data, undefined) : undefined;
        const run = mergeRun(existing, op);
        if (op.kind === "create") this.fillTraceFields(run);
        const sessionId = this.resolveSession(run, row?.session_id ?? null, op.kind === "create" || row?.has_create === 1);
        this.write(run, sessionId, row?.has_create === 1 || op.kind === "create");
        if (row) updated++;
        else created++;
      }
      for (const f of files) this.attachments.put("run", f.runId, f.name, f.contentType, f.data);
      return { created, updated };
    });
  }

  /** Runs posted without `trace_id`/`dotted_order` (unbatched `POST /runs` from old clients) get them here. */
  private fillTraceFields(run: RunRecord): void {
    if (run.trace_id && run.dotted_order) return;
    const start = normalizeTime(run.start_time);
    const parentId = typeof run.parent_run_id === "string" ? run.parent_run_id : null;
    if (!parentId) {
      run.trace_id ??= run.id;
      if (!run.dotted_order && start) run.dotted_order = dottedSegment(start, run.id);
      return;
    }
    const parent = this.db.get<{ trace_id: string | null; dotted: string | null }>(
      "SELECT trace_id, json_extract(data, '$.dotted_order') AS dotted FROM runs WHERE id = ?",
      parentId,
    );
    run.trace_id ??= parent?.trace_id ?? parentId;
    if (!run.dotted_order && start && parent?.dotted) run.dotted_order = `${parent.dotted}.${dottedSegment(start, run.id)}`;
  }

  /**
   * A run's session: its `session_id`, else the session named `session_name` (created on first use,
   * as LangSmith auto-creates tracing projects), else the one already on the row. A run with none at
   * all goes to "default" once its create has been seen; a bare patch waits for its create.
   */
  private resolveSession(run: RunRecord, current: string | null, hasCreate: boolean): string | null {
    if (typeof run.session_id === "string" && run.session_id !== "") return run.session_id;
    if (typeof run.session_name === "string" && run.session_name !== "") return this.sessions.ensureByName(run.session_name);
    if (current) return current;
    return hasCreate ? this.sessions.ensureByName(DEFAULT_SESSION_NAME) : null;
  }

  private write(run: RunRecord, sessionId: string | null, hasCreate: boolean): void {
    const start = normalizeTime(run.start_time);
    const end = normalizeTime(run.end_time);
    if (start) run.start_time = start;
    if (end) run.end_time = end;
    if (sessionId) run.session_id = sessionId;
    const hasError = run.error !== undefined && run.error !== null && run.error !== "";
    this.db.run(
      `INSERT INTO runs (id, session_id, trace_id, parent_run_id, reference_example_id, name, run_type, start_time, end_time,
         is_root, has_error, has_create, modified_at, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?)
       ON CONFLICT (id) DO UPDATE SET session_id = excluded.session_id, trace_id = excluded.trace_id,
         parent_run_id = excluded.parent_run_id, reference_example_id = excluded.reference_example_id, name = excluded.name,
         run_type = excluded.run_type, start_time = excluded.start_time, end_time = excluded.end_time, is_root = excluded.is_root,
         has_error = excluded.has_error, has_create = excluded.has_create, modified_at = excluded.modified_at, data = excluded.data`,
      run.id,
      sessionId,
      typeof run.trace_id === "string" ? run.trace_id : null,
      typeof run.parent_run_id === "string" ? run.parent_run_id : null,
      typeof run.reference_example_id === "string" ? run.reference_example_id : null,
      typeof run.name === "string" ? run.name : null,
      typeof run.run_type === "string" ? run.run_type : null,
      start ?? "",
      end,
      typeof run.parent_run_id === "string" && run.parent_run_id !== "" ? 0 : 1,
      hasError ? 1 : 0,
      hasCreate ? 1 : 0,
      JSON.stringify(run),
    );
  }

  get(id: string, baseUrl?: string): Run | undefined {
    const row = this.db.get<Row>("SELECT id, session_id, start_time, data FROM runs WHERE id = ?", id);
    if (!row) return undefined;
    const run = this.materialize([row], baseUrl)[0]!;
    run.child_run_ids = this.db
      .all<{ id: string }>("SELECT id FROM runs WHERE parent_run_id = ? ORDER BY start_time, id", id)
      .map((r) => r.id);
    return run;
  }

  /** POST /runs/query: filtered, ordered by start time (newest first unless `order: "asc"`), cursor-paginated. */
  query(q: RunQuery, baseUrl?: string): RunPage {
    const limit = clampInt(q.limit, 100, 1, 1000);
    const { predicate, unsupported } = compileRunFilter(q.filter);
    const { where, params } = this.where(q);
    const asc = q.order === "asc";
    let after = q.cursor ? decodeCursor(q.cursor) : undefined;
    const picked: { row: Row; run: Run }[] = [];
    // With a JS-side filter a SQL page may hold few matches, so read on in chunks until the page
    // is full (plus one, to know whether there is a next page).
    const chunk = predicate ? Math.max(200, limit * 2) : limit + 1;
    for (;;) {
      const keyset = after ? [`(start_time, id) ${asc ? ">" : "<"} (?, ?)`] : [];
      const sql = `SELECT id, session_id, start_time, data FROM runs WHERE ${[...where, ...keyset].join(" AND ") || "1"}
        ORDER BY start_time ${asc ? "ASC" : "DESC"}, id ${asc ? "ASC" : "DESC"} LIMIT ?`;
      const rows = this.db.all<Row>(sql, ...params, ...(after ?? []), chunk);
      const runs = this.materialize(rows, baseUrl, false);
      for (let i = 0; i < rows.length && picked.length <= limit; i++) {
        if (!predicate || predicate(runs[i]!)) picked.push({ row: rows[i]!, run: runs[i]! });
      }
      if (picked.length > limit || rows.length < chunk) break;
      const last = rows[rows.length - 1]!;
      after = [last.start_time, last.id];
    }
    const page = picked.slice(0, limit);
    this.addFeedbackStats(page.map((p) => p.run));
    return {
      runs: page.map((p) => p.run),
      cursors: { next: picked.length > limit ? encodeCursor(page[page.length - 1]!.row) : null, prev: null },
      ...(unsupported ? { ignored_filter: unsupported } : {}),
    };
  }

  /** POST /runs/stats: aggregate over every run the query matches. */
  stats(q: RunQuery): RunStats {
    const { predicate } = compileRunFilter(q.filter);
    const { where, params } = this.where(q);
    const rows = this.db.all<Row>(`SELECT id, session_id, start_time, data FROM runs WHERE ${where.join(" AND ") || "1"}`, ...params);
    let runs = this.materialize(rows, undefined, false);
    if (predicate) runs = runs.filter(predicate);
    const latencies: number[] = [];
    let errors = 0;
    let last: string | null = null;
    for (const r of runs) {
      if (r.status === "error") errors++;
      const s = timeMs(r.start_time);
      const e = timeMs(r.end_time);
      if (s !== null && e !== null) latencies.push(Math.round(Math.max(0, e - s) * 1000) / 1e6); // seconds, µs precision
      if (r.start_time && (!last || r.start_time > last)) last = r.start_time;
    }
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)]! : null);
    return {
      run_count: runs.length,
      latency_p50: pct(0.5),
      latency_p99: pct(0.99),
      error_rate: runs.length ? errors / runs.length : null,
      last_run_start_time: last,
      feedback_stats: this.feedback.statsForRunSet(runs.map((r) => r.id)),
      total_tokens: 0,
      prompt_tokens: 0,
      completion_tokens: 0,
      first_token_p50: null,
      first_token_p99: null,
      total_cost: null,
      run_facets: [],
    };
  }

  /**
   * Applies a `/runs/multipart` body: run creates and updates, their attachments, and the feedback
   * that came with them, in one transaction (all of it is stored, or none).
   */
  ingest(ops: RunOp[], files: RunAttachment[], feedback: FeedbackRecord[]): ApplyResult {
    return this.db.tx(() => {
      const result = this.apply(ops, files);
      for (const fb of feedback) this.feedback.upsert(fb);
      return result;
    });
  }

  // Reads for the viewer: bounded (LIMIT/OFFSET or one GROUP BY), so a store with tens of thousands
  // of runs still answers each page in a few queries.

  /**
   * Every root run of a session, oldest first, with only what a side-by-side comparison shows (no
   * inputs, no attachments): one query per session however many runs it has.
   */
  rootOutcomes(sessionId: string): RootOutcome[] {
    const rows = this.db.all<{
      id: string;
      name: string | null;
      reference_example_id: string | null;
      start_time: string;
      end_time: string | null;
      has_error: number;
      outputs: string | null;
      error: string | null;
    }>(
      `SELECT id, name, reference_example_id, start_time, end_time, has_error, data -> '$.outputs' AS outputs, data -> '$.error' AS error
       FROM runs WHERE session_id = ? AND is_root = 1 ORDER BY start_time, id`,
      sessionId,
    );
    return rows.map((r) => ({
      id: r.id,
      name: r.name ?? "",
      reference_example_id: r.reference_example_id,
      start_time: r.start_time || null,
      end_time: r.end_time || null,
      status: r.has_error ? "error" : r.end_time ? "success" : "pending",
      outputs: fromJson<unknown>(r.outputs, null),
      error: fromJson<unknown>(r.error, null),
    }));
  }

  /** Root-run counts per session. */
  rootCounts(sessionIds: string[]): Map<string, RootCounts> {
    const out = new Map<string, RootCounts>();
    if (!sessionIds.length) return out;
    const rows = this.db.all<{ session_id: string; n: number; errors: number; pending: number; last: string | null }>(
      `SELECT session_id, count(*) AS n, sum(has_error) AS errors,
         sum(CASE WHEN has_error = 0 AND (end_time IS NULL OR end_time = '') THEN 1 ELSE 0 END) AS pending,
         max(NULLIF(start_time, '')) AS last
       FROM runs WHERE is_root = 1 AND session_id IN (SELECT value FROM json_each(?)) GROUP BY session_id`,
      jsonList(sessionIds),
    );
    for (const r of rows) {
      out.set(r.session_id, { runs: Number(r.n), errors: Number(r.errors ?? 0), pending: Number(r.pending ?? 0), lastStart: r.last });
    }
    return out;
  }

  /** One page of a session's root runs (fully materialised, with feedback stats) and the total matching. */
  rootPage(q: RootRunQuery): { runs: Run[]; total: number } {
    const where = ["runs.session_id = ?", "runs.is_root = 1"];
    const params: string[] = [q.sessionId];
    if (q.status === "failed") where.push(FAILED);
    if (q.status === "passed") where.push(`NOT ${FAILED}`);
    if (q.search) {
      where.push("instr(lower(coalesce(runs.name, '')), lower(?)) > 0");
      params.push(q.search);
    }
    const cond = where.join(" AND ");
    const total = Number(this.db.get<{ n: number }>(`SELECT count(*) AS n FROM runs WHERE ${cond}`, ...params)?.n ?? 0);
    const dir = q.order === "asc" ? "ASC" : "DESC";
    const ids = this.db
      .all<{ id: string }>(
        `SELECT id FROM runs WHERE ${cond} ORDER BY start_time ${dir}, id ${dir} LIMIT ? OFFSET ?`,
        ...params,
        q.limit,
        q.offset,
      )
      .map((r) => r.id);
    return { runs: this.byIds(ids), total };
  }

  /** Materialises runs (with feedback stats) in the order of `ids`; unknown ids are left out. */
  byIds(ids: string[]): Run[] {
    const byId = new Map<string, Run>();
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      for (const r of this.query({ id: chunk, limit: chunk.length }).runs) byId.set(r.id, r);
    }
    return ids.map((id) => byId.get(id)).filter((r): r is Run => r !== undefined);
  }

  /** Every run of a trace, oldest first, up to `max` (plus whether more were left out). */
  traceRuns(traceId: string, max: number): { runs: Run[]; truncated: boolean } {
    const ids = this.db
      .all<{ id: string }>("SELECT id FROM runs WHERE trace_id = ? ORDER BY start_time, id LIMIT ?", traceId, max + 1)
      .map((r) => r.id);
    return { runs: this.byIds(ids.slice(0, max)), truncated: ids.length > max };
  }

  /** Counts runs, for reconciliation and tests. */
  count(filter: { sessionId?: string; rootOnly?: boolean } = {}): number {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.sessionId) {
      where.push("session_id = ?");
      params.push(filter.sessionId);
    }
    if (filter.rootOnly) where.push("is_root = 1");
    return Number(
      this.db.get<{ n: number }>(`SELECT count(*) AS n FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}`, ...params)?.n ?? 0,
    );
  }

  private where(q: RunQuery): { where: string[]; params: string[] } {
    const where: string[] = [];
    const params: string[] = [];
    const inList = (col: string, values: string[] | undefined) => {
      if (!values) return;
      where.push(`${col} IN (SELECT value FROM json_each(?))`);
      params.push(jsonList(values));
    };
    inList("session_id", asList(q.session));
    inList("id", asList(q.id));
    inList("reference_example_id", asList(q.reference_example));
    if (typeof q.trace === "string") {
      where.push("trace_id = ?");
      params.push(q.trace);
    }
    if (typeof q.parent_run === "string") {
      where.push("parent_run_id = ?");
      params.push(q.parent_run);
    }
    if (typeof q.run_type === "string") {
      where.push("run_type = ?");
      params.push(q.run_type);
    }
    if (q.is_root === true || q.execution_order === 1) where.push("is_root = 1");
    if (q.is_root === false) where.push("is_root = 0");
    if (q.error === true) where.push("has_error = 1");
    if (q.error === false) where.push("has_error = 0");
    const start = normalizeTime(q.start_time);
    if (start) {
      where.push("start_time >= ?");
      params.push(start);
    }
    const end = normalizeTime(q.end_time);
    if (end) {
      where.push("start_time <= ?");
      params.push(end);
    }
    return { where, params };
  }

  /** Rows → API runs. Feedback stats are added per page (one query), not per run. */
  private materialize(rows: Row[], baseUrl: string | undefined, withFeedback = true): Run[] {
    const runs = rows.map((row) => toRun(row, baseUrl, this.attachments));
    if (withFeedback) this.addFeedbackStats(runs);
    return runs;
  }

  private addFeedbackStats(runs: Run[]): void {
    const stats = this.feedback.statsForRuns(runs.map((r) => r.id));
    for (const r of runs) r.feedback_stats = stats.get(r.id) ?? null;
  }
}

function toRun(row: Row, baseUrl: string | undefined, attachments: AttachmentRepo): Run {
  const data = fromJson<RunRecord>(row.data, { id: row.id });
  const { session_name: _sessionName, ...rest } = data;
  const start = normalizeTime(data.start_time);
  const end = normalizeTime(data.end_time);
  const error = data.error ?? null;
  const dotted = typeof data.dotted_order === "string" ? data.dotted_order : null;
  const segments = dotted ? dotted.split(".") : [];
  const parentIds = segments.slice(0, -1).map((s) => s.slice(-36));
  const files = attachments.list("run", row.id);
  const run: Run = {
    ...rest,
    id: row.id,
    name: typeof data.name === "string" ? data.name : "",
    run_type: typeof data.run_type === "string" ? data.run_type : "chain",
    session_id: row.session_id,
    tenant_id: LOCAL_TENANT_ID,
    trace_id: typeof data.trace_id === "string" ? data.trace_id : row.id,
    dotted_order: dotted ?? "",
    parent_run_id: typeof data.parent_run_id === "string" ? data.parent_run_id : null,
    reference_example_id: typeof data.reference_example_id === "string" ? data.reference_example_id : null,
    start_time: start,
    end_time: end,
    status: error !== null && error !== "" ? "error" : end ? "success" : "pending",
    inputs: data.inputs ?? {},
    outputs: data.outputs ?? null,
    error,
    extra: isRecord(data.extra) ? data.extra : {},
    events: data.events ?? [],
    tags: Array.isArray(data.tags) ? data.tags : [],
    parent_run_ids: parentIds,
    feedback_stats: null,
    app_path: `/o/${LOCAL_TENANT_ID}/projects/p/${row.session_id ?? ""}/r/${row.id}?trace_id=${typeof data.trace_id === "string" ? data.trace_id : row.id}&start_time=${start ?? ""}`,
  };
  if (files.length) {
    run.attachments = Object.fromEntries(
      files.map((f) => [
        f.name,
        { presigned_url: `${baseUrl ?? ""}/attachments/run/${row.id}/${encodeURIComponent(f.name)}`, mime_type: f.mime_type, size: f.size },
      ]),
    );
  }
  return run;
}
