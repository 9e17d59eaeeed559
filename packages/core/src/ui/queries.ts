// Read-only queries the viewer needs beyond the repositories' API: aggregates for many sessions at
// once and paged, filtered lists of root runs. Everything is bounded (LIMIT/OFFSET or one GROUP BY),
// so a store with tens of thousands of runs still answers each page in a few queries.
import type { Run } from "../server/store/runs.js";
import type { Store } from "../server/store.js";

export interface RootCounts {
  runs: number;
  errors: number;
  pending: number;
  lastStart: string | null;
}

export interface KeyAverage {
  /** Feedback entries of this key (scored or not). */
  n: number;
  /** Mean of the numeric scores (booleans count 1/0), null if none is numeric. */
  avg: number | null;
}

/** Root-run counts per session. */
export function rootCounts(store: Store, sessionIds: string[]): Map<string, RootCounts> {
  const out = new Map<string, RootCounts>();
  if (!sessionIds.length) return out;
  const rows = store.db.all<{ session_id: string; n: number; errors: number; pending: number; last: string | null }>(
    `SELECT session_id, count(*) AS n, sum(has_error) AS errors,
       sum(CASE WHEN has_error = 0 AND (end_time IS NULL OR end_time = '') THEN 1 ELSE 0 END) AS pending,
       max(NULLIF(start_time, '')) AS last
     FROM runs WHERE is_root = 1 AND session_id IN (SELECT value FROM json_each(?)) GROUP BY session_id`,
    JSON.stringify(sessionIds),
  );
  for (const r of rows) {
    out.set(r.session_id, { runs: Number(r.n), errors: Number(r.errors ?? 0), pending: Number(r.pending ?? 0), lastStart: r.last });
  }
  return out;
}

/**
 * Feedback averages per session and key: the session's own feedback plus feedback posted on its
 * runs without a session (the same rule as the store's session stats).
 */
export function feedbackAverages(store: Store, sessionIds: string[]): Map<string, Record<string, KeyAverage>> {
  const out = new Map<string, Record<string, KeyAverage>>();
  if (!sessionIds.length) return out;
  const list = JSON.stringify(sessionIds);
  const rows = store.db.all<{ sid: string; key: string; n: number; avg: number | null }>(
    `SELECT sid, key, count(*) AS n, avg(score) AS avg FROM (
       SELECT session_id AS sid, key, score FROM feedback WHERE session_id IN (SELECT value FROM json_each(?))
       UNION ALL
       SELECT r.session_id AS sid, f.key, f.score FROM feedback f JOIN runs r ON r.id = f.run_id
         WHERE f.session_id IS NULL AND r.session_id IN (SELECT value FROM json_each(?))
     ) GROUP BY sid, key ORDER BY key`,
    list,
    list,
  );
  for (const r of rows) {
    const m = out.get(r.sid) ?? {};
    m[r.key] = { n: Number(r.n), avg: r.avg === null ? null : Number(r.avg) };
    out.set(r.sid, m);
  }
  return out;
}

export type StatusFilter = "all" | "passed" | "failed";

export interface RootRunQuery {
  sessionId: string;
  status: StatusFilter;
  /** Case-insensitive substring of the run name. */
  search: string;
  order: "asc" | "desc";
  limit: number;
  offset: number;
}

// A root run failed when it errored or its `pass` feedback is below 1 (false).
const FAILED = `(runs.has_error = 1 OR EXISTS (SELECT 1 FROM feedback f WHERE f.run_id = runs.id AND f.key = 'pass' AND f.score < 1))`;

/** One page of a session's root runs (fully materialised, with feedback stats) and the total matching. */
export function rootRuns(store: Store, q: RootRunQuery): { runs: Run[]; total: number } {
  const where = ["runs.session_id = ?", "runs.is_root = 1"];
  const params: string[] = [q.sessionId];
  if (q.status === "failed") where.push(FAILED);
  if (q.status === "passed") where.push(`NOT ${FAILED}`);
  if (q.search) {
    where.push("instr(lower(coalesce(runs.name, '')), lower(?)) > 0");
    params.push(q.search);
  }
  const cond = where.join(" AND ");
  const total = Number(store.db.get<{ n: number }>(`SELECT count(*) AS n FROM runs WHERE ${cond}`, ...params)?.n ?? 0);
  const dir = q.order === "asc" ? "ASC" : "DESC";
  const ids = store.db
    .all<{ id: string }>(`SELECT id FROM runs WHERE ${cond} ORDER BY start_time ${dir}, id ${dir} LIMIT ? OFFSET ?`, ...params, q.limit, q.offset)
    .map((r) => r.id);
  return { runs: runsById(store, ids), total };
}

/** Materialises runs (with feedback stats) in the order of `ids`. */
export function runsById(store: Store, ids: string[]): Run[] {
  const byId = new Map<string, Run>();
  for (let i = 0; i < ids.length; i += 1000) {
    const chunk = ids.slice(i, i + 1000);
    for (const r of store.runs.query({ id: chunk, limit: chunk.length }).runs) byId.set(r.id, r);
  }
  return ids.map((id) => byId.get(id)).filter((r): r is Run => r !== undefined);
}

/** Every run of a trace, oldest first, up to `max` (plus whether more were left out). */
export function traceRuns(store: Store, traceId: string, max: number): { runs: Run[]; truncated: boolean } {
  const ids = store.db
    .all<{ id: string }>("SELECT id FROM runs WHERE trace_id = ? ORDER BY start_time, id LIMIT ?", traceId, max + 1)
    .map((r) => r.id);
  const truncated = ids.length > max;
  return { runs: runsById(store, ids.slice(0, max)), truncated };
}

/** Sessions that are tracing projects (no dataset), newest first, and how many there are. */
export function projectSessions(store: Store, limit: number, offset: number) {
  const total = Number(store.db.get<{ n: number }>("SELECT count(*) AS n FROM sessions WHERE reference_dataset_id IS NULL")?.n ?? 0);
  return { sessions: store.sessions.list({ referenceFree: true, limit, offset }), total };
}

/** Experiment count of a dataset. */
export function experimentCount(store: Store, datasetId: string): number {
  return Number(store.db.get<{ n: number }>("SELECT count(*) AS n FROM sessions WHERE reference_dataset_id = ?", datasetId)?.n ?? 0);
}

/** Experiments whose dataset is gone (deleted, or never stored here), newest first. */
export function orphanExperiments(store: Store, limit: number) {
  const ids = store.db
    .all<{ id: string }>(
      `SELECT id FROM sessions s WHERE reference_dataset_id IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM datasets d WHERE d.id = s.reference_dataset_id)
       ORDER BY start_time DESC, id LIMIT ?`,
      limit,
    )
    .map((r) => r.id);
  return ids.length ? store.sessions.list({ ids, limit }) : [];
}
