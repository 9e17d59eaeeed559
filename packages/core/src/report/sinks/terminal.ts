import { renderRunEnd } from "../render.js";
import type { RunSink } from "./sink.js";

/** The tables, the delivery lines and where the data is (render.ts), on the runner's terminal. */
export const terminalSink: RunSink = function terminal(summary, { where, tables, color, log }) {
  for (const line of renderRunEnd(summary, where, { color, tables })) log(line);
};
