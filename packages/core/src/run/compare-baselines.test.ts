import { describe, expect, test } from "vitest";
import type { Backend, ExperimentInfo, ExperimentRecords } from "../backend/port.js";
import type { TestOutcome } from "../compare/outcomes.js";
import { METHODS } from "../stats/index.js";
import type { ResolvedExperiment } from "../delivery/registry.js";
import type { RunRecord } from "../wire/types.js";
import { Baselines } from "./compare-baselines.js";

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
