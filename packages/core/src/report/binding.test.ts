import { describe, expect, it } from "vitest";
import type { AckedTest } from "../protocol/tracked-test.js";
import { joinBinding, type AckedFile, type BoundFile, type BoundTest, type RunBinding } from "./binding.js";

const acked = (runId: string, fullName: string, passed = true): AckedTest => ({
  runId,
  fullName,
  dataset: "ds",
  experimentName: "ds:run",
  experimentId: "00000000-0000-4000-8000-000000000001",
  feedback: [{ key: "pass", score: passed }],
  passed,
});
const test = (name: string, state: BoundTest["state"] = "passed", extra: Partial<BoundTest> = {}): BoundTest => ({ name, state, ...extra });
const file = (path: string, tests: BoundTest[], expectsAck = tests.length > 0): BoundFile => ({
  path,
  name: path.replace("/p/", ""),
  expectsAck,
  tests,
});
const rows = (binding: RunBinding, acks: AckedFile[]) =>
  joinBinding(binding, acks, "/p").tests.map((t) => [t.name, t.file, t.state, t.runId]);

describe("joinBinding with the runs in the acks (Jest)", () => {
  it("gives each test the run of its last attempt, in order for repeated names", () => {
    const binding: RunBinding = {
      trackedFrom: "acks",
      files: [
        file("/p/a.test.ts", [
          test("s flaky", "passed", { attempts: 2, durationMs: 5 }),
          test("s twin"),
          test("s twin", "failed"),
          test("plain"),
        ]),
      ],
    };
    const joined = joinBinding(
      binding,
      [
        {
          file: "/p/a.test.ts",
          tests: [acked("r1", "s flaky", false), acked("r2", "s flaky"), acked("t1", "s twin"), acked("t2", "s twin", false)],
        },
      ],
      "/p",
    );
    expect(joined.tests.map((t) => [t.name, t.file, t.state, t.runId])).toEqual([
      ["s flaky", "a.test.ts", "passed", "r2"],
      ["s twin", "a.test.ts", "passed", "t1"],
      ["s twin", "a.test.ts", "failed", "t2"],
      ["plain", "a.test.ts", "passed", undefined],
    ]);
    expect(joined.tests[0]).toMatchObject({
      durationMs: 5,
      dataset: "ds",
      experimentName: "ds:run",
      feedback: [{ key: "pass", score: true }],
    });
    expect(joined.unacked).toEqual([]);
  });

  it("names files that owed an ack and sent none, and keeps acked tests the runner did not list", () => {
    const binding: RunBinding = {
      trackedFrom: "acks",
      files: [file("/p/crashed.test.ts", [], true), file("/p/b.test.ts", [test("x", "skipped")]), file("/p/empty.test.ts", [], false)],
    };
    const joined = joinBinding(binding, [{ file: "/p/b.test.ts", tests: [acked("u1", "renamed", false)] }], "/p");
    expect(joined.unacked).toEqual(["crashed.test.ts"]);
    expect(joined.tests.map((t) => [t.name, t.state, t.runId])).toEqual([
      ["x", "skipped", undefined],
      ["renamed", "failed", "u1"],
    ]);
  });

  it("keeps the runs of files only an ack knows of, named relative to the root", () => {
    const acks = [
      { file: "/p/evals/a.test.ts", tests: [acked("r1", "one")] },
      { file: "/p/evals/a.test.ts", tests: [acked("r2", "two")] },
    ];
    expect(rows({ trackedFrom: "acks", files: [] }, acks)).toEqual([
      ["one", "evals/a.test.ts", "passed", "r1"],
      ["two", "evals/a.test.ts", "passed", "r2"],
    ]);
  });
});

describe("joinBinding with the runs on the tests (Vitest)", () => {
  const tracked = { runId: "m1", dataset: "ds", experimentName: "ds:run", experimentId: "e", feedback: [] };

  it("takes each test's run from the test and never from the acks", () => {
    const binding: RunBinding = {
      trackedFrom: "tests",
      files: [file("/p/a.test.ts", [test("ds > one", "passed", { tracked }), test("ds > two")])],
    };
    // An ack naming the untracked test must not give it a run, nor add its own tests.
    expect(
      rows(binding, [
        { file: "/p/a.test.ts", tests: [acked("x1", "ds > two"), acked("x2", "other")] },
        { file: "/p/b.test.ts", tests: [acked("x3", "b")] },
      ]),
    ).toEqual([
      ["ds > one", "a.test.ts", "passed", "m1"],
      ["ds > two", "a.test.ts", "passed", undefined],
    ]);
  });

  it("names a file as unacked only when the runner says it owed one", () => {
    const binding: RunBinding = {
      trackedFrom: "tests",
      files: [
        file("/p/tracked.test.ts", [test("a", "failed", { tracked })], true),
        file("/p/plain.test.ts", [test("b")], false),
        file("/p/acked.test.ts", [test("c", "passed", { tracked })], true),
      ],
    };
    expect(joinBinding(binding, [{ file: "/p/acked.test.ts", tests: [] }], "/p").unacked).toEqual(["tracked.test.ts"]);
  });

  it("links every reported test to the bound test it came from", () => {
    const bound = test("a", "passed", { tracked });
    const joined = joinBinding({ trackedFrom: "tests", files: [file("/p/a.test.ts", [bound])] }, [], "/p");
    expect(joined.boundOf.get(joined.tests[0]!)).toBe(bound);
  });
});
