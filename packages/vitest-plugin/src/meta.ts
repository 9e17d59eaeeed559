import type { TrackedTest } from "@tally/core";
import type { TaskMeta } from "vitest";

// What a test leaves in Vitest's task meta for the reporter. Meta travels with the test result to
// the main process and survives `--reporter=blob` + `--merge-reports`, so it stays JSON-safe.
export interface TallyTaskMeta extends TrackedTest {
  /** The experiment's link, added by the reporter in the main process. */
  url?: string;
}

declare module "vitest" {
  interface TaskMeta {
    tally?: TallyTaskMeta;
  }
}

export const VITEST_MODULE_KEY = Symbol.for("tally.vitest-module");

/**
 * The test's Tally meta (the object itself: the reporter completes it in place), when it has the
 * fields the report needs. Meta can come from another process's blob, so it is checked, not trusted.
 */
export function readTallyMeta(meta: TaskMeta | undefined): TallyTaskMeta | undefined {
  const m = meta?.tally;
  if (!m || typeof m !== "object") return undefined;
  const strings = [m.runId, m.dataset, m.experimentName].every((v) => typeof v === "string" && v !== "");
  return strings && Array.isArray(m.feedback) ? m : undefined;
}

/** What Tally uses of the user's `vitest` module in a worker (the same in 3.2, 4 and 5). */
export type VitestModule = Pick<typeof import("vitest"), "test" | "it" | "describe" | "expect" | "afterAll">;
