import type { TestAnnotation } from "vitest";

// Vitest's JUnit reporter writes each annotation of a test as a `<property>`. It reads them from the
// runner task behind a TestCase, which Vitest's public types do not show (`task` is internal in 3.2,
// 4 and 5; 5 adds `experimental_getRunnerTask`, 3.2 and 4 have nothing), and `TestCase.annotations()`
// returns a copy: so the task is found through a type guard.

/** The live annotations array of a test, or undefined if this Vitest keeps it elsewhere. */
export function annotationsOf(testCase: object): TestAnnotation[] | undefined {
  if (!("task" in testCase)) return undefined;
  const task = testCase.task;
  if (typeof task !== "object" || task === null || !("annotations" in task)) return undefined;
  const annotations: unknown = task.annotations;
  return Array.isArray(annotations) && annotations.every(isAnnotation) ? annotations : undefined;
}

function isAnnotation(a: unknown): a is TestAnnotation {
  return (
    typeof a === "object" && a !== null && "type" in a && typeof a.type === "string" && "message" in a && typeof a.message === "string"
  );
}

/**
 * Gives the test a `{ type: name, message: value }` annotation unless it has one of that type.
 * False when the test's annotations could not be reached.
 */
export function annotate(testCase: object, name: string, value: string): boolean {
  const annotations = annotationsOf(testCase);
  if (!annotations) return false;
  if (!annotations.some((a) => a.type === name)) annotations.push({ type: name, message: value });
  return true;
}
