import { colors } from "../render.js";
import type { RunSink } from "./sink.js";

/** Each failing gate, one line, and exit code 1 for the run, even when every test passed. */
export const gatesSink: RunSink = function gates(_summary, { report, log, color }) {
  const failed = (report?.gates ?? []).filter((g) => !g.ok);
  if (failed.length === 0) return;
  const c = colors(color);
  for (const g of failed) log(c.red(`Tally gate failed: ${g.message}`));
  return { exitCode: 1 };
};
