import type { DeclaredTests, TestRegistration } from "../protocol/examples.js";
import type { WorkerAck } from "../protocol/tracked-test.js";
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

/** A tracked test a worker declared at collection (its file's hint), and the experiment it records into. */
export interface DeclaredTest {
  file: string;
  name: string;
  dataset: string;
  experimentName: string;
}

export interface FeedbackEntry {
  id: string;
  runId?: string | null;
  key: string;
  delivered: boolean;
  error?: string;
}

export class Ledger {
  readonly runs = new Map<string, RunEntry>();
  readonly feedback = new Map<string, FeedbackEntry>();
  readonly tests = new Map<string, TestRegistration>();
  readonly acks: WorkerAck[] = [];
  /** What workers declared they would run: a file whose worker dies names the tests it never reported. */
  readonly declared: DeclaredTest[] = [];
  /** Requests the collector turned away (malformed, unserialisable): shown at the end. */
  readonly problems: string[] = [];

  noteTest(t: TestRegistration): void {
    this.tests.set(t.runId, t);
  }

  declare(d: DeclaredTests, dataset: string, experimentName: string): void {
    for (const name of d.tests) this.declared.push({ file: d.file, name, dataset, experimentName });
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
