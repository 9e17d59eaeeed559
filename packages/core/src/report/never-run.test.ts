import { describe, expect, it } from "vitest";
import { validateReport } from "../../../../test/support/report-schema.js";
import type { DeclaredTest } from "../ledger/ledger.js";
import { Ledger } from "../ledger/ledger.js";
import type { TestRegistration } from "../protocol/examples.js";
import { wilson } from "../stats/index.js";
import { buildReport } from "./ci/build-report.js";
import { jobSummaryMarkdown } from "./ci/markdown.js";
import { mergeReports } from "./ci/merge.js";
import { joinBinding, type BoundTest, type RunBinding } from "./binding.js";
import type { TallyReportV1 } from "./json-report.js";
import { CANCELLED_REASON, NO_RESULT_REASON, reconcile, type ReportedTest, UNREPORTED_REASON } from "./reconcile.js";
import { renderReport } from "./render.js";

// Tests the run meant to run that never ran to a result (a died worker's, a bail's) count as failed in
// the pass rate, its interval and the passRate gate, and are named in the terminal, the job summary
// and the JSON report; tests a user skipped do not count.

const EXP = { name: "ds:run", id: "00000000-0000-4000-8000-000000000001" };
const FILE = "/p/evals/bail.test.mjs";
const RUN = { key: "k", startedAt: "2026-12-03T00:00:00Z", endedAt: "2026-12-03T00:00:01Z", git: null };

const declared = (names: string[], file = FILE): DeclaredTest[] =>
  names.map((name) => ({ file, name, dataset: "ds", experimentName: EXP.name }));
const tracked = (runId: string) => ({ runId, dataset: "ds", experimentName: EXP.name, experimentId: EXP.id, feedback: [] });
const bound = (name: string, state: BoundTest["state"], runId?: string): BoundTest => ({
  name,
  state,
  ...(runId ? { tracked: tracked(runId) } : {}),
});

/** A ledger holding the given runs as received, ended and delivered. */
function ledgerOf(runIds: string[]): Ledger {
  const ledger = new Ledger();
  for (const id of runIds) {
    const op = { kind: "create" as const, run: { id, trace_id: id, session_name: EXP.name, end_time: "2026-12-03T00:00:00Z" } };
    ledger.noteRun(op);
    ledger.runDelivered(op);
  }
  return ledger;
}

/** Vitest's `--bail`: the file in flight acked; its tests not run yet are "pending", without a run. */
function bailedRun() {
  const binding: RunBinding = {
    trackedFrom: "tests",
    files: [
      {
        path: FILE,
        name: "evals/bail.test.mjs",
        expectsAck: true,
        tests: [
          bound("ds > b0", "passed", "r0"),
          bound("ds > b1", "failed", "r1"),
          bound("ds > b2", "pending"),
          bound("ds > b3", "pending"),
          // Skipped by the user (`.skip`, `-t`, `.only` elsewhere): declared or not, not Tally's to count.
          bound("ds > filtered", "skipped"),
          // A plain `test()` the bail cancelled: it declared nothing, it is in no experiment.
          bound("ds > plain", "pending"),
        ],
      },
    ],
  };
  const account = { declared: declared(["b0", "b1", "b2", "b3", "filtered"]), registered: [] };
  const joined = joinBinding(binding, [{ file: FILE, tests: [] }], "/p", account);
  const summary = reconcile(joined.tests, ledgerOf(["r0", "r1"]), [], undefined, joined.unreported, joined.cancelled);
  return { joined, summary };
}

describe("tests the runner cancelled (Vitest --bail)", () => {
  it("are named with the experiment their declaration gives; skipped and undeclared tests are not", () => {
    const { joined } = bailedRun();
    expect(joined.unacked).toEqual([]);
    expect(joined.unreported).toEqual([]);
    expect(joined.cancelled).toEqual([
      { name: "ds > b2", file: "evals/bail.test.mjs", dataset: "ds", experimentName: EXP.name },
      { name: "ds > b3", file: "evals/bail.test.mjs", dataset: "ds", experimentName: EXP.name },
    ]);
  });

  it("count in the experiment as never run, not as runs owed to the backend", () => {
    const { summary } = bailedRun();
    const exp = summary.experiments[0]!;
    expect([exp.delivered, exp.expected, exp.missing]).toEqual([2, 2, []]);
    expect(exp.neverRun).toEqual([
      { test: "ds > b2", file: "evals/bail.test.mjs", reason: CANCELLED_REASON },
      { test: "ds > b3", file: "evals/bail.test.mjs", reason: CANCELLED_REASON },
    ]);
  });

  it("lower the pass rate and its interval in the JSON report, which lists them and validates", () => {
    const { summary } = bailedRun();
    const report = buildReport({ summary, compared: [], run: RUN, gates: {} });
    const e = report.experiments[0]!;
    // 1 passed of 2 that ran and 2 that never did.
    expect(e.passRate).toBe(1 / 4);
    expect(e.passRateCi).toEqual([...wilson(1, 4)!]);
    expect(e.neverRun).toEqual({
      count: 2,
      tests: ["ds > b2", "ds > b3"].map((test) => ({ test, file: "evals/bail.test.mjs", reason: CANCELLED_REASON })),
    });
    // The per-example trials are over what ran.
    expect(e.trials).toBe(1);
    expect(validateReport(report)).toEqual([]);
  });

  it("fail a passRate gate the tests that ran would pass, and the gate says why", () => {
    const { summary } = bailedRun();
    const report = buildReport({ summary, compared: [], run: RUN, gates: { passRate: 0.4 } });
    expect(report.gates).toEqual([
      { name: "passRate", ok: false, message: `pass rate 0.25 < 0.40 (2 never ran, counted as failed) (${EXP.name})` },
    ]);
    const ranOnly = buildReport({
      summary: { ...summary, experiments: [{ ...summary.experiments[0]!, neverRun: [] }] },
      compared: [],
      run: RUN,
      gates: { passRate: 0.4 },
    });
    expect(ranOnly.gates[0]!.ok).toBe(true);
  });

  it("are rows of the table, in its count and its pass rate, with a line saying they count as failed", () => {
    const { summary } = bailedRun();
    const lines = renderReport(summary);
    expect(lines[0]).toBe(` tally  ${EXP.name}  dataset "ds" · 1/4 passed · 2 never ran`);
    expect(lines.filter((l) => /^ {2}b[23] +✗ never ran *$/.test(l))).toHaveLength(2);
    const [lo, hi] = wilson(1, 4)!;
    expect(lines).toContain(`  pass 0.25 [${lo.toFixed(2)}, ${hi.toFixed(2)}]`);
    expect(lines).toContain(
      `tally:   2 tests never ran (run cancelled: bail) in "${EXP.name}": counted as failed in the pass rate (ds > b2, ds > b3)`,
    );
    // With the report's spread, the table shows the report's pass rate (the same).
    const report = buildReport({ summary, compared: [], run: RUN, gates: {} });
    const withReport = renderReport(summary, { spread: new Map(report.experiments.map((e) => [e.name, e])) });
    expect(withReport).toContain(`  pass 0.25 [${lo.toFixed(2)}, ${hi.toFixed(2)}]`);
  });

  it("are counted in the job summary's n and listed under it", () => {
    const { summary } = bailedRun();
    const md = jobSummaryMarkdown(buildReport({ summary, compared: [], run: RUN, gates: {} }));
    expect(md).toMatch(/\| pass rate \| 0\.250 \[0\.\d+, 0\.\d+\] \| 4 \|/);
    expect(md).toContain("**Never ran (2)**: counted as failed in the pass rate.");
    expect(md).toContain(`- evals/bail.test.mjs › ds > b2: ${CANCELLED_REASON}`);
  });
});

describe("tests of a died worker", () => {
  it("count as never run whether their run started (no result) or never reached the collector", () => {
    const tests: ReportedTest[] = [
      { name: "case 0", file: "evals/k.test.mjs", state: "passed", ...tracked("r0") },
      { name: "case 1", file: "evals/k.test.mjs", state: "pending", ...tracked("r1") },
    ];
    const unreported = [{ name: "case 2", file: "evals/k.test.mjs", dataset: "ds", experimentName: EXP.name }];
    const summary = reconcile(tests, ledgerOf(["r0"]), [], undefined, unreported);
    const exp = summary.experiments[0]!;
    expect(exp.neverRun).toEqual([
      { test: "case 1", file: "evals/k.test.mjs", reason: NO_RESULT_REASON },
      { test: "case 2", file: "evals/k.test.mjs", reason: UNREPORTED_REASON },
    ]);
    const report = buildReport({ summary, compared: [], run: RUN, gates: {} });
    // passed / (ran + never run) = 1 / (1 + 2).
    expect(report.experiments[0]!.passRate).toBe(1 / 3);
    const lines = renderReport(summary);
    // case 1 has its runner row ("? no result"); case 2 gets one.
    expect(lines[0]).toBe(` tally  ${EXP.name}  dataset "ds" · 1/3 passed · 2 never ran`);
    expect(lines.filter((l) => l.includes("never ran") && l.startsWith("  case")).map((l) => l.replace(/ +/g, " ").trim())).toEqual([
      "case 2 ✗ never ran",
    ]);
    expect(lines).toContain(
      `tally:   2 tests never ran (worker died) in "${EXP.name}": counted as failed in the pass rate (case 1, case 2)`,
    );
  });

  it("count once when Jest ran the file again after its worker exited (each attempt registered its runs)", () => {
    const file = "/p/evals/exits.test.ts";
    const reg = (runId: string, fullName: string): TestRegistration => ({
      runId,
      name: fullName,
      fullName,
      file,
      dataset: "ds",
      experiment: EXP,
      inputs: {},
      inputsHash: "h",
      outputsHash: "h",
    });
    const names = ["ds case 0", "ds case 1", "ds case 2"];
    const account = {
      // Three attempts: each declared the file's tests and ran case 0 before its worker exited.
      declared: [...declared(names, file), ...declared(names, file), ...declared(names, file)],
      registered: [reg("a1", "ds case 0"), reg("a2", "ds case 0"), reg("a3", "ds case 0")],
    };
    const binding: RunBinding = { trackedFrom: "acks", files: [{ path: file, name: "evals/exits.test.ts", expectsAck: true, tests: [] }] };
    const joined = joinBinding(binding, [], "/p", account);
    const summary = reconcile(joined.tests, ledgerOf(["a1", "a2", "a3"]), [], undefined, joined.unreported);
    expect(summary.experiments[0]!.neverRun?.map((t) => t.test)).toEqual(names);
    expect(buildReport({ summary, compared: [], run: RUN, gates: {} }).experiments[0]!.neverRun?.count).toBe(3);
  });

  it("leave a run where every test ran as it was: no list, the same pass rate", () => {
    const tests: ReportedTest[] = [
      { name: "a", file: "f", state: "passed", ...tracked("r0") },
      { name: "b", file: "f", state: "failed", ...tracked("r1") },
      { name: "c", file: "f", state: "skipped", ...tracked("r2") },
    ];
    const summary = reconcile(tests, ledgerOf(["r0", "r1", "r2"]), [], undefined);
    expect(summary.experiments[0]!.neverRun).toBeUndefined();
    const e = buildReport({ summary, compared: [], run: RUN, gates: {} }).experiments[0]!;
    expect([e.passRate, "neverRun" in e]).toEqual([0.5, false]);
  });
});

describe("tally report merge", () => {
  function shard(file: string, neverRun: string[], passed: string[]): { file: string; report: TallyReportV1 } {
    const tests: ReportedTest[] = passed.map((name, i) => ({ name, file, state: "passed", ...tracked(`${file}-${i}`) }));
    const cancelled = neverRun.map((name) => ({ name, file, dataset: "ds", experimentName: EXP.name }));
    const summary = reconcile(tests, ledgerOf(tests.map((t) => t.runId!)), [], undefined, [], cancelled);
    return { file: `${file}.json`, report: buildReport({ summary, compared: [], run: RUN, gates: {} }) };
  }

  it("keeps every shard's never-run tests and counts the pass rate again over the union", () => {
    const merged = mergeReports([shard("a", ["a2"], ["a0", "a1"]), shard("b", ["b1", "b2"], ["b0"])], { passRate: 0.6 });
    const e = merged.experiments[0]!;
    expect(e.neverRun?.count).toBe(3);
    expect(e.neverRun?.tests.map((t) => t.test)).toEqual(["a2", "b1", "b2"]);
    expect(e.passRate).toBe(3 / 6);
    expect(e.passRateCi).toEqual([...wilson(3, 6)!]);
    expect(merged.gates[0]).toMatchObject({ name: "passRate", ok: false });
    expect(validateReport(merged)).toEqual([]);
  });

  it("reads a shard written before the list (no neverRun) as none", () => {
    const old = shard("a", [], ["a0"]);
    const { neverRun: _, ...v1 } = old.report.experiments[0]!;
    const merged = mergeReports(
      [{ file: "old.json", report: { ...old.report, version: 1, experiments: [v1] } }, shard("b", ["b1"], ["b0"])],
      {},
    );
    expect(merged.experiments[0]!.neverRun?.count).toBe(1);
    expect(merged.experiments[0]!.passRate).toBe(2 / 3);
  });
});
