import { type ExperimentSpreadView, renderRunEnd } from "../render.js";
import { comparisonLines } from "./comparison.js";
import type { RunSink } from "./sink.js";
import { usageSentence } from "../usage.js";

/**
 * The tables (with Δ against the baseline, each mean's and the pass rate's interval, the trials' pass@k
 * and pass^k), the delivery lines, the comparison with each baseline and
 * its regressions, and where the data is (render.ts), on the runner's terminal.
 */
export const terminalSink: RunSink = function terminal(summary, { where, tables, color, log, report }) {
  const baselines = new Map<string, { name: string; scores?: Record<string, number> }>();
  const spread = new Map<string, ExperimentSpreadView>();
  const usage = new Map<string, string>();
  for (const e of report?.experiments ?? []) {
    if (e.baseline) baselines.set(e.name, e.baseline);
    spread.set(e.name, e);
    const line = usageSentence(e);
    if (line) usage.set(e.name, line);
  }
  // The comparison comes before where to look, so the run still ends with it.
  const after = report ? comparisonLines(report, color) : [];
  for (const line of renderRunEnd(summary, where, { color, tables, baselines, after, spread, usage })) log(line);
};
