import { describe, expect, test } from "vitest";
import type { Backend, ExperimentInfo, ExperimentRecords } from "../backend/port.js";
import type { TestOutcome } from "../compare/outcomes.js";
import { METHODS } from "../stats/index.js";
import type { ResolvedExperiment } from "../delivery/registry.js";
import type { RunRecord } from "../wire/types.js";
import type { TallyReport } from "../report/json-report.js";
import { Baselines, reportBaselineProblems } from "./compare-baselines.js";

// The noise-aware comparison is computed where each experiment meets its baseline, at the run's alpha.

const BASE: ExperimentInfo = {
  id: "exp-0",
  name: "suite:old",
  datasetId: "ds-1",
  startTime: "2026-03-01T10:00:00Z",
  endTime: "2026-03-01T10:05:00Z",
  metadata: {},
};
const EXP: ResolvedExperiment = {
  dataset: "suite",
  datasetId: "ds-1",
  name: "suite:new",
  id: "exp-1",
  tenantId: "t1",
  url: "https://smith.example/exp-1",
  startTime: "2026-03-01T12:00:00Z",
};

/** 20 examples: all passed in the baseline; now `failing` of them fail. */
function fakeBackend(): Backend {
  const runs = Array.from({ length: 20 }, (_, i) => ({ id: `old-${i}`, name: `case ${i}`, reference_example_id: `ex-${i}` }) as RunRecord);
  const records: ExperimentRecords = { experiment: BASE, runs, feedback: [] };
  return {
    listExperiments: async () => [BASE],
    readExperiment: async () => records,
    experimentUrl: ({ id }: { id: string }) => `https://smith.example/${id}`,
  } as unknown as Backend;
}

const current = (failing: number): TestOutcome[] =>
  Array.from({ length: 20 }, (_, i) => ({ exampleId: `ex-${i}`, runId: `new-${i}`, name: `case ${i}`, passed: i >= failing, scores: {} }));

describe("Baselines.compare: the noise-aware comparison", () => {
  test("computed against the baseline's outcomes at the run's alpha", async () => {
    // 5 of 20 fell: McNemar b 5, c 0, p 0.0625 (SciPy 1.17.1: binomtest(0, 5, 0.5).pvalue == 0.0625).
    const strict = await new Baselines(fakeBackend(), { baseline: "previous", regressionThreshold: 0 }).compare(EXP, current(5));
    expect(strict.verdicts).toMatchObject({
      alpha: 0.05,
      passRate: { method: METHODS.passRate, n: 20, delta: -0.25, p: 0.0625, verdict: "unchanged" },
    });
    const lax = await new Baselines(fakeBackend(), { baseline: "previous", regressionThreshold: 0, alpha: 0.1 }).compare(EXP, current(5));
    expect(lax.verdicts).toMatchObject({ alpha: 0.1, passRate: { p: 0.0625, verdict: "regressed" } });
  });

  test("no baseline: no comparison", async () => {
    const none = await new Baselines(fakeBackend(), { baseline: "none", regressionThreshold: 0 }).compare(EXP, current(5));
    expect(none.verdicts).toBeNull();
    expect(none.baseline).toBeNull();
  });
});

describe('baseline "approved"', () => {
  /** The fake backend, its dataset carrying `metadata`. */
  const withDataset = (metadata: Record<string, unknown>): Backend =>
    Object.assign(fakeBackend(), { listDatasets: async () => [{ id: "ds-1", name: "suite", metadata }] });

  test("compared with the approved experiment", async () => {
    const b = withDataset({ tally_approved_baseline: { id: "exp-0", name: "suite:old", approvedAt: "2026-03-01T11:00:00Z" } });
    const got = await new Baselines(b, { baseline: "approved", regressionThreshold: 0 }).compare(EXP, current(0));
    expect(got.baseline).toMatchObject({ id: "exp-0", name: "suite:old" });
    expect(got.unavailable).toBeUndefined();
  });

  test("none approved: no comparison and `unavailable` naming the dataset, not an error", async () => {
    const got = await new Baselines(withDataset({}), { baseline: "approved", regressionThreshold: 0 }).compare(EXP, current(0));
    expect(got).toMatchObject({ baseline: null, verdicts: null });
    expect(got.error).toBeUndefined();
    expect(got.unavailable).toMatch(/^dataset "suite" has no approved baseline/);
  });
});

describe("reportBaselineProblems", () => {
  const report = (): TallyReport =>
    ({
      version: 2,
      run: { key: "k", startedAt: "", endedAt: "", git: null },
      experiments: [{ name: "suite:new", id: "exp-1", baseline: null }],
      gates: [],
    }) as unknown as TallyReport;
  const unavailable = [{ id: "exp-1", unavailable: 'dataset "suite" has no approved baseline' }];

  test("an unavailable approved baseline is a note on the experiment and fails no gate when none needs a comparison", () => {
    const r = report();
    reportBaselineProblems(r, unavailable, { passRate: 0.5 });
    expect(r.experiments[0]!.baselineNote).toBe('dataset "suite" has no approved baseline');
    expect(r.gates).toEqual([]);
  });

  test("fails the run when a gate needs a comparison (maxRegressions, noSignificantRegression)", () => {
    for (const gates of [{ maxRegressions: 0 }, { noSignificantRegression: true }]) {
      const r = report();
      reportBaselineProblems(r, unavailable, gates);
      expect(r.gates).toEqual([
        { name: "baseline", ok: false, message: 'dataset "suite" has no approved baseline (a gate needs a comparison)' },
      ]);
    }
  });

  test("a baseline named and not found fails the run like a gate, as before", () => {
    const r = report();
    reportBaselineProblems(r, [{ id: "exp-1", error: 'baseline of "suite:new": not found' }], {});
    expect(r.gates).toEqual([{ name: "baseline", ok: false, message: 'baseline of "suite:new": not found' }]);
    expect(r.experiments[0]!.baselineNote).toBeUndefined();
  });
});
