// Feedback, upserted by id. Feedback may arrive before its run (it is posted on a different queue
// than the run batches), so nothing here requires the run to exist; a feedback's session is its
// own `session_id` or, failing that, its run's.
import { type FeedbackRecord, isUuid, uuid4 } from "@tally/core/wire";
import { normalizeTime, nowIso } from "./time.js";
import { type Db, LOCAL_TENANT_ID, fromJson, invalid, isRecord, jsonList, notFound } from "./db.js";

export interface Feedback extends FeedbackRecord {
  tenant_id: string;
  created_at: string;
  modified_at: string;
}

export interface FeedbackFilter {
  runs?: string[];
  sessions?: string[];
  keys?: string[];
  /** feedback_source.type values, e.g. "api", "model". */
  sources?: string[];
  hasScore?: boolean;
  hasComment?: boolean;
  limit?: number;
  offset?: number;
}

/** Feedback of one key, averaged (the viewer's score columns). */
export interface KeyAverage {
  /** Feedback entries of this key (scored or not). */
  n: number;
  /** Mean of the numeric scores (booleans count 1/0), null if none is numeric. */
  avg: number | null;
}

export interface FeedbackKeyStats {
  n: number;
  avg: number | null;
  stdev: number | null;
  errors: number;
  /** Counts of non-numeric `value`s (categorical feedback). */
  values: Record<string, number>;
}
export type FeedbackStats = Record<string, FeedbackKeyStats>;

interface Row {
  id: string;
  created_at: string;
  modified_at: string;
  data: string;
}

/** Booleans count as 1/0 in averages, as LangSmith does. */
function numericScore(score: unknown): number | null {
  if (typeof score === "boolean") return score ? 1 : 0;
  if (typeof score === "number" && Number.isFinite(score)) return score;
  return null;
}

function aggregate(rows: { key: string; score: number | null; data: string }[]): FeedbackStats {
  const acc = new Map<string, { scores: number[]; n: number; values: Record<string, number> }>();
  for (const r of rows) {
    let a = acc.get(r.key);
    if (!a) acc.set(r.key, (a = { scores: [], n: 0, values: {} }));
    a.n++;
    if (r.score !== null) a.scores.push(r.score);
    else {
      const value = fromJson<Record<string, unknown>>(r.data, {}).value;
      if (typeof value === "string") a.values[value] = (a.values[value] ?? 0) + 1;
    }
  }
  const out: FeedbackStats = {};
  for (const [key, a] of acc) {
    const n = a.scores.length;
    const avg = n ? a.scores.reduce((s, x) => s + x, 0) / n : null;
    const stdev = n && avg !== null ? Math.sqrt(a.scores.reduce((s, x) => s + (x - avg) ** 2, 0) / n) : null;
    out[key] = { n: a.n, avg, stdev, errors: 0, values: a.values };
  }
  return out;
}

export class FeedbackRepo {
  constructor(private readonly db: Db) {}

  /** POST /feedback: creates, or overwrites the feedback with the same id (SDK retries resend it). */
  upsert(input: FeedbackRecord): Feedback {
    const id = input.id ?? uuid4();
    if (!isUuid(id)) throw invalid(`feedback id must be a uuid: ${String(id)}`);
    if (typeof input.key !== "string" || input.key === "") throw invalid("feedback key is required");
    const runId = typeof input.run_id === "string" && input.run_id !== "" ? input.run_id : null;
    return this.db.tx(() => {
      const prev = this.db.get<{ created_at: string }>("SELECT created_at FROM feedback WHERE id = ?", id);
      let sessionId = typeof input.session_id === "string" && input.session_id !== "" ? input.session_id : null;
      if (!sessionId && runId)
        sessionId = this.db.get<{ session_id: string | null }>("SELECT session_id FROM runs WHERE id = ?", runId)?.session_id ?? null;
      const now = nowIso();
      const createdAt = prev?.created_at ?? normalizeTime(input.created_at) ?? now;
      const sourceType =
        isRecord(input.feedback_source) && typeof input.feedback_source.type === "string" ? input.feedback_source.type : null;
      const data = { ...input, id, run_id: runId, session_id: sessionId };
      this.db.run(
        `INSERT INTO feedback (id, run_id, session_id, key, score, source_type, created_at, modified_at, data)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET run_id = excluded.run_id, session_id = excluded.session_id, key = excluded.key,
           score = excluded.score, source_type = excluded.source_type, modified_at = excluded.modified_at, data = excluded.data`,
        id,
        runId,
        sessionId,
        input.key,
        numericScore(input.score),
        sourceType,
        createdAt,
        now,
        JSON.stringify(data),
      );
      return this.get(id)!;
    });
  }

  /** PATCH /feedback/:id — score, value, comment, correction. */
  update(id: string, patch: Record<string, unknown>): Feedback {
    return this.db.tx(() => {
      const row = this.db.get<Row>("SELECT id, created_at, modified_at, data FROM feedback WHERE id = ?", id);
      if (!row) throw notFound("Feedback");
      const data = fromJson<FeedbackRecord>(row.data, { id, key: "" });
      for (const k of ["score", "value", "comment", "correction", "feedback_config"]) if (patch[k] !== undefined) data[k] = patch[k];
      this.db.run(
        "UPDATE feedback SET score = ?, modified_at = ?, data = ? WHERE id = ?",
        numericScore(data.score),
        nowIso(),
        JSON.stringify(data),
        id,
      );
      return this.get(id)!;
    });
  }

  get(id: string): Feedback | undefined {
    const row = this.db.get<Row>("SELECT id, created_at, modified_at, data FROM feedback WHERE id = ?", id);
    return row && toFeedback(row);
  }

  delete(id: string): boolean {
    return this.db.run("DELETE FROM feedback WHERE id = ?", id) > 0;
  }

  list(filter: FeedbackFilter = {}): Feedback[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.runs?.length) {
      where.push("f.run_id IN (SELECT value FROM json_each(?))");
      params.push(jsonList(filter.runs));
    }
    if (filter.sessions?.length) {
      // The run's session counts too: feedback posted without session_id before its run arrived.
      where.push(
        `(f.session_id IN (SELECT value FROM json_each(?)) OR (f.session_id IS NULL AND f.run_id IN
          (SELECT id FROM runs WHERE session_id IN (SELECT value FROM json_each(?)))))`,
      );
      params.push(jsonList(filter.sessions), jsonList(filter.sessions));
    }
    if (filter.keys?.length) {
      where.push("f.key IN (SELECT value FROM json_each(?))");
      params.push(jsonList(filter.keys));
    }
    if (filter.sources?.length) {
      where.push("f.source_type IN (SELECT value FROM json_each(?))");
      params.push(jsonList(filter.sources));
    }
    if (filter.hasScore !== undefined) where.push(filter.hasScore ? "f.score IS NOT NULL" : "f.score IS NULL");
    if (filter.hasComment !== undefined) {
      where.push(filter.hasComment ? "json_extract(f.data, '$.comment') IS NOT NULL" : "json_extract(f.data, '$.comment') IS NULL");
    }
    const sql = `SELECT f.id, f.created_at, f.modified_at, f.data FROM feedback f ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY f.created_at, f.id LIMIT ? OFFSET ?`;
    return this.db.all<Row>(sql, ...params, filter.limit ?? 100, filter.offset ?? 0).map(toFeedback);
  }

  /** Per-run feedback stats for a page of runs. */
  statsForRuns(runIds: string[]): Map<string, FeedbackStats> {
    const out = new Map<string, FeedbackStats>();
    if (!runIds.length) return out;
    const rows = this.db.all<{ run_id: string; key: string; score: number | null; data: string }>(
      "SELECT run_id, key, score, data FROM feedback WHERE run_id IN (SELECT value FROM json_each(?))",
      jsonList(runIds),
    );
    const byRun = new Map<string, typeof rows>();
    for (const r of rows) {
      const list = byRun.get(r.run_id) ?? [];
      list.push(r);
      byRun.set(r.run_id, list);
    }
    for (const [runId, list] of byRun) out.set(runId, aggregate(list));
    return out;
  }

  /** Feedback stats over a set of runs taken together (POST /runs/stats). */
  statsForRunSet(runIds: string[]): FeedbackStats {
    if (!runIds.length) return {};
    return aggregate(
      this.db.all<{ key: string; score: number | null; data: string }>(
        "SELECT key, score, data FROM feedback WHERE run_id IN (SELECT value FROM json_each(?))",
        jsonList(runIds),
      ),
    );
  }

  /**
   * Feedback averages per session and key, for many sessions in one query: the session's own
   * feedback plus feedback posted on its runs without a session (the rule of statsForSession).
   */
  averagesBySession(sessionIds: string[]): Map<string, Record<string, KeyAverage>> {
    const out = new Map<string, Record<string, KeyAverage>>();
    if (!sessionIds.length) return out;
    const list = jsonList(sessionIds);
    const rows = this.db.all<{ sid: string; key: string; n: number; avg: number | null }>(
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

  /** Feedback stats of a session (experiment): over its own feedback and its runs' feedback. */
  statsForSession(sessionId: string): FeedbackStats {
    const rows = this.db.all<{ key: string; score: number | null; data: string }>(
      `SELECT key, score, data FROM feedback WHERE session_id = ?
       UNION ALL
       SELECT f.key, f.score, f.data FROM feedback f JOIN runs r ON r.id = f.run_id WHERE f.session_id IS NULL AND r.session_id = ?`,
      sessionId,
      sessionId,
    );
    return aggregate(rows);
  }
}

function toFeedback(row: Row): Feedback {
  const data = fromJson<FeedbackRecord>(row.data, { id: row.id, key: "" });
  return {
    score: null,
    value: null,
    comment: null,
    correction: null,
    feedback_source: null,
    ...data,
    id: row.id,
    tenant_id: LOCAL_TENANT_ID,
    created_at: row.created_at,
    modified_at: row.modified_at,
  };
}
