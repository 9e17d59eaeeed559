import { describe, expect, test } from "vitest";
import type { ExperimentRecords } from "../backend/port.js";
import type { FeedbackRecord, RunRecord } from "../wire/types.js";
import { outcomesOf, scoreValue } from "./outcomes.js";

const experiment = { id: "e1", name: "qa:rk", datasetId: "d1", startTime: "2026-01-01T00:00:00Z", metadata: {} };
const records = (runs: RunRecord[], feedback: FeedbackRecord[]): ExperimentRecords => ({ experiment, runs, feedback });
let n = 0;
const fb = (run_id: string, key: string, score: FeedbackRecord["score"]): FeedbackRecord => ({ id: `f${n++}`, run_id, key, score });

describe("outcomesOf", () => {
  test("one outcome per root run with an example; spans and example-less runs are left out", () => {
    const out = outcomesOf(
      records(
        [
          { id: "r2", name: "b test", reference_example_id: "x2" },
          { id: "r1", name: "a test", reference_example_id: "x1", parent_run_id: null },
          { id: "s1", name: "llm", parent_run_id: "r1", reference_example_id: "x1" },
          { id: "r3", name: "no example", reference_example_id: null },
          { id: "r4", name: "no example either" },
        ],
        [fb("r1", "pass", true), fb("r2", "pass", false), fb("s1", "pass", false)],
      ),
    );
    expect(out).toEqual([
      { exampleId: "x1", runId: "r1", name: "a test", passed: true, scores: {} },
      { exampleId: "x2", runId: "r2", name: "b test", passed: false, scores: {} },
    ]);
  });

  test("`pass` decides over the run's error; without it, a run passed when it has no error", () => {
    const out = outcomesOf(
      records(
        [
          { id: "r1", name: "t1", reference_example_id: "x1", error: "AssertionError" },
          { id: "r2", name: "t2", reference_example_id: "x2", error: null },
          { id: "r3", name: "t3", reference_example_id: "x3", error: "Boom" },
          { id: "r4", name: "t4", reference_example_id: "x4", error: "" },
          { id: "r5", name: "t5", reference_example_id: "x5" },
          { id: "r6", name: "t6", reference_example_id: "x6" },
          { id: "r7", name: "t7", reference_example_id: "x7", error: "late" },
        ],
        // Numbers as LangSmith stores booleans; a null `pass` is no verdict.
        [fb("r1", "pass", 1), fb("r5", "pass", 0), fb("r6", "pass", false), fb("r6", "pass", true), fb("r7", "pass", null)],
      ),
    );
    expect(out.map((o) => [o.name, o.passed])).toEqual([
      ["t1", true],
      ["t2", true],
      ["t3", false],
      ["t4", true],
      ["t5", false],
      ["t6", false],
      ["t7", false],
    ]);
  });

  test("scores: every other key with a number or boolean score, averaged when a key repeats", () => {
    const [o] = outcomesOf(
      records(
        [{ id: "r1", name: "t", reference_example_id: "x1" }],
        [
          fb("r1", "pass", true),
          fb("r1", "quality", 0.5),
          fb("r1", "quality", 1),
          fb("r1", "exact", true),
          fb("r1", "strict", false),
          fb("r1", "comment only", null),
          { id: "fv", run_id: "r1", key: "label", value: "good" },
          fb("r1", "nan", Number.NaN),
          { id: "nr", key: "quality", score: 0 },
        ],
      ),
    );
    expect(o!.scores).toEqual({ exact: 1, quality: 0.75, strict: 0 });
  });

  test("repetitions: every run of an example is kept, in a stable order", () => {
    const runs: RunRecord[] = [
      { id: "r-b", name: "t", reference_example_id: "x1" },
      { id: "r-a", name: "t", reference_example_id: "x1" },
      { id: "r-a", name: "t", reference_example_id: "x1" },
    ];
    const out = outcomesOf(records(runs, [fb("r-a", "q", 1), fb("r-b", "q", 0)]));
    expect(out.map((o) => [o.exampleId, o.runId, o.scores.q])).toEqual([
      ["x1", "r-a", 1],
      ["x1", "r-b", 0],
    ]);
    expect(outcomesOf(records([...runs].reverse(), []))).toEqual(outcomesOf(records(runs, [])));
  });

  test("scoreValue", () => {
    expect([true, false, 0.25, null, undefined, "1", Number.POSITIVE_INFINITY].map(scoreValue)).toEqual([
      1,
      0,
      0.25,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
