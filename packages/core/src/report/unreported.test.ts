import { describe, expect, it } from "vitest";
import { Ledger, type DeclaredTest } from "../ledger/ledger.js";
import type { TestRegistration } from "../protocol/examples.js";
import { buildReport } from "./ci/build-report.js";
import { joinBinding, type BoundTest, type RunBinding, type WorkerAccount } from "./binding.js";
import { reconcile, UNREPORTED_REASON } from "./reconcile.js";
import { renderReport, unreportedLines } from "./render.js";

// A worker that dies mid-file (SIGKILL, OOM) never acks: what it declared at collection, against
// the runs that reached the collector and what the runner saw, names the tests it never reported.

const EXP = { name: "ds:run", id: "00000000-0000-4000-8000-000000000001" };
const FILE = "/p/evals/killed.test.ts";

const declared = (names: string[], file = FILE): DeclaredTest[] =>
  names.map((name) => ({ file, name, dataset: "ds", experimentName: EXP.name }));
const registration = (runId: string, fullName: string, file = FILE): TestRegistration => ({
  runId,
  name: fullName.split(/ > | /).at(-1)!,
  fullName,
  file,
  dataset: "ds",
  experiment: EXP,
  inputs: {},
  inputsHash: "h",
  outputsHash: "h",
});
const tracked = (runId: string) => ({ runId, dataset: "ds", experimentName: EXP.name, experimentId: EXP.id, feedback: [] });
const bound = (name: string, state: BoundTest["state"], extra: Partial<BoundTest> = {}): BoundTest => ({ name, state, ...extra });
const killed = (tests: BoundTest[], expectsAck: boolean): RunBinding["files"][number] => ({
  path: FILE,
  name: "evals/killed.test.ts",
  expectsAck,
  tests,
});

/** A ledger holding the given runs as received, ended and delivered. */
function ledgerOf(account: { registered: TestRegistration[] }): Ledger {
  const ledger = new Ledger();
  for (const r of account.registered) {
    ledger.noteTest(r);
    const op = {
      kind: "create" as const,
      run: { id: r.runId, trace_id: r.runId, session_name: EXP.name, end_time: "2026-12-03T00:00:00Z" },
    };
    ledger.noteRun(op);
    ledger.runDelivered(op);
  }
  return ledger;
}

describe("a file whose worker died (Jest: the runner kept no result of it)", () => {
  const names = ["ds case 0", "ds case 1", "ds case 2", "ds case 3", "ds case 4"];
  const account: WorkerAccount & { registered: TestRegistration[] } = {
    // Declared twice: Jest runs a file again when its worker exits with a code.
    declared: [...declared(names), ...declared(names)],
    registered: [registration("r0", "ds case 0"), registration("r1", "ds case 1")],
  };
  const binding: RunBinding = { trackedFrom: "acks", files: [killed([], true)] };

  it("counts the runs that reached the collector, and names the declared tests with none", () => {
    const joined = joinBinding(binding, [], "/p", account);
    expect(joined.unacked).toEqual(["evals/killed.test.ts"]);
    expect(joined.tests.map((t) => [t.name, t.state, t.runId])).toEqual([
      ["ds case 0", "pending", "r0"],
      ["ds case 1", "pending", "r1"],
    ]);
    expect(joined.unreported.map((u) => u.name)).toEqual(["ds case 2", "ds case 3", "ds case 4"]);
    expect(joined.unreported[0]).toEqual({ name: "ds case 2", file: "evals/killed.test.ts", dataset: "ds", experimentName: EXP.name });
  });

  it("counts them in the experiment as expected and not delivered, one line per file, and in the JSON report", () => {
    const joined = joinBinding(binding, [], "/p", account);
    const summary = reconcile(joined.tests, ledgerOf(account), [], undefined, joined.unreported);
    expect(summary.experiments).toHaveLength(1);
    const exp = summary.experiments[0]!;
    expect([exp.delivered, exp.expected]).toEqual([2, 5]);
    expect(exp.missing.map((m) => [m.test, m.reason])).toEqual([
      ["ds case 2", UNREPORTED_REASON],
      ["ds case 3", UNREPORTED_REASON],
      ["ds case 4", UNREPORTED_REASON],
    ]);
    const lines = renderReport(summary, { tables: false });
    expect(lines).toEqual([
      `tally: 2/5 runs · 0 spans · 0 feedback delivered to "${EXP.name}"`,
      // The two without a result and the three never reported: none is known to have passed.
      `tally:   5 tests never ran (worker died) in "${EXP.name}": counted as failed in the pass rate (ds case 0, ds case 1, ds case 2, …)`,
      "tally: worker for evals/killed.test.ts died before reporting: 3 tests (ds case 2, ds case 3, ds case 4)",
    ]);
    const report = buildReport({
      summary,
      compared: [],
      run: { key: "k", startedAt: "2026-12-03T00:00:00Z", endedAt: "2026-12-03T00:00:01Z", git: null },
      gates: {},
    });
    expect(report.experiments[0]!.delivered).toEqual({
      runs: 2,
      expected: 5,
      spans: 0,
      feedback: 0,
      missing: ["ds case 2", "ds case 3", "ds case 4"].map((test) => ({ test, file: "evals/killed.test.ts", reason: UNREPORTED_REASON })),
    });
  });

  it("names files only their declarations know of (a run without Tally's reporter)", () => {
    const joined = joinBinding({ trackedFrom: "acks", files: [] }, [], "/p", account);
    expect(joined.unacked).toEqual(["evals/killed.test.ts"]);
    expect(joined.unreported.map((u) => u.name)).toEqual(["ds case 2", "ds case 3", "ds case 4"]);
  });

  it("reads nothing of the declarations of a file that acked", () => {
    const joined = joinBinding(binding, [{ file: FILE, tests: [] }], "/p", account);
    expect([joined.unacked, joined.unreported, joined.tests]).toEqual([[], [], []]);
  });
});

describe("a file whose worker died (Vitest: the runner has its tests, some without a result)", () => {
  // The worker knows a test's title; Vitest's full name has the describe titles before it.
  const account = {
    declared: declared(["case 0", "case 1", "case 2", "case 3"]),
    registered: [registration("r0", "case 0"), registration("r1", "case 1"), registration("r2", "case 2")],
  };

  it("gives the runner's tests without a result the run they registered, and names the rest", () => {
    const binding: RunBinding = {
      trackedFrom: "tests",
      // The result of case 0 reached Vitest before the worker died; case 1's did not.
      files: [
        killed(
          [
            bound("ds > case 0", "passed", { tracked: tracked("r0") }),
            bound("ds > case 1", "pending"),
            bound("ds > case 2", "pending"),
            bound("ds > case 3", "pending"),
          ],
          true,
        ),
      ],
    };
    const joined = joinBinding(binding, [], "/p", account);
    expect(joined.tests.map((t) => [t.name, t.state, t.runId])).toEqual([
      ["ds > case 0", "passed", "r0"],
      ["ds > case 1", "pending", "r1"],
      ["ds > case 2", "pending", "r2"],
      ["ds > case 3", "pending", undefined],
    ]);
    expect(joined.unreported.map((u) => u.name)).toEqual(["case 3"]);
  });

  it("owes an ack for its declarations even when no result with a run reached the runner", () => {
    const binding: RunBinding = { trackedFrom: "tests", files: [killed([bound("ds > case 0", "pending")], false)] };
    const joined = joinBinding(binding, [], "/p", { declared: account.declared, registered: [] });
    expect(joined.unacked).toEqual(["evals/killed.test.ts"]);
    expect(joined.unreported.map((u) => u.name)).toEqual(["case 0", "case 1", "case 2", "case 3"]);
  });

  it("does not name the tests the runner skipped (a user's skip or -t filter)", () => {
    const binding: RunBinding = {
      trackedFrom: "tests",
      files: [killed([bound("ds > case 0", "passed", { tracked: tracked("r0") }), bound("ds > case 3", "skipped")], true)],
    };
    const joined = joinBinding(binding, [], "/p", { declared: declared(["case 0", "case 3"]), registered: [] });
    expect(joined.unreported).toEqual([]);
  });
});

describe("the died worker's line", () => {
  it("gives the count and the first three names", () => {
    const missing = Array.from({ length: 10 }, (_, i) => ({
      test: `case 3-${i}`,
      file: "evals/f3.test.mjs",
      reason: UNREPORTED_REASON,
      unreported: true,
    }));
    const exp = { dataset: "ds", name: "x", tests: [], expected: 10, delivered: 0, spans: 0, feedback: 0, missing };
    expect(unreportedLines([exp])).toEqual([
      "tally: worker for evals/f3.test.mjs died before reporting: 10 tests (case 3-0, case 3-1, case 3-2, …)",
    ]);
  });
});
