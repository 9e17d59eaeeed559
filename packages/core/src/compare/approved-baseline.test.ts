import { describe, expect, test } from "vitest";
import type { Backend, DatasetInfo, ExperimentInfo } from "../backend/port.js";
import { withMetadataKeys } from "../backend/dataset-info.js";
import {
  APPROVED_BASELINE_KEY,
  approveBaseline,
  approvedBaselineOf,
  approvedBaselines,
  findExperimentToApprove,
} from "./approved-baseline.js";

// The port faked with two datasets in memory: what approving decides. Both real adapters are held to
// the port's dataset calls by test/backend/conformance.ts, and test/cli/baseline.test.ts runs the command.

function fakeBackend(experiments: ExperimentInfo[]): Backend & { datasets: DatasetInfo[] } {
  const datasets: DatasetInfo[] = [
    { id: "d1", name: "qa", metadata: { __ls_runner: "tally" } },
    { id: "d2", name: "chat", metadata: {} },
  ];
  const b = {
    datasets,
    async listDatasets(filter: { ids?: string[]; name?: string } = {}) {
      if (!filter.ids && filter.name === undefined) return datasets;
      return datasets.filter((d) => filter.ids?.includes(d.id) || d.name === filter.name);
    },
    async updateDatasetMetadata(id: string, set: Record<string, unknown>) {
      const d = datasets.find((x) => x.id === id)!;
      d.metadata = withMetadataKeys(d.metadata, set);
      return d;
    },
    async listExperiments(datasetId: string) {
      return experiments.filter((e) => e.datasetId === datasetId);
    },
    async findExperiments(nameOrId: string) {
      return experiments.filter((e) => e.name === nameOrId || e.id === nameOrId);
    },
  };
  return b as unknown as Backend & { datasets: DatasetInfo[] };
}

const exp = (id: string, datasetId: string, name = `run-${id}`, more: Partial<ExperimentInfo> = {}): ExperimentInfo => ({
  id,
  name,
  datasetId,
  startTime: "2026-03-01T10:00:00.000Z",
  endTime: "2026-03-01T10:01:00.000Z",
  metadata: {},
  ...more,
});

describe("findExperimentToApprove", () => {
  const experiments = [exp("a", "d1"), exp("b", "d1"), exp("c", "d2", "run-a"), exp("open", "d1", "run-open", { endTime: undefined })];

  test("by name or id; a name two datasets' experiments have asks for --dataset", async () => {
    const b = fakeBackend(experiments);
    expect((await findExperimentToApprove(b, "run-b")).id).toBe("b");
    expect((await findExperimentToApprove(b, "b")).id).toBe("b");
    await expect(findExperimentToApprove(b, "run-a")).rejects.toThrow(
      '"run-a" names experiments of 2 datasets ("qa", "chat"): say which with --dataset',
    );
    expect((await findExperimentToApprove(b, "run-a", "chat")).id).toBe("c");
    expect((await findExperimentToApprove(b, "run-a", "qa")).id).toBe("a");
  });

  test("unknown experiment, unknown dataset, an experiment of another dataset, and an unfinished one fail, saying which", async () => {
    const b = fakeBackend(experiments);
    await expect(findExperimentToApprove(b, "nope")).rejects.toThrow('no experiment is named "nope" or has that id');
    await expect(findExperimentToApprove(b, "run-b", "nope")).rejects.toThrow('there is no dataset named "nope"');
    await expect(findExperimentToApprove(b, "run-b", "chat")).rejects.toThrow(
      '"run-b" is not an experiment of dataset "chat" (recent experiments: "run-a")',
    );
    await expect(findExperimentToApprove(b, "run-open")).rejects.toThrow(
      'experiment "run-open" has not finished (no end time): approve it once its run has ended',
    );
  });
});

describe("approveBaseline", () => {
  test("writes the approval on the dataset's metadata, keeping its other keys; a second one replaces the first", async () => {
    const b = fakeBackend([exp("a", "d1"), exp("b", "d1")]);
    const now = new Date("2026-03-02T09:00:00.000Z");
    const first = await approveBaseline(b, exp("a", "d1"), { by: "ana", now });
    expect(first.replaced).toBeUndefined();
    expect(b.datasets[0]!.metadata).toEqual({
      __ls_runner: "tally",
      [APPROVED_BASELINE_KEY]: { id: "a", name: "run-a", approvedAt: "2026-03-02T09:00:00.000Z", by: "ana" },
    });
    const second = await approveBaseline(b, exp("b", "d1"), { now });
    expect(second.replaced).toMatchObject({ id: "a", name: "run-a" });
    expect(approvedBaselineOf(b.datasets[0]!.metadata)).toEqual({ id: "b", name: "run-b", approvedAt: "2026-03-02T09:00:00.000Z" });
    // Approving the same one again replaces nothing.
    expect((await approveBaseline(b, exp("b", "d1"), { now })).replaced).toBeUndefined();
  });

  test("approvedBaselines: every dataset by name, with its approval or none; one dataset by name", async () => {
    const b = fakeBackend([exp("a", "d1")]);
    await approveBaseline(b, exp("a", "d1"));
    const all = await approvedBaselines(b);
    expect(all.map((x) => [x.dataset.name, x.approval?.id])).toEqual([
      ["chat", undefined],
      ["qa", "a"],
    ]);
    expect((await approvedBaselines(b, "chat")).map((x) => x.approval)).toEqual([undefined]);
    await expect(approvedBaselines(b, "nope")).rejects.toThrow('there is no dataset named "nope"');
  });
});
