import { describe, expect, it } from "vitest";
import { joinResults, type AckedFile } from "./results.js";

const run = (runId: string, fullName: string, passed = true): AckedFile["tests"][number] => ({
  runId,
  fullName,
  dataset: "ds",
  experimentName: "ds:run",
  experimentId: "00000000-0000-4000-8000-000000000001",
  feedback: [{ key: "pass", score: passed }],
  passed,
});

describe("joinResults", () => {
  it("gives each Jest result the run of its last attempt, in order for repeated names", () => {
    const joined = joinResults(
      "/p",
      [
        {
          testFilePath: "/p/a.test.ts",
          testResults: [
            { fullName: "s flaky", status: "passed", invocations: 2, duration: 5 },
            { fullName: "s twin", status: "passed" },
            { fullName: "s twin", status: "failed" },
            { fullName: "plain", status: "passed" },
          ],
        },
      ],
      [{ file: "/p/a.test.ts", tests: [run("r1", "s flaky", false), run("r2", "s flaky"), run("t1", "s twin"), run("t2", "s twin", false)] }],
    );
    expect(joined.tests.map((t) => [t.name, t.file, t.state, t.runId])).toEqual([
      ["s flaky", "a.test.ts", "passed", "r2"],
      ["s twin", "a.test.ts", "passed", "t1"],
      ["s twin", "a.test.ts", "failed", "t2"],
      ["plain", "a.test.ts", "passed", undefined],
    ]);
    expect(joined.unacked).toEqual([]);
    expect(joined.datasetOf.size).toBe(3);
  });

  it("names files that ran without an ack, and keeps acked tests Jest did not list", () => {
    const joined = joinResults(
      "/p",
      [
        { testFilePath: "/p/crashed.test.ts", testResults: [], testExecError: { message: "worker exited" } },
        { testFilePath: "/p/b.test.ts", testResults: [{ fullName: "x", status: "pending" }] },
      ],
      [{ file: "/p/b.test.ts", tests: [run("u1", "renamed", false)] }],
    );
    expect(joined.unacked).toEqual(["crashed.test.ts"]);
    expect(joined.tests.map((t) => [t.name, t.state, t.runId])).toEqual([
      ["x", "skipped", undefined],
      ["renamed", "failed", "u1"],
    ]);
  });
});
