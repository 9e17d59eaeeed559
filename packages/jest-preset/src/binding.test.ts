import { joinBinding, type AckedTest } from "@tally/core";
import { describe, expect, it } from "vitest";
import { ACKS_ONLY, bindingOf, propertiesOf, type JestAssertion, type JestFileResult } from "./binding.js";
import tallyJunitProperties from "./junit-properties.js";

const acked = (runId: string, fullName: string, passed = true): AckedTest => ({
  runId,
  fullName,
  dataset: "ds",
  experimentName: "ds:run",
  experimentId: "00000000-0000-4000-8000-000000000001",
  feedback: [{ key: "pass", score: passed }],
  passed,
});

describe("bindingOf (Jest's results)", () => {
  it("names files relative to the root, maps Jest's statuses and keeps attempts and durations", () => {
    const binding = bindingOf("/p", [
      {
        testFilePath: "/p/evals/a.test.ts",
        testResults: [
          { fullName: "s flaky", status: "passed", invocations: 2, duration: 5 },
          { fullName: "s bad", status: "failed", duration: null },
          { fullName: "s todo", status: "todo" },
          { fullName: "s pending", status: "pending" },
        ],
      },
    ]);
    expect(binding.trackedFrom).toBe("acks");
    const [file] = binding.files;
    expect(file).toMatchObject({ path: "/p/evals/a.test.ts", name: "evals/a.test.ts", expectsAck: true });
    expect(file!.tests.map((t) => [t.name, t.state, t.attempts, t.durationMs])).toEqual([
      ["s flaky", "passed", 2, 5],
      ["s bad", "failed", undefined, undefined],
      ["s todo", "skipped", undefined, undefined],
      ["s pending", "skipped", undefined, undefined],
    ]);
  });

  it("owes an ack for a file that ran anything or failed to load, not for one that ran nothing", () => {
    const files: JestFileResult[] = [
      { testFilePath: "/p/crashed.test.ts", testResults: [], testExecError: { message: "worker exited" } },
      { testFilePath: "/p/ran.test.ts", testResults: [{ fullName: "x", status: "passed" }] },
      { testFilePath: "/p/none.test.ts", testResults: [], testExecError: null },
    ];
    expect(bindingOf("/p", files).files.map((f) => [f.name, f.expectsAck])).toEqual([
      ["crashed.test.ts", true],
      ["ran.test.ts", true],
      ["none.test.ts", false],
    ]);
  });

  it("a run no reporter saw binds no file: the acks are all there is", () => {
    expect(ACKS_ONLY).toEqual({ trackedFrom: "acks", files: [] });
  });
});

describe("Jest's results joined with the acks", () => {
  it("gives each result the run of its last attempt and names the file that never acked", () => {
    const files: JestFileResult[] = [
      {
        testFilePath: "/p/a.test.ts",
        testResults: [
          { fullName: "s flaky", status: "passed", invocations: 2 },
          { fullName: "plain", status: "passed" },
        ],
      },
      { testFilePath: "/p/crashed.test.ts", testResults: [], testExecError: { message: "worker exited" } },
    ];
    const joined = joinBinding(
      bindingOf("/p", files),
      [{ file: "/p/a.test.ts", tests: [acked("r1", "s flaky", false), acked("r2", "s flaky")] }],
      "/p",
    );
    expect(joined.tests.map((t) => [t.name, t.file, t.state, t.runId])).toEqual([
      ["s flaky", "a.test.ts", "passed", "r2"],
      ["plain", "a.test.ts", "passed", undefined],
    ]);
    expect(joined.unacked).toEqual(["crashed.test.ts"]);
  });
});

describe("properties for jest-junit", () => {
  it("land on the Jest result, where the junit-properties module reads them", () => {
    const result: JestAssertion = { fullName: "s one", status: "passed" };
    const [bound] = bindingOf("/p", [{ testFilePath: "/p/a.test.ts", testResults: [result] }]).files[0]!.tests;
    bound!.setProperty!("langsmith", "https://x/compare");
    bound!.setProperty!("other", "v");
    expect(tallyJunitProperties(result)).toEqual({ langsmith: "https://x/compare", other: "v" });
  });

  it("are empty for a result Tally never touched, and skip values that are not strings", () => {
    expect(propertiesOf({ fullName: "x", status: "passed" })).toEqual({});
    expect(propertiesOf(undefined)).toEqual({});
    expect(propertiesOf({ tallyProperties: { langsmith: 3, ok: "y" } })).toEqual({ ok: "y" });
  });
});
