import type { Ledger, RunEntry } from "../ledger/ledger.js";
import type { TrackedTest } from "../protocol/tracked-test.js";
import type { ResolvedExperiment } from "../delivery/registry.js";

// Pure: what the runner says ran, against what the collector received and the backend accepted.

/**
 * One test as the runner reports it (Vitest: TestCase + its meta; Jest: its result + its file's
 * ack). The tracked-test fields are there when the test recorded a LangSmith run.
 */
export interface ReportedTest extends Partial<TrackedTest> {
  name: string;
  file: string;
  state: "passed" | "failed" | "skipped" | "pending";
  durationMs?: number;
  /** Where the test is declared in its file, when the runner says (Vitest). */
  line?: number;
}

export interface MissingRun {
  test: string;
  file: string;
  reason: string;
  /** Declared, and its worker died before any run of it reached the collector (shown per file). */
  unreported?: boolean;
}

/** A test a worker declared and died before reporting: no run of it reached the collector. */
export interface UnreportedTest {
  name: string;
  /** As the report names the file. */
  file: string;
  dataset: string;
  experimentName: string;
}

export const UNREPORTED_REASON = "its worker died before reporting it";

/**
 * A test the run meant to run that never ran to a result. It counts as failed in its experiment's pass
 * rate (and its interval, and the `passRate` gate): a suite whose worker crashes, or that a `--bail`
 * cut short, must not look better than one that ran everything.
 *
 * Which tests these are:
 * - declared by a worker that died before reporting them (`UnreportedTest`, no run reached the
 *   collector), and the tests whose run started but of which the runner has no result ("pending":
 *   the worker died mid-test);
 * - tests the runner cancelled before they ran: Vitest's `--bail` (3.2, 4.1 and 5.1 alike) ends the
 *   files in flight, and their tests not run yet stay "pending" with no result; their worker declared
 *   them at collection, which names their experiment.
 *
 * Not these: tests a user skipped (`.skip`, `.todo`, a `-t` filter, another test's `.only`). The runner
 * reports them "skipped" (Jest: "pending", read as skipped), and the run never meant to run them, so
 * they stay out of the pass rate as out of the table's count; the same for a file a filter left out.
 *
 * What no runner lets Tally know: the tests of files that never started (Vitest's `--bail` skips the
 * files it had not started, Jest's `--bail` stops scheduling files after the first failed one). No
 * worker collected them, so nothing declared them, and the runners report only the file, or a count.
 * Jest's `--bail` stops at file granularity: the failing file runs to its end, then Jest calls the
 * reporters' end of run and exits. A file whose worker declared its tests and had not acked when the
 * run is reconciled is named like a crash's (declared, never reported). Jest keeps its workers going
 * while the reporters' end awaits, and Tally's waits for delivery: on Jest 30 every queued file of a
 * 9-file suite still ran to its end (so no test went uncounted), which is why no test pins this down.
 */
export interface NeverRunTest {
  test: string;
  file: string;
  reason: string;
}

/**
 * Why a test of a died worker whose run reached the collector has no result: killed mid-test, or its
 * result died with the worker. Either way nothing says it passed.
 */
export const NO_RESULT_REASON = "its worker died before the runner had its result";
/** Why a test the runner cancelled never ran (Vitest `--bail`, or an interrupt). */
export const CANCELLED_REASON = "the run was cancelled before it ran (bail)";

export interface ExperimentSummary {
  dataset: string;
  name: string;
  url?: string;
  tests: ReportedTest[];
  expected: number;
  delivered: number;
  spans: number;
  feedback: number;
  missing: MissingRun[];
  /** Tests that never ran to a result (see `NeverRunTest`): counted as failed in the pass rate. */
  neverRun?: NeverRunTest[];
}

export interface RunSummary {
  experiments: ExperimentSummary[];
  /** Traces outside the experiments (plain `traceable`, evaluator runs): accepted / given, by project. */
  otherRuns: { delivered: number; received: number; byProject: Record<string, number> };
  /** Records (runs, spans, feedback) not sent yet. */
  waiting: number;
  /** Tests whose run is among them (received, not yet accepted by the backend). */
  waitingTests: number;
  /** The waiting records by kind: root runs, their spans, feedback. */
  waitingParts?: { runs: number; spans: number; feedback: number };
  /** Why they wait, e.g. "backend unreachable (connection refused)". */
  waitingReason?: string;
  problems: string[];
  /** A `--merge-reports` summary: built from test meta, delivery was checked by each shard. */
  merged?: boolean;
}

export function isDelivered(e: RunEntry | undefined): boolean {
  return !!e && e.received > 0 && e.delivered >= e.received;
}

export function reconcile(
  tests: ReportedTest[],
  ledger: Ledger,
  experiments: ResolvedExperiment[],
  waitingHint: string | undefined,
  unreported: readonly UnreportedTest[] = [],
  cancelled: readonly UnreportedTest[] = [],
): RunSummary {
  const byName = new Map<string, ExperimentSummary>();
  let waitingTests = 0;
  for (const t of tests) {
    const s = experimentOf(byName, t, experiments);
    if (!s) continue;
    if (t.state === "pending") neverRanIn(s, { test: t.name, file: t.file, reason: NO_RESULT_REASON });
    const run = ledger.runs.get(t.runId!);
    if (isDelivered(run) && run!.ended) {
      s.delivered++;
      continue;
    }
    if (isWaiting(run)) waitingTests++;
    s.missing.push({ test: t.name, file: t.file, reason: whyMissing(run, waitingHint) });
  }
  // Expected and not delivered, though no test of the runner's stands for them.
  for (const u of unreported) {
    const s = summaryOf(byName, u.dataset, u.experimentName, experiments);
    s.expected++;
    s.missing.push({ test: u.name, file: u.file, reason: UNREPORTED_REASON, unreported: true });
    neverRanIn(s, { test: u.name, file: u.file, reason: UNREPORTED_REASON });
  }
  // Never started, so no run of theirs is owed: they count in the pass rate, not in the delivery.
  for (const u of cancelled) {
    neverRanIn(summaryOf(byName, u.dataset, u.experimentName, experiments), { test: u.name, file: u.file, reason: CANCELLED_REASON });
  }

  // A test counts once: Jest runs a file again when its worker exits, and each attempt's runs are
  // tests the runner has no result of, under one name.
  for (const s of byName.values()) if (s.neverRun) s.neverRun = uniqueTests(s.neverRun);

  const experimentRunIds = new Set<string>();
  let otherDelivered = 0;
  let otherReceived = 0;
  const byProject: Record<string, number> = {};
  for (const run of ledger.runs.values()) {
    const s = run.session ? byName.get(run.session) : undefined;
    if (!s) {
      if (ledger.isRoot(run)) {
        otherReceived++;
        if (isDelivered(run)) otherDelivered++;
        const project = run.session ?? "default";
        byProject[project] = (byProject[project] ?? 0) + 1;
      }
      continue;
    }
    experimentRunIds.add(run.id);
    if (!ledger.isRoot(run) && isDelivered(run)) s.spans++;
  }
  for (const f of ledger.feedback.values()) {
    if (!f.delivered || !f.runId || !experimentRunIds.has(f.runId)) continue;
    const s = byName.get(ledger.runs.get(f.runId)!.session!);
    if (s) s.feedback++;
  }

  const waitingParts = { runs: 0, spans: 0, feedback: 0 };
  for (const r of ledger.runs.values()) if (!isDelivered(r) && !r.error) waitingParts[ledger.isRoot(r) ? "runs" : "spans"]++;
  for (const f of ledger.feedback.values()) if (!f.delivered && !f.error) waitingParts.feedback++;
  const waiting = waitingParts.runs + waitingParts.spans + waitingParts.feedback;

  return {
    experiments: [...byName.values()],
    otherRuns: { delivered: otherDelivered, received: otherReceived, byProject },
    waiting,
    waitingTests,
    waitingParts,
    ...(waiting > 0 && waitingHint ? { waitingReason: waitingHint } : {}),
    problems: [...ledger.problems, ...ledger.acks.flatMap((a) => a.problems)],
  };
}

/**
 * A run whose delivery was checked elsewhere (Vitest `--merge-reports`: each shard checked its own
 * and no collector ran here): the experiments and their tests, from what the tests carry.
 */
export function summarizeMerged(tests: ReportedTest[]): RunSummary {
  const byName = new Map<string, ExperimentSummary>();
  for (const t of tests) {
    const s = experimentOf(byName, t, []);
    if (s && t.state === "pending") neverRanIn(s, { test: t.name, file: t.file, reason: NO_RESULT_REASON });
  }
  return {
    experiments: [...byName.values()],
    otherRuns: { delivered: 0, received: 0, byProject: {} },
    waiting: 0,
    waitingTests: 0,
    problems: [],
    merged: true,
  };
}

/** The summary of a tracked test's experiment, with the test counted in; undefined for an untracked test. */
function experimentOf(
  byName: Map<string, ExperimentSummary>,
  t: ReportedTest,
  experiments: ResolvedExperiment[],
): ExperimentSummary | undefined {
  if (!t.runId || !t.dataset || !t.experimentName) return undefined;
  const s = summaryOf(byName, t.dataset, t.experimentName, experiments);
  s.tests.push(t);
  s.expected++;
  return s;
}

function summaryOf(
  byName: Map<string, ExperimentSummary>,
  dataset: string,
  name: string,
  experiments: ResolvedExperiment[],
): ExperimentSummary {
  let s = byName.get(name);
  if (!s) {
    const url = experiments.find((e) => e.name === name || e.dataset === dataset)?.url;
    s = { dataset, name, url, tests: [], expected: 0, delivered: 0, spans: 0, feedback: 0, missing: [] };
    byName.set(name, s);
  }
  return s;
}

function neverRanIn(s: ExperimentSummary, t: NeverRunTest): void {
  (s.neverRun ??= []).push(t);
}

function uniqueTests(tests: readonly NeverRunTest[]): NeverRunTest[] {
  const seen = new Set<string>();
  return tests.filter((t) => {
    const key = `${t.file}\u0000${t.test}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Received by the collector, neither accepted nor refused by the backend yet: it is in the spool. */
function isWaiting(run: RunEntry | undefined): boolean {
  return !!run && !run.error && run.delivered < run.received;
}

function whyMissing(run: RunEntry | undefined, waitingHint: string | undefined): string {
  if (!run) return "its run never reached the collector (the worker stopped before its flush finished)";
  if (run.error) return `the backend refused it: ${run.error}`;
  if (isWaiting(run)) return `not sent yet, kept in the spool${waitingHint ? ` (${waitingHint})` : ""}`;
  if (!run.ended) return "its run was started but never ended (the worker stopped mid-test)";
  return "unknown";
}
