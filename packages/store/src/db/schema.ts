// The SQLite schema. Columns that are filtered, joined or sorted on are real columns; everything
// else of a record lives in one JSON text column (`data`), so new SDK fields round-trip without
// migrations. Times are fixed-width ISO text (see ./time.ts), so text order is time order.
import type { Database } from "./sqlite.js";

export const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS datasets (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  modified_at TEXT NOT NULL,
  data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dataset_tags (
  dataset_id TEXT NOT NULL,
  tag TEXT NOT NULL,
  as_of TEXT NOT NULL,
  PRIMARY KEY (dataset_id, tag)
);
CREATE TABLE IF NOT EXISTS examples (
  id TEXT PRIMARY KEY,
  dataset_id TEXT NOT NULL,
  created_at TEXT NOT NULL,
  modified_at TEXT NOT NULL,
  inputs TEXT NOT NULL,
  outputs TEXT,
  metadata TEXT,
  source_run_id TEXT
);
CREATE INDEX IF NOT EXISTS examples_by_dataset ON examples (dataset_id, created_at, id);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  reference_dataset_id TEXT,
  start_time TEXT NOT NULL,
  end_time TEXT,
  data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_dataset ON sessions (reference_dataset_id, start_time);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  session_id TEXT,
  trace_id TEXT,
  parent_run_id TEXT,
  reference_example_id TEXT,
  name TEXT,
  run_type TEXT,
  start_time TEXT,
  end_time TEXT,
  is_root INTEGER NOT NULL,
  has_error INTEGER NOT NULL,
  -- 1 once a create was seen: a run known only from a patch is still waiting for it.
  has_create INTEGER NOT NULL,
  modified_at TEXT NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_session ON runs (session_id, start_time, id);
CREATE INDEX IF NOT EXISTS runs_by_trace ON runs (trace_id);
CREATE INDEX IF NOT EXISTS runs_by_parent ON runs (parent_run_id);
CREATE INDEX IF NOT EXISTS runs_by_example ON runs (reference_example_id);
CREATE TABLE IF NOT EXISTS feedback (
  id TEXT PRIMARY KEY,
  run_id TEXT,
  session_id TEXT,
  key TEXT NOT NULL,
  score REAL,
  source_type TEXT,
  created_at TEXT NOT NULL,
  modified_at TEXT NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_by_run ON feedback (run_id);
CREATE INDEX IF NOT EXISTS feedback_by_session ON feedback (session_id);
CREATE TABLE IF NOT EXISTS attachments (
  owner_kind TEXT NOT NULL, -- 'run' | 'example'
  owner_id TEXT NOT NULL,
  name TEXT NOT NULL,
  mime_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (owner_kind, owner_id, name)
);
`;

const BUSY_TIMEOUT_MS = 10_000;

/** Opens the database for many writers: a busy timeout, WAL, then creates the tables. */
export function initSchema(db: Database, inMemory: boolean): void {
  // First: two runs starting at once in one project must wait for each other rather than fail
  // with "database is locked".
  db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  if (!inMemory) {
    // WAL lets readers (the viewer, `tally` commands) work while the server writes; NORMAL
    // sync is durable across process crashes, which is what a test backend needs.
    execWhileBusy(db, "PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
  }
  db.exec("PRAGMA foreign_keys = OFF");
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number } | undefined;
  const version = row?.user_version ?? 0;
  if (version > SCHEMA_VERSION) {
    throw new Error(`database schema version ${version} is newer than this Tally (${SCHEMA_VERSION}); upgrade Tally`);
  }
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(DDL);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}

/**
 * Switching to WAL needs an exclusive lock. When two connections both hold a shared lock and want
 * it, SQLite answers "database is locked" at once (waiting could deadlock) instead of calling the
 * busy handler; one of them has to let go and try again.
 */
function execWhileBusy(db: Database, sql: string): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (;;) {
    try {
      db.exec(sql);
      return;
    } catch (err) {
      if (!/database is locked/i.test((err as Error).message) || Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5 + Math.random() * 20);
    }
  }
}
