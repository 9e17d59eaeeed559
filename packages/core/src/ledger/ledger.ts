import type { TestRegistration } from "../spool/records.js";
import type { FeedbackRecord, RunOp } from "../wire/types.js";

// The collector's account of every run and feedback it was given and what the backend accepted.
// The reporter reconciles its own list of tests against this: a test whose root run is not
// "delivered and ended" is named at the end of the run, with the reason.

export interface RunEntry {
  id: string;
  session?: string;
  traceId?: string;
  parentRunId?: string | null;
  name?: string;
  ended: boolean;
  /** Operations (create, patches) received from workers and accepted by the backend. */
  received: number;
  delivered: number;
  error?: string;
}

export interface FeedbackEntry {
  id: string;
  runId?: string | null;
  key: string;
  delivered: boolean;
  error?: string;
}

/**
 * A tracked test as its worker saw it, sent with the file's ack. Jest has no task meta: this is how
 * its main process learns each test's run id, experiment and scores, even for a run that never
 * reached the collector (sampled away, or refused).
 */
export interface AckedTest {
  runId: string;
  /** The runner's full test name (describe titles and test title). */
  fullName: string;
  dataset: string;
  experimentName: string;
  experimentId: string;
  feedback: Array<{ key: string; score: number | boolean | null }>;
  passed: boolean;
}

export interface WorkerAck {
  file: string;
  worker?: string;
  at: number;
  /** What the worker's flush could not send (it names tests); empty when all went well. */
  problems: string[];
  tests: AckedTest[];
}

export class Ledger {
  readonly runs = new Map<string, RunEntry>();
  readonly feedback = new Map<string, FeedbackEntry>();
  readonly tests = new Map<string, TestRegistration>();
  readonly acks: WorkerAck[] = [];
  /** Requests the collector turned away (malformed, unserialisable): shown at the end. */
  readonly problems: string[] = [];

  noteTest(t: TestRegistration): void {
    this.tests.set(t.runId, t);
  }

  noteRun(op: RunOp): RunEntry {
    const { run } = op;
    let e = this.runs.get(run.id);
    if (!e) {
      e = { id: run.id, ended: false, received: 0, delivered: 0 };
      this.runs.set(run.id, e);
    }
    e.received++;
    if (run.session_name) e.session = run.session_name;
    if (run.trace_id) e.traceId = run.trace_id;
    if (run.parent_run_id !== undefined) e.parentRunId = run.parent_run_id;
    if (run.name) e.name = run.name;
    if (run.end_time != null) e.ended = true;
    return e;
  }

  noteFeedback(f: FeedbackRecord): void {
    this.feedback.set(f.id, { id: f.id, runId: f.run_id, key: f.key, delivered: false });
  }

  runDelivered(op: RunOp): void {
    const e = this.runs.get(op.run.id);
    if (!e) return;
    e.delivered++;
    e.error = undefined;
  }

  runFailed(id: string, message: string): void {
    const e = this.runs.get(id);
    if (e) e.error = message;
  }

  feedbackDelivered(id: string): void {
    const f = this.feedback.get(id);
    if (f) {
      f.delivered = true;
      f.error = undefined;
    }
  }

  feedbackFailed(id: string, message: string): void {
    const f = this.feedback.get(id);
    if (f) f.error = message;
  }

  ack(a: WorkerAck): void {
    this.acks.push(a);
  }

  isRoot(e: RunEntry): boolean {
    return !e.parentRunId && (!e.traceId || e.traceId === e.id);
  }
}
