import { renderRunEnd } from "../render.js";
import type { RunSink } from "./sink.js";

/** The tables, the delivery lines and where the data is (render.ts), on the runner's terminal. */
export const terminalSink: RunSink = function terminal(summary, { where, tables, color, log, report }) {
  const baselines = new Map<string, { name: string; scores?: Record<string, number> }>();
  for (const e of report?.experiments ?? []) if (e.baseline) baselines.set(e.name, e.baseline);
  for (const line of renderRunEnd(summary, where, { color, tables, baselines })) log(line);
};
