// A thin layer over DatabaseSync: cached prepared statements, transactions, JSON columns and the
// errors the HTTP layer maps to status codes.
import type { Database, SqlValue, Statement } from "./sqlite.js";

// The store modules take the JSON-object check from here with the rest of their helpers.
export { isRecord } from "@tally/core/wire";

/** A store-level error that carries the HTTP status the API answers with. */
export class StoreError extends Error {
  constructor(
    readonly status: 404 | 409 | 422,
    message: string,
  ) {
    super(message);
    this.name = "StoreError";
  }
}

export const notFound = (what: string): StoreError => new StoreError(404, `${what} not found`);
export const conflict = (what: string): StoreError => new StoreError(409, what);
export const invalid = (what: string): StoreError => new StoreError(422, what);

/** The one tenant of a local store; LangSmith puts `tenant_id` on every object. */
export const LOCAL_TENANT_ID = "7a11e000-0000-4000-8000-000000000001";

const MAX_CACHED_STATEMENTS = 400;

export class Db {
  private readonly statements = new Map<string, Statement>();
  private depth = 0;

  constructor(readonly raw: Database) {}

  private stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      // Queries are built from a small set of shapes, but cap the cache so a pathological
      // caller cannot grow it without bound.
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.clear();
      s = this.raw.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  get<T>(sql: string, ...params: SqlValue[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  all<T>(sql: string, ...params: SqlValue[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  run(sql: string, ...params: SqlValue[]): number {
    return Number(this.stmt(sql).run(...params).changes);
  }

  /**
   * Runs `fn` in one write transaction (BEGIN IMMEDIATE takes the write lock up front, so two
   * processes sharing the file never deadlock upgrading a read lock). Nested calls join the outer one.
   */
  tx<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.raw.exec("BEGIN IMMEDIATE");
    this.depth++;
    try {
      const result = fn();
      this.raw.exec("COMMIT");
      return result;
    } catch (err) {
      try {
        this.raw.exec("ROLLBACK");
      } catch {
        // the transaction may already be gone (e.g. SQLITE_FULL); the original error matters
      }
      throw err;
    } finally {
      this.depth--;
    }
  }
}

/** JSON for a TEXT column; `undefined` becomes SQL NULL. */
export function toJson(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

export function fromJson<T = unknown>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** One SQL parameter holding a JSON array, for `x IN (SELECT value FROM json_each(?))` filters of any size. */
export function jsonList(values: readonly string[]): string {
  return JSON.stringify(values);
}

/** Clamps a client-sent limit/offset. */
export function clampInt(value: unknown, fallback: number, min: number, max: number): number {
  const n = typeof value === "number" ? value : typeof value === "string" && value !== "" ? Number(value) : NaN;
  if (!Number.isFinite(n)) return fallback;
  return Math.min(max, Math.max(min, Math.floor(n)));
}
