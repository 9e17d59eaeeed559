import { relative } from "node:path";
import type { AckedTest, TrackedTest, WorkerAck } from "../protocol/tracked-test.js";
import type { ReportedTest } from "./reconcile.js";

// Pure: what a runner adapter hands the run at its end (its binding), joined with the workers' acks
// into the tests the report reconciles. Adapters only say what their runner saw; which file owes an
// ack, and which run each test recorded when the runner cannot carry it, is decided here.

/** What a runner knows at the end of a run: the test files that ran, each with its tests. */
export interface RunBinding {
  files: BoundFile[];
  /**
   * Where each test's run comes from. "tests": the runner carries it on the test (Vitest's task meta:
   * `BoundTest.tracked`). "acks": only the file's worker ack knows it (Jest has no task meta), and the
   * tests are joined with the ack by full name.
   */
  trackedFrom: "tests" | "acks";
}

export interface BoundFile {
  /** The file as its worker's ack names it (an absolute path). */
  path: string;
  /** The file as the report shows it (relative to the root where the runner knows it). */
  name: string;
  /**
   * Its worker owes an ack: the file ran tests Tally tracks (or may have: with "acks", a file that ran
   * anything, or failed to load). Without the ack, the run names the file as a problem.
   */
  expectsAck: boolean;
  tests: BoundTest[];
}

export interface BoundTest {
  /** The runner's full name (describe titles and test title). */
  name: string;
  state: ReportedTest["state"];
  durationMs?: number;
  /** Where the test is declared in its file, when the runner says (Vitest). */
  line?: number;
  /** Times it ran (retries). With "acks", each attempt recorded its own run; the last one counts. */
  attempts?: number;
  /** The run it recorded, when the runner carries it ("tests"). */
  tracked?: TrackedTest;
  /**
   * Puts a property on the runner's own result of this test (written as a JUnit `<property>`). Absent
   * where the runner keeps no place for one.
   */
  setProperty?(name: string, value: string): void;
}

export interface JoinedBinding {
  tests: ReportedTest[];
  /** Files (as the report names them) that owed an ack and never sent it. */
  unacked: string[];
  /** The bound test each reported test came from (the sinks reach the runner's result through it). */
  boundOf: Map<ReportedTest, BoundTest>;
}

/** What the join reads of a worker's ack. */
export type AckedFile = Pick<WorkerAck, "file" | "tests">;

/** Joins the binding with the acks; `root` names the files only an ack knows of. */
export function joinBinding(binding: RunBinding, acks: readonly AckedFile[], root: string): JoinedBinding {
  const out: JoinedBinding = { tests: [], unacked: [], boundOf: new Map() };
  const acksByFile = new Map<string, AckedTest[]>();
  for (const a of acks) acksByFile.set(a.file, [...(acksByFile.get(a.file) ?? []), ...a.tests]);
  const add = (test: ReportedTest, bound?: BoundTest) => {
    out.tests.push(test);
    if (bound) out.boundOf.set(test, bound);
  };

  for (const f of binding.files) {
    const acked = acksByFile.get(f.path);
    acksByFile.delete(f.path);
    if (!acked && f.expectsAck) out.unacked.push(f.name);
    if (binding.trackedFrom === "tests") {
      for (const t of f.tests) add(reported(f.name, t, t.tracked), t);
      continue;
    }
    // Runs of one name, in the order they ran: each test takes one per attempt, the last counts.
    const byName = new Map<string, AckedTest[]>();
    for (const a of acked ?? []) byName.set(a.fullName, [...(byName.get(a.fullName) ?? []), a]);
    for (const t of f.tests) {
      const attempts = byName.get(t.name)?.splice(0, Math.max(1, t.attempts ?? 1)) ?? [];
      add(reported(f.name, t, attempts.at(-1)), t);
    }
    // Tracked tests the runner did not list under the same name still count.
    for (const rest of byName.values()) for (const a of rest) add(fromAck(f.name, a));
  }
  // Acks of files the runner reported nothing for (should not happen; kept rather than lost). With
  // "tests" the runner's own record is complete, and acks only prove the flush.
  if (binding.trackedFrom === "acks") {
    for (const [path, rest] of acksByFile) for (const a of rest) add(fromAck(relative(root, path) || path, a));
  }
  return out;
}

function reported(file: string, t: BoundTest, run: TrackedTest | undefined): ReportedTest {
  return {
    name: t.name,
    file,
    state: t.state,
    runId: run?.runId,
    dataset: run?.dataset,
    experimentName: run?.experimentName,
    feedback: run?.feedback,
    durationMs: t.durationMs,
    ...(t.line ? { line: t.line } : {}),
  };
}

function fromAck(file: string, a: AckedTest): ReportedTest {
  return {
    name: a.fullName,
    file,
    state: a.passed ? "passed" : "failed",
    runId: a.runId,
    dataset: a.dataset,
    experimentName: a.experimentName,
    feedback: a.feedback,
  };
}
