// The SQLite store behind the embedded LangSmith-compatible server: one database file (or
// ":memory:"), one repository per resource. node:sqlite is synchronous, so within one process every
// write is already serialised; across processes WAL + busy_timeout + BEGIN IMMEDIATE take over.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { AttachmentRepo } from "./attachments.js";
import { DatasetRepo } from "./datasets.js";
import { Db } from "./db.js";
import { ExampleRepo } from "./examples.js";
import { FeedbackRepo } from "./feedback.js";
import { RunRepo } from "./runs.js";
import { initSchema } from "./schema.js";
import { SessionRepo } from "./sessions.js";
import { loadSqlite } from "./sqlite.js";

/**
 * The store's query API is its repositories: every SQL statement lives in this folder, and callers
 * (the server's routes, the viewer, the local backend) only call repository methods.
 */
export class Store {
  private readonly db: Db;
  readonly datasets: DatasetRepo;
  readonly examples: ExampleRepo;
  readonly sessions: SessionRepo;
  readonly runs: RunRepo;
  readonly feedback: FeedbackRepo;
  readonly attachments: AttachmentRepo;
  private closed = false;

  /** Opens (creating if needed) the database at `path`; ":memory:" for a throwaway store. */
  constructor(readonly path: string = ":memory:") {
    const inMemory = path === ":memory:" || path === "";
    if (!inMemory) mkdirSync(dirname(path), { recursive: true });
    const { DatabaseSync } = loadSqlite();
    const raw = new DatabaseSync(inMemory ? ":memory:" : path);
    try {
      initSchema(raw, inMemory);
    } catch (err) {
      raw.close();
      throw err;
    }
    this.db = new Db(raw);
    this.attachments = new AttachmentRepo(this.db);
    this.feedback = new FeedbackRepo(this.db);
    this.datasets = new DatasetRepo(this.db);
    this.examples = new ExampleRepo(this.db, this.datasets, this.attachments);
    this.sessions = new SessionRepo(this.db, this.feedback);
    this.runs = new RunRepo(this.db, this.sessions, this.feedback, this.attachments);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.raw.close();
  }
}
