import type { ReportedTest, WorkerAck } from "@tally/core" with { "resolution-mode": "import" };
import { relative } from "node:path";

// Pure: what Jest reports (per file, per test) joined with what each file's worker acked (its
// tracked tests, their run ids and scores). Jest has no task meta; the acks are the other half.

export interface JestAssertion {
  fullName: string;
  status: string;
  duration?: number | null;
  /** Attempts, with jest.retryTimes: each attempt was its own run. */
  invocations?: number;
}

export interface JestFileResult {
  testFilePath: string;
  testResults: JestAssertion[];
  testExecError?: { message?: string } | null;
}

/** What the join needs of a worker's ack. */
export type AckedFile = Pick<WorkerAck, "file" | "tests">;

export interface JoinedResults {
  tests: ReportedTest[];
  /** Test files that ran but whose final flush never acked. */
  unacked: string[];
  /** For each Jest assertion result that was a tracked test: its dataset (to link the experiment). */
  datasetOf: Map<JestAssertion, string>;
}

export function joinResults(rootDir: string, files: JestFileResult[], acks: AckedFile[]): JoinedResults {
  const tests: ReportedTest[] = [];
  const unacked: string[] = [];
  const datasetOf = new Map<JestAssertion, string>();
  const acksByFile = new Map<string, AckedFile["tests"]>();
  for (const a of acks) acksByFile.set(a.file, [...(acksByFile.get(a.file) ?? []), ...a.tests]);

  for (const f of files) {
    const file = relative(rootDir, f.testFilePath) || f.testFilePath;
    const acked = acksByFile.get(f.testFilePath);
    acksByFile.delete(f.testFilePath);
    if (!acked && (f.testResults.length > 0 || f.testExecError)) unacked.push(file);
    // Runs of one name, in the order they ran: each Jest result takes one per attempt, the last counts.
    const byName = new Map<string, AckedFile["tests"]>();
    for (const t of acked ?? []) byName.set(t.fullName, [...(byName.get(t.fullName) ?? []), t]);
    for (const r of f.testResults) {
      const attempts = byName.get(r.fullName)?.splice(0, Math.max(1, r.invocations ?? 1)) ?? [];
      const run = attempts.at(-1);
      if (run) datasetOf.set(r, run.dataset);
      tests.push({
        name: r.fullName,
        file,
        state: stateOf(r.status),
        runId: run?.runId,
        dataset: run?.dataset,
        experimentName: run?.experimentName,
        feedback: run?.feedback,
        durationMs: r.duration ?? undefined,
      });
    }
    // Tracked tests Jest did not list under the same name still count.
    for (const rest of byName.values()) for (const run of rest) tests.push(fromAck(file, run));
  }
  // Acks from files Jest reported no result for (should not happen; kept rather than lost).
  for (const [path, rest] of acksByFile) for (const run of rest) tests.push(fromAck(relative(rootDir, path) || path, run));
  return { tests, unacked, datasetOf };
}

function fromAck(file: string, run: AckedFile["tests"][number]): ReportedTest {
  return {
    name: run.fullName,
    file,
    state: run.passed ? "passed" : "failed",
    runId: run.runId,
    dataset: run.dataset,
    experimentName: run.experimentName,
    feedback: run.feedback,
  };
}

function stateOf(status: string): ReportedTest["state"] {
  if (status === "passed" || status === "failed") return status;
  return "skipped";
}
