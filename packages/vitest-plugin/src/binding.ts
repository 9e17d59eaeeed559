import type { BoundFile, RunBinding } from "@tally/core";
import type { TaskMeta } from "vitest";
import type { TestCase, TestDiagnostic, TestModule, TestResult } from "vitest/node";
import { annotate } from "./annotations.js";
import { readTallyMeta } from "./meta.js";

// Pure: the run's binding from the test modules Vitest hands the reporter at the end of the run.
// Vitest carries each test's run in its task meta, so the binding says where it is ("tests").

/** What the binding reads of a TestCase: a part of the surface Vitest 3.2, 4 and 5 share. */
export interface BindingTestCase {
  readonly fullName: TestCase["fullName"];
  meta(): TaskMeta;
  result(): Pick<TestResult, "state">;
  diagnostic(): Pick<TestDiagnostic, "duration"> | undefined;
  /** Set when the config has `includeTaskLocation` (the plugin turns it on). */
  readonly location?: TestCase["location"];
}

/** What the binding reads of a TestModule (the rest of it through a guard: see `nameOf`). */
export interface BindingTestModule {
  readonly moduleId: TestModule["moduleId"];
  readonly children: { allTests(): Iterable<BindingTestCase> };
}

export function bindingOf(testModules: ReadonlyArray<BindingTestModule>): RunBinding {
  return { trackedFrom: "tests", files: testModules.map(boundFile) };
}

function boundFile(mod: BindingTestModule): BoundFile {
  const tests = [...mod.children.allTests()].map((tc) => ({
    name: tc.fullName,
    state: tc.result().state,
    durationMs: tc.diagnostic()?.duration,
    ...(tc.location?.line ? { line: tc.location.line } : {}),
    tracked: readTallyMeta(tc.meta()),
    // Vitest's JUnit reporter writes the test's annotations as its properties.
    setProperty: (name: string, value: string) => void annotate(tc, name, value),
  }));
  // A file whose tests recorded runs must have acked its final flush; one with none may not even
  // have loaded Tally's setup, and is not Tally's to report.
  return { path: mod.moduleId, name: nameOf(mod), expectsAck: tests.some((t) => t.tracked), tests };
}

/**
 * The file as the report names it: relative to the project's root. `relativeModuleId` is Vitest ≥ 4
 * only (3.2's TestModule has none, and its report shows `moduleId`, an absolute path).
 */
export function nameOf(mod: BindingTestModule): string {
  return "relativeModuleId" in mod && typeof mod.relativeModuleId === "string" ? mod.relativeModuleId : mod.moduleId;
}
