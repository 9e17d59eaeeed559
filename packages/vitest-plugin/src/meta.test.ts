import { describe, expect, it } from "vitest";
import { readTallyMeta, type TallyTaskMeta } from "./meta.js";

describe("readTallyMeta", () => {
  const tally: TallyTaskMeta = { runId: "r1", dataset: "qa", experimentName: "qa:1", experimentId: "e", feedback: [] };

  it("gives the meta object itself, so the reporter can complete it in place", () => {
    const meta = { tally };
    expect(readTallyMeta(meta)).toBe(tally);
  });

  it("gives nothing for a test without Tally meta or with meta missing a field the report needs", () => {
    expect(readTallyMeta(undefined)).toBeUndefined();
    expect(readTallyMeta({})).toBeUndefined();
    expect(readTallyMeta({ tally: { ...tally, runId: "" } })).toBeUndefined();
    const { dataset: _dataset, ...noDataset } = tally;
    expect(readTallyMeta({ tally: noDataset as TallyTaskMeta })).toBeUndefined();
  });
});
