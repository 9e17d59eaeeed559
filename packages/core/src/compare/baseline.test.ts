import { describe, expect, test } from "vitest";
import type { Backend, ExperimentInfo } from "../backend/port.js";
import { APPROVED_BASELINE_KEY } from "./approved-baseline.js";
import { BaselineUnavailable, resolveBaseline } from "./baseline.js";

// The port faked with a list: what resolveBaseline decides from it. test/backend/baseline.test.ts runs
// it against both real adapters.

function backendListing(experiments: ExperimentInfo[], datasetMetadata: Record<string, unknown> = {}): Backend & { calls: string[] } {
  const calls: string[] = [];
  const b = {
    calls,
    async listDatasets(filter: { ids?: string[] }) {
      calls.push(`dataset ${filter.ids?.join(",")}`);
      return filter.ids?.includes("d1") ? [{ id: "d1", name: "qa", metadata: datasetMetadata }] : [];
    },
    async listExperiments(datasetId: string) {
      calls.push(`list ${datasetId}`);
      return experiments.filter((e) => e.datasetId === datasetId);
    },
  };
  return b as unknown as Backend & { calls: string[] };
}

const exp = (id: string, start: string, more: Partial<ExperimentInfo> = {}): ExperimentInfo => ({
  id,
  name: `qa:${id}`,
  datasetId: "d1",
  startTime: `2026-03-01T${start}:00.000Z`,
  endTime: `2026-03-01T${start}:30.000Z`,
  metadata: {},
  ...more,
});

const current = exp("cur", "12:00", { endTime: undefined });
const q = (spec: string, more: { defaultBranch?: string; datasetName?: string } = {}) => ({
  datasetId: "d1",
  currentId: "cur",
  spec,
  ...more,
});

describe("resolveBaseline", () => {
  test('"none" is no baseline, without asking the backend', async () => {
    const b = backendListing([exp("a", "10:00"), current]);
    expect(await resolveBaseline(b, q("none"))).toBeNull();
    expect(b.calls).toEqual([]);
  });

  test('"previous": the newest finished experiment that started before this one', async () => {
    const b = backendListing([
      exp("later", "13:00"), // started after the current one (another run): not a baseline
      current,
      exp("unfinished", "11:30", { endTime: undefined }),
      exp("older", "09:00"),
      exp("newer", "11:00"),
      exp("other-dataset", "11:45", { datasetId: "d2" }),
    ]);
    expect((await resolveBaseline(b, q("previous")))?.id).toBe("newer");
    expect((await resolveBaseline(b, q("")))?.id).toBe("newer");
    expect(b.calls).toEqual(["list d1", "list d1"]);
  });

  test('"previous" prefers the newest on the default branch, else the newest', async () => {
    const b = backendListing([
      current,
      exp("pr", "11:00", { metadata: { branch: "feature" } }),
      exp("main-new", "10:00", { metadata: { branch: "main" } }),
      exp("main-old", "09:00", { metadata: { branch: "main" } }),
    ]);
    expect((await resolveBaseline(b, q("previous", { defaultBranch: "main" })))?.id).toBe("main-new");
    expect((await resolveBaseline(b, q("previous", { defaultBranch: "trunk" })))?.id).toBe("pr");
    expect((await resolveBaseline(b, q("previous")))?.id).toBe("pr");
  });

  test('"previous" with no earlier finished experiment is no comparison, not an error', async () => {
    expect(await resolveBaseline(backendListing([current]), q("previous"))).toBeNull();
    expect(await resolveBaseline(backendListing([current, exp("open", "11:00", { endTime: undefined })]), q("previous"))).toBeNull();
    expect(await resolveBaseline(backendListing([]), q("previous"))).toBeNull();
  });

  test('"previous" when the current experiment is not listed yet: the newest finished one', async () => {
    expect((await resolveBaseline(backendListing([exp("a", "09:00"), exp("b", "10:00")]), q("previous")))?.id).toBe("b");
  });

  test("times without a zone are UTC, as LangSmith writes them", async () => {
    const b = backendListing([
      { ...current, startTime: "2026-03-01T12:00:00.000000" },
      exp("before", "11:59", { startTime: "2026-03-01T11:59:00.000000" }),
      exp("after", "12:01", { startTime: "2026-03-01T12:01:00Z" }),
    ]);
    expect((await resolveBaseline(b, q("previous")))?.id).toBe("before");
  });

  test("a name or an id picks that experiment, finished or not, before or after", async () => {
    const b = backendListing([exp("later", "13:00"), current, exp("open", "11:00", { endTime: undefined }), exp("old", "09:00")]);
    expect((await resolveBaseline(b, q("qa:old")))?.id).toBe("old");
    expect((await resolveBaseline(b, q("later")))?.name).toBe("qa:later");
    expect((await resolveBaseline(b, q("  open ")))?.id).toBe("open");
  });

  test("an unknown name fails, naming it, the dataset and up to 5 recent experiments", async () => {
    const many = Array.from({ length: 7 }, (_, i) => exp(`e${i}`, `0${i}:00`));
    const err = await resolveBaseline(backendListing([current, ...many]), q("qa:nope", { datasetName: "qa" })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      'tally: baseline "qa:nope" is not an experiment of dataset "qa" (recent experiments: "qa:e6", "qa:e5", "qa:e4", "qa:e3", "qa:e2")',
    );
    await expect(resolveBaseline(backendListing([current]), q("qa:nope"))).rejects.toThrow(
      'tally: baseline "qa:nope" is not an experiment of dataset d1 (it has no other experiments)',
    );
  });

  test("this run's own experiment is not its baseline", async () => {
    await expect(resolveBaseline(backendListing([current]), q("qa:cur"))).rejects.toThrow(/this run's own experiment/);
  });

  describe('"approved"', () => {
    const approval = (id: string) => ({
      [APPROVED_BASELINE_KEY]: { id, name: `qa:${id}`, approvedAt: "2026-02-27T08:00:00.000Z", by: "ana" },
    });

    test("is the experiment approved for the dataset, not the previous one", async () => {
      const b = backendListing([current, exp("newer", "11:00"), exp("approved-one", "09:00")], approval("approved-one"));
      expect((await resolveBaseline(b, q("approved")))?.id).toBe("approved-one");
      expect(b.calls).toEqual(["list d1", "dataset d1"]);
      // Unfinished or later than this run: still the one a person chose.
      const later = backendListing([current, exp("later", "13:00", { endTime: undefined })], approval("later"));
      expect((await resolveBaseline(later, q("approved")))?.id).toBe("later");
    });

    test("none approved: unavailable (not an error of the run), naming the dataset and the command to approve one", async () => {
      const err = await resolveBaseline(backendListing([current, exp("old", "09:00")]), q("approved")).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BaselineUnavailable);
      expect((err as Error).message).toBe(
        'dataset "qa" has no approved baseline to compare with; approve one with: tally baseline approve <experiment> --dataset "qa"',
      );
      // Something else under the key is not an approval.
      await expect(resolveBaseline(backendListing([current], { [APPROVED_BASELINE_KEY]: "yes" }), q("approved"))).rejects.toThrow(
        /has no approved baseline/,
      );
    });

    test("the approved experiment deleted since: unavailable, saying so", async () => {
      const err = await resolveBaseline(backendListing([current, exp("old", "09:00")], approval("gone")), q("approved")).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BaselineUnavailable);
      expect((err as Error).message).toBe(
        'the approved baseline of dataset "qa", "qa:gone" (approved 2026-02-27), no longer exists (deleted?); approve another with: tally baseline approve <experiment> --dataset "qa"',
      );
    });

    test("this run's own experiment approved: unavailable", async () => {
      await expect(resolveBaseline(backendListing([current], approval("cur")), q("approved"))).rejects.toBeInstanceOf(BaselineUnavailable);
    });
  });
});
