import { joinBinding, type JoinedBinding, type RunBinding } from "./binding.js";
import { summarizeMerged, type ReportedTest, type RunSummary } from "./reconcile.js";
import type { TallyReportV1 } from "./json-report.js";
import type { RunEndContext } from "./render.js";

// The end of a run as the sinks take it. `TallyRun.finish` gives one; a runner that reports without a
// run of its own (Vitest `--merge-reports`) gets one from `mergedRunEnd`.

export interface RunEnd {
  summary: RunSummary;
  /** Where the run went: backend, spool left, earlier runs' spools sent on the way. */
  where: RunEndContext;
  /** Print the per-experiment tables (the `tables` option). */
  tables: boolean;
  /**
   * Puts a property on the runner's own result of `test`, one of the summary's tests (written as a
   * JUnit `<property>`); a no-op for a test the runner keeps no result of.
   */
  setTestProperty(test: ReportedTest, name: string, value: string): void;
  /** The run's JSON report (baselines, regressions, gates): what every CI output is rendered from. */
  report?: TallyReportV1;
  /** Where to write it (the `reportFile` option). */
  reportFile?: string;
  /** The environment the CI sinks look at (GITHUB_ACTIONS, GITHUB_STEP_SUMMARY). */
  env: Readonly<Record<string, string | undefined>>;
}

/** Lets the sinks reach each reported test's runner result through the bound test it came from. */
export function propertySetter(boundOf: JoinedBinding["boundOf"]): RunEnd["setTestProperty"] {
  return (test, name, value) => boundOf.get(test)?.setProperty?.(name, value);
}

/**
 * `--merge-reports`: no collector ran in this process, each shard checked its own delivery. The
 * tables come from what the tests carry; nothing is sent, so there is no spool and no backend to name.
 */
export function mergedRunEnd(binding: RunBinding): RunEnd {
  const { tests, boundOf } = joinBinding(binding, [], "");
  return {
    summary: summarizeMerged(tests),
    where: { local: false, backend: "" },
    tables: true,
    setTestProperty: propertySetter(boundOf),
    env: process.env,
  };
}
