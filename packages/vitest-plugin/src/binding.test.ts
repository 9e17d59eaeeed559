import { describe, expect, it } from "vitest";
import type { TestAnnotation } from "vitest";
import { bindingOf, nameOf, type BindingTestCase, type BindingTestModule } from "./binding.js";
import type { TallyTaskMeta } from "./meta.js";

// TestModule / TestCase as Vitest hands them to the reporter, built by hand: only what the binding reads,
// plus the runner task behind the test (its annotations), as Vitest keeps it.

const meta = (runId: string): TallyTaskMeta => ({
  runId,
  dataset: "qa",
  experimentName: "qa:run-1",
  experimentId: "e1",
  feedback: [{ key: "pass", score: true }],
});

function testCase(fullName: string, state: "passed" | "failed" | "skipped" | "pending", tally?: unknown, duration?: number) {
  const task = { annotations: [] as TestAnnotation[], meta: { tally } };
  const tc = {
    task,
    fullName,
    meta: () => task.meta as ReturnType<BindingTestCase["meta"]>,
    result: () => ({ state }),
    diagnostic: () => (duration === undefined ? undefined : { duration }),
  };
  return tc satisfies BindingTestCase;
}

function testModule(moduleId: string, tests: BindingTestCase[], relativeModuleId?: string): BindingTestModule {
  return { moduleId, ...(relativeModuleId ? { relativeModuleId } : {}), children: { allTests: () => tests.values() } };
}

describe("bindingOf", () => {
  it("gives each test its name, state, duration and the run its meta carries", () => {
    const binding = bindingOf([
      testModule(
        "/p/evals/a.test.ts",
        [testCase("qa > one", "passed", meta("r1"), 12), testCase("qa > two", "failed", meta("r2")), testCase("plain", "skipped")],
        "evals/a.test.ts",
      ),
    ]);
    expect(binding.trackedFrom).toBe("tests");
    const [file] = binding.files;
    expect(file).toMatchObject({ path: "/p/evals/a.test.ts", name: "evals/a.test.ts", expectsAck: true });
    expect(file!.tests.map((t) => [t.name, t.state, t.durationMs, t.tracked?.runId])).toEqual([
      ["qa > one", "passed", 12, "r1"],
      ["qa > two", "failed", undefined, "r2"],
      ["plain", "skipped", undefined, undefined],
    ]);
  });

  it("gives a test its line when Vitest located it (includeTaskLocation, which the plugin turns on in GitHub Actions)", () => {
    const located = { ...testCase("qa > one", "passed", meta("r1")), location: { line: 7, column: 3 } };
    const [file] = bindingOf([testModule("/p/a.test.ts", [located, testCase("qa > two", "passed")])]).files;
    expect(file!.tests.map((t) => t.line)).toEqual([7, undefined]);
  });

  it("owes an ack only for a file whose tests recorded runs", () => {
    const binding = bindingOf([testModule("/p/plain.test.ts", [testCase("x", "passed")]), testModule("/p/empty.test.ts", [])]);
    expect(binding.files.map((f) => f.expectsAck)).toEqual([false, false]);
  });

  it("ignores meta that lacks what the report needs (a foreign or truncated blob)", () => {
    const binding = bindingOf([
      testModule("/p/a.test.ts", [
        testCase("a", "passed", { runId: "r1" }),
        testCase("b", "passed", "tally"),
        testCase("c", "passed", { ...meta("r3"), feedback: "none" }),
      ]),
    ]);
    expect(binding.files[0]!.tests.map((t) => t.tracked)).toEqual([undefined, undefined, undefined]);
    expect(binding.files[0]!.expectsAck).toBe(false);
  });

  it("puts a property on the test as an annotation, once per name", () => {
    const tc = testCase("qa > one", "passed", meta("r1"));
    const [bound] = bindingOf([testModule("/p/a.test.ts", [tc])]).files[0]!.tests;
    bound!.setProperty!("langsmith", "https://x/1");
    bound!.setProperty!("langsmith", "https://x/2");
    expect(tc.task.annotations).toEqual([{ type: "langsmith", message: "https://x/1" }]);
  });
});

describe("nameOf", () => {
  it("uses relativeModuleId (Vitest ≥ 4), else the moduleId (3.2)", () => {
    expect(nameOf(testModule("/p/a.test.ts", [], "a.test.ts"))).toBe("a.test.ts");
    expect(nameOf(testModule("/p/a.test.ts", []))).toBe("/p/a.test.ts");
  });
});
