import { describe, expect, test } from "vitest";
import { Ledger } from "../ledger/ledger.js";
import { reconcile, type ReportedTest } from "./reconcile.js";
import { bootstrapMeanCi, wilson } from "../stats/index.js";
import { type ExperimentSpreadView, fmtCi, renderReport, spreadLine } from "./render.js";

const EXP = "qa:run-1";

function ledgerWith(runs: Array<{ id: string; parent?: string; ended?: boolean; delivered?: boolean; error?: string; session?: string }>) {
  const ledger = new Ledger();
  for (const r of runs) {
    const op = {
      kind: "create" as const,
      run: {
        id: r.id,
        trace_id: r.parent ? r.parent : r.id,
        parent_run_id: r.parent ?? null,
        session_name: r.session ?? EXP,
        end_time: r.ended === false ? null : "2026-11-21T00:00:00Z",
      },
    };
    ledger.noteRun(op);
    if (r.delivered !== false) ledger.runDelivered(op);
    if (r.error) ledger.runFailed(r.id, r.error);
  }
  return ledger;
}

const t = (name: string, runId: string, state: ReportedTest["state"] = "passed"): ReportedTest => ({
  name: `qa > ${name}`,
  file: "evals/a.test.ts",
  state,
  runId,
  dataset: "qa",
  experimentName: EXP,
  feedback: [
    { key: "pass", score: state === "passed" },
    { key: "correctness", score: runId === "r1" ? 1 : 0.5 },
  ],
});

describe("reconcile", () => {
  test("counts delivered runs, spans and feedback per experiment", () => {
    const ledger = ledgerWith([{ id: "r1" }, { id: "r2" }, { id: "c1", parent: "r1" }, { id: "c2", parent: "r2" }]);
    ledger.noteFeedback({ id: "f1", run_id: "r1", key: "pass" });
    ledger.feedbackDelivered("f1");
    const s = reconcile([t("one", "r1"), t("two", "r2")], ledger, [], undefined);
    expect(s.experiments).toHaveLength(1);
    expect(s.experiments[0]).toMatchObject({ expected: 2, delivered: 2, spans: 2, feedback: 1, missing: [] });
  });

  test("names each missing test with the reason", () => {
    const ledger = ledgerWith([
      { id: "r2", ended: false },
      { id: "r3", delivered: false },
      { id: "r4", delivered: false, error: "backend answered 422" },
    ]);
    const s = reconcile(
      [t("never sent", "r1"), t("never ended", "r2"), t("waiting", "r3"), t("refused", "r4")],
      ledger,
      [],
      "backend: down",
    );
    const reasons = Object.fromEntries(s.experiments[0]!.missing.map((m) => [m.test, m.reason]));
    expect(reasons["qa > never sent"]).toMatch(/never reached the collector/);
    expect(reasons["qa > never ended"]).toMatch(/never ended/);
    expect(reasons["qa > waiting"]).toMatch(/kept in the spool \(backend: down\)/);
    expect(reasons["qa > refused"]).toMatch(/refused it: backend answered 422/);
    expect(s.experiments[0]!.delivered).toBe(0);
  });

  test("traces outside experiments are counted per project", () => {
    const ledger = ledgerWith([
      { id: "p1", session: "default" },
      { id: "e1", session: "evaluators" },
    ]);
    const s = reconcile([], ledger, [], undefined);
    expect(s.otherRuns).toEqual({ delivered: 2, received: 2, byProject: { default: 1, evaluators: 1 } });
  });
});

describe("render", () => {
  test("a table per experiment with averages, then the delivery line", () => {
    const ledger = ledgerWith([{ id: "r1" }, { id: "r2" }]);
    const s = reconcile([t("one", "r1"), t("two", "r2", "failed")], ledger, [], undefined);
    const text = renderReport(s).join("\n");
    expect(text).toContain("qa:run-1");
    expect(text).toMatch(/one\s+✓ pass\s+1/);
    expect(text).toMatch(/two\s+✗ fail\s+0\.50/);
    expect(text).toMatch(/average\s+0\.75/);
    expect(text).toContain('tally: 2/2 runs · 0 spans · 0 feedback delivered to "qa:run-1"');
  });

  test("with a baseline, the table gets a row of Δ against its means, and names it", () => {
    const ledger = ledgerWith([{ id: "r1" }, { id: "r2" }]);
    const s = reconcile([t("one", "r1"), t("two", "r2", "failed")], ledger, [], undefined);
    const baselines = new Map([["qa:run-1", { name: "qa:run-0", scores: { correctness: 0.95 } }]]);
    const text = renderReport(s, { baselines }).join("\n");
    expect(text).toMatch(/average\s+0\.75/);
    expect(text).toMatch(/Δ vs baseline\s+−0\.20/);
    expect(text).toContain("baseline: qa:run-0");
    // Without one, no such row.
    expect(renderReport(s).join("\n")).not.toContain("Δ vs baseline");
  });

  test("with the model-call cache, a Cache column per test and a line of the experiment's calls", () => {
    const ledger = ledgerWith([{ id: "r1" }, { id: "r2" }, { id: "r3" }]);
    const s = reconcile(
      [
        { ...t("one", "r1"), cache: { hit: 2, miss: 0, recorded: 0 } },
        { ...t("two", "r2", "failed"), cache: { hit: 1, miss: 1, recorded: 1 } },
        t("three", "r3"),
      ],
      ledger,
      [],
      undefined,
    );
    const lines = renderReport(s);
    const text = lines.join("\n");
    expect(text).toMatch(/Test\s+Status\s+correctness\s+Cache/);
    expect(text).toMatch(/one\s+✓ pass\s+1\s+2 hit/);
    expect(text).toMatch(/two\s+✗ fail\s+0\.50\s+1 hit · 1 rec · 1 miss/);
    const delivery = lines.findIndex((l) => l.startsWith("tally: 3/3 runs"));
    expect(lines[delivery + 1]).toBe("tally:   model calls: 3 from the cache, 1 recorded, 1 missed");
    // Without the cache, neither.
    const plain = renderReport(reconcile([t("one", "r1")], ledgerWith([{ id: "r1" }]), [], undefined)).join("\n");
    expect(plain).not.toContain("Cache");
    expect(plain).not.toContain("model calls");
  });

  test("the spread: each mean with its 95 % interval in the average row, the pass rate with its interval under the table", () => {
    const ledger = ledgerWith([{ id: "r1" }, { id: "r2" }, { id: "r3" }]);
    const s = reconcile([t("one", "r1"), t("two", "r2", "failed"), t("three", "r3")], ledger, [], undefined);
    const lines = renderReport(s);
    // Without a report each test is its own example: the table's tests are resampled, seeded with the experiment's name.
    const ci = bootstrapMeanCi([0.5, 0.5, 1], { seed: EXP })!;
    const [lo, hi] = wilson(2, 3)!;
    const table = lines.slice(0, lines.indexOf(""));
    expect(table.find((l) => l.includes("average"))).toContain(`0.67 ${fmtCi(ci)}`);
    expect(table).toContain(`  pass 0.67 [${lo.toFixed(2)}, ${hi.toFixed(2)}]`);
    // One trial each: no pass@k line.
    expect(lines.join("\n")).not.toContain("pass@");
    // The columns stay aligned: the header is padded to the widened cell.
    const header = table.find((l) => l.includes("Status"))!;
    const average = table.find((l) => l.includes("average"))!;
    expect(header.indexOf("correctness")).toBe(average.indexOf("0.67"));
  });

  test("with the report's spread: its intervals, and with trials one line of pass@k and pass^k", () => {
    const ledger = ledgerWith([{ id: "r1" }, { id: "r2" }]);
    const s = reconcile([t("one, run 1", "r1"), t("one, run 2", "r2", "failed")], ledger, [], undefined);
    const spread = new Map<string, ExperimentSpreadView>([
      [
        EXP,
        {
          passRate: 0.5,
          passRateCi: [0.0945, 0.9055],
          scores: { correctness: { mean: 0.75, count: 2, ci: [0.5, 1] } },
          trials: 2,
          passAtK: 1,
          passHatK: 0,
        },
      ],
    ]);
    const lines = renderReport(s, { spread });
    expect(lines.join("\n")).toMatch(/average\s+0\.75 \[0\.50, 1\]/);
    expect(lines).toContain("  pass 0.50 [0.09, 0.91] · trials 2 · pass@2 1 · pass^2 0");
    // No tables, no spread lines.
    expect(renderReport(s, { spread, tables: false }).join("\n")).not.toContain("pass@");
  });

  test("spreadLine and fmtCi: the pass rate with its interval, the trials' pass@k and pass^k at k = trials", () => {
    expect(spreadLine({ passRate: 0.82, passRateCi: [0.74, 0.88], scores: {}, trials: 3, passAtK: 0.95, passHatK: 0.61 })).toBe(
      "pass 0.82 [0.74, 0.88] · trials 3 · pass@3 0.95 · pass^3 0.61",
    );
    expect(spreadLine({ passRate: 1, passRateCi: [0.2065, 1], scores: {}, trials: 1 })).toBe("pass 1 [0.21, 1]");
    // A version 1 report has no interval: the pass rate alone.
    expect(spreadLine({ passRate: 0.5, scores: {} })).toBe("pass 0.50");
    expect(spreadLine({ passRate: null, passRateCi: null, scores: {}, trials: 0 })).toBeUndefined();
    expect(fmtCi([0, 0.7935])).toBe("[0, 0.79]");
  });

  test("missing runs are listed after the delivery line", () => {
    const s = reconcile([t("lost", "r9")], new Ledger(), [], undefined);
    const lines = renderReport(s, { tables: false });
    expect(lines[0]).toContain("tally: 0/1 runs");
    expect(lines[1]).toContain("missing run: evals/a.test.ts > qa > lost");
  });
});
