import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { RunSink } from "./sink.js";

/** The run's JSON report, written where the `reportFile` option (or TALLY_REPORT_FILE) says. */
export const jsonReportSink: RunSink = function jsonReport(_summary, { report, reportFile, log }) {
  if (!report || !reportFile) return;
  const path = resolve(reportFile);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  log(`tally: report written to ${path}`);
};
