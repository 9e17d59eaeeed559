import type { TrackedTest } from "@tally/core";
import type {} from "vitest";
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
