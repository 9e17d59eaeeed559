import { relative } from "node:path";
import type { DeclaredTest } from "../ledger/ledger.js";
import type { TestRegistration } from "../protocol/examples.js";
import type { AckedTest, TrackedTest, WorkerAck } from "../protocol/tracked-test.js";
import type { ReportedTest, UnreportedTest } from "./reconcile.js";

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
  /** Tests the worker of an unacked file declared and never reported (no run of theirs reached the collector). */
  unreported: UnreportedTest[];
  /**
   * Tests of a file that acked which the runner lists with no result and no run (Vitest's `--bail`
   * cancels the rest of the files in flight): named with the experiment their declaration gives.
   */
  cancelled: UnreportedTest[];
  /** The bound test each reported test came from (the sinks reach the runner's result through it). */
  boundOf: Map<ReportedTest, BoundTest>;
}

/** What the join reads of a worker's ack. */
export type AckedFile = Pick<WorkerAck, "file" | "tests">;

/**
 * What the collector heard from the workers besides their acks (the ledger's): what each file
 * declared at collection, and the tests whose run reached it. Read for the files never acked.
 */
export interface WorkerAccount {
  declared: readonly DeclaredTest[];
  registered: Iterable<TestRegistration>;
}

const NOTHING_HEARD: WorkerAccount = { declared: [], registered: [] };

/** Joins the binding with the acks; `root` names the files only an ack (or a declaration) knows of. */
export function joinBinding(
  binding: RunBinding,
  acks: readonly AckedFile[],
  root: string,
  worker: WorkerAccount = NOTHING_HEARD,
): JoinedBinding {
  const out: JoinedBinding = { tests: [], unacked: [], unreported: [], cancelled: [], boundOf: new Map() };
  const acksByFile = new Map<string, AckedTest[]>();
  for (const a of acks) acksByFile.set(a.file, [...(acksByFile.get(a.file) ?? []), ...a.tests]);
  const ackedFiles = new Set(acksByFile.keys());
  const declaredByFile = groupBy(worker.declared, (d) => d.file);
  const registeredByFile = groupBy([...worker.registered], (r) => r.file);
  const add = (test: ReportedTest, bound?: BoundTest) => {
    out.tests.push(test);
    if (bound) out.boundOf.set(test, bound);
  };

  for (const f of binding.files) {
    const acked = acksByFile.get(f.path);
    acksByFile.delete(f.path);
    const declared = declaredByFile.get(f.path);
    declaredByFile.delete(f.path);
    // A file that declared tracked tests owes an ack even when no result of it reached the runner
    // (Vitest hears of a test's run only with its result, which a killed worker may not have sent).
    const died = !acked && (f.expectsAck || !!declared);
    if (died) out.unacked.push(f.name);
    const runs = registeredRuns(died ? registeredByFile.get(f.path) : undefined, f.tests);
    const start = out.tests.length;
    if (binding.trackedFrom === "tests") {
      for (const t of f.tests) add(reported(f.name, t, t.tracked ?? runs.take(t.name)), t);
    } else {
      // Runs of one name, in the order they ran: each test takes one per attempt, the last counts.
      const byName = new Map<string, AckedTest[]>();
      for (const a of acked ?? []) byName.set(a.fullName, [...(byName.get(a.fullName) ?? []), a]);
      for (const t of f.tests) {
        const attempts = byName.get(t.name)?.splice(0, Math.max(1, t.attempts ?? 1)) ?? [];
        add(reported(f.name, t, attempts.at(-1) ?? runs.take(t.name)), t);
      }
      // Tracked tests the runner did not list under the same name still count.
      for (const rest of byName.values()) for (const a of rest) add(fromAck(f.name, a));
    }
    if (died) diedUnheard(f.name, runs, declared, out.tests.slice(start), add, out.unreported);
    else out.cancelled.push(...cancelledOf(f.name, out.tests.slice(start), declared));
  }
  // Acks of files the runner reported nothing for (should not happen; kept rather than lost). With
  // "tests" the runner's own record is complete, and acks only prove the flush.
  if (binding.trackedFrom === "acks") {
    for (const [path, rest] of acksByFile) for (const a of rest) add(fromAck(relative(root, path) || path, a));
  }
  // Files only their worker's declarations know of (Jest's runs without Tally's reporter), never acked.
  for (const [path, declared] of declaredByFile) {
    if (ackedFiles.has(path)) continue;
    const name = relative(root, path) || path;
    out.unacked.push(name);
    diedUnheard(name, registeredRuns(registeredByFile.get(path), []), declared, [], add, out.unreported);
  }
  return out;
}

/** The runs a file's tests registered with the collector that the runner's tests do not carry. */
interface RegisteredRuns {
  /** The run of the runner's test of this name, once (the first test of the name takes it). */
  take(runnerName: string): TrackedTest | undefined;
  /** The runs no test took. */
  rest(): TestRegistration[];
}

function registeredRuns(registered: readonly TestRegistration[] | undefined, bound: readonly BoundTest[]): RegisteredRuns {
  const carried = new Set(bound.map((t) => t.tracked?.runId));
  const left = (registered ?? []).filter((r) => !carried.has(r.runId));
  return {
    take(runnerName) {
      const i = left.findIndex((r) => sameTest(runnerName, workerName(r)));
      return i < 0 ? undefined : trackedOf(left.splice(i, 1)[0]!);
    },
    rest: () => left.splice(0),
  };
}

/**
 * The rest of a file whose worker died: the runs it registered that no test of the runner's took
 * count as tests the runner has no result for ("pending"), and what it declared and never reported
 * is named.
 */
function diedUnheard(
  file: string,
  runs: RegisteredRuns,
  declared: readonly DeclaredTest[] | undefined,
  joined: readonly ReportedTest[],
  add: (t: ReportedTest) => void,
  unreported: UnreportedTest[],
): void {
  const rest = runs.rest();
  // Heard of: a run reached the collector, or the runner says the test was skipped (a user's skip or
  // filter: not Tally's to name; a cancelled test is "pending" in Vitest 3.2 to 5.1).
  const heard = [...joined.filter((t) => t.runId || t.state === "skipped").map((t) => t.name), ...rest.map(workerName)];
  for (const r of rest) add({ name: workerName(r), file, state: "pending", ...trackedOf(r) });
  // A file run again (Jest restarts a worker that exited with a code) declares its tests again: once each.
  const seen = new Set<string>();
  for (const d of declared ?? []) {
    if (seen.has(d.name)) continue;
    seen.add(d.name);
    if (!heard.some((n) => sameTest(n, d.name))) {
      unreported.push({ name: d.name, file, dataset: d.dataset, experimentName: d.experimentName });
    }
  }
}

/**
 * The tests of a file whose worker lived that the runner has no result of and that recorded no run:
 * the run was cancelled before them (the runner says "pending"; a test a user skipped is "skipped").
 * Their declaration names their experiment; a test that declared none is not Tally's.
 */
function cancelledOf(file: string, joined: readonly ReportedTest[], declared: readonly DeclaredTest[] | undefined): UnreportedTest[] {
  const out: UnreportedTest[] = [];
  const left = [...(declared ?? [])];
  for (const t of joined) {
    if (t.state !== "pending" || t.runId) continue;
    const i = left.findIndex((d) => sameTest(t.name, d.name));
    if (i < 0) continue;
    const d = left.splice(i, 1)[0]!;
    out.push({ name: t.name, file, dataset: d.dataset, experimentName: d.experimentName });
  }
  return out;
}

/** The test as its worker named it (registrations before this carried the title only). */
function workerName(r: TestRegistration): string {
  return r.fullName ?? r.name;
}

/**
 * Whether the runner's name of a test is the worker's: the same (Jest: the worker asks for the full
 * name), or ending in it after Vitest's " > " (a Vitest worker knows only the test's title).
 */
function sameTest(runnerName: string, workerName: string): boolean {
  return runnerName === workerName || runnerName.endsWith(` > ${workerName}`);
}

function trackedOf(r: TestRegistration): TrackedTest {
  return { runId: r.runId, dataset: r.dataset, experimentName: r.experiment.name, experimentId: r.experiment.id, feedback: [] };
}

function groupBy<T>(items: Iterable<T>, key: (t: T) => string | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) out.set(k, [...(out.get(k) ?? []), item]);
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
    ...(run?.cache ? { cache: run.cache } : {}),
    ...(run?.usage ? { usage: run.usage } : {}),
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
    ...(a.cache ? { cache: a.cache } : {}),
    ...(a.usage ? { usage: a.usage } : {}),
  };
}
