import { describe, expect, it } from "vitest";
import type { BoundTest, RunBinding } from "./binding.js";
import { renderRunEnd } from "./render.js";
import { mergedRunEnd } from "./run-end.js";

// The end of a run no collector ran for (Vitest --merge-reports): what the tests carry is all there is.

const tracked = (runId: string, experimentName = "qa:merge-1") => ({
  runId,
  dataset: "qa",
  experimentName,
  experimentId: "e",
  feedback: [{ key: "correctness", score: 1 }],
});

describe("mergedRunEnd", () => {
  const annotated: Array<[string, string]> = [];
  const one: BoundTest = { name: "qa > one", state: "passed", tracked: tracked("r1"), setProperty: (n, v) => void annotated.push([n, v]) };
  const binding: RunBinding = {
    trackedFrom: "tests",
    files: [
      {
        path: "/p/a.test.ts",
        name: "a.test.ts",
        expectsAck: true,
        tests: [one, { name: "qa > two", state: "failed", tracked: tracked("r2") }, { name: "plain", state: "passed" }],
      },
      {
        path: "/p/b.test.ts",
        name: "b.test.ts",
        expectsAck: true,
        tests: [{ name: "other > x", state: "passed", tracked: tracked("r3", "other:merge-1") }],
      },
    ],
  };

  it("counts each experiment's tracked tests, checks no delivery and names no problem", () => {
    const { summary, where, tables } = mergedRunEnd(binding);
    expect(summary.merged).toBe(true);
    expect(summary.experiments.map((e) => [e.name, e.expected, e.delivered, e.tests.map((t) => t.name)])).toEqual([
      ["qa:merge-1", 2, 0, ["qa > one", "qa > two"]],
      ["other:merge-1", 1, 0, ["other > x"]],
    ]);
    // No acks in this process: the files are not named as unacked.
    expect(summary.problems).toEqual([]);
    expect(where).toEqual({ local: false, backend: "" });
    expect(tables).toBe(true);
  });

  it("prints the tables and one merged line per experiment, no delivery line", () => {
    const end = mergedRunEnd(binding);
    const lines = renderRunEnd(end.summary, end.where, { tables: end.tables });
    expect(lines).toContain('tally: 2 runs recorded in "qa:merge-1" (merged report; each shard checked its own delivery)');
    expect(lines.join("\n")).toMatch(/two\s+✗ fail\s+1/);
    expect(lines.join("\n")).not.toContain("delivered to");
  });

  it("reaches the runner's own test through setTestProperty", () => {
    const end = mergedRunEnd(binding);
    end.setTestProperty(end.summary.experiments[0]!.tests[0]!, "langsmith", "https://x");
    end.setTestProperty(end.summary.experiments[0]!.tests[1]!, "langsmith", "https://x"); // no setProperty: a no-op
    expect(annotated).toEqual([["langsmith", "https://x"]]);
  });
});
