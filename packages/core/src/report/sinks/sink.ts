import type { RunSummary } from "../reconcile.js";
import type { RunEnd } from "../run-end.js";

// A sink takes the end of a run and does one thing with it (print it, link it into JUnit, ...). Both
// runners hand every run's end to the same list, in order.

/** Where the runner's adapter prints: Vitest's logger on stdout, Jest's stderr. */
export interface Terminal {
  log(line: string): void;
  /** Whether that stream is a terminal (colour the lines). */
  color: boolean;
}

export type SinkContext = Omit<RunEnd, "summary"> & Terminal;

/** What a sink may ask of the run's end: a gate fails the run by giving a non-zero exit code. */
export interface SinkResult {
  exitCode?: number;
}

// biome-ignore lint/suspicious/noConfusingVoidType: a sink that only prints returns nothing; undefined would make it write `return undefined`.
export type RunSink = (summary: RunSummary, context: SinkContext) => void | SinkResult | Promise<void | SinkResult>;

/**
 * Runs each sink in turn (a sink may rely on an earlier one having run). Synchronous sinks run
 * without yielding, so their output keeps its place among the other reporters' (Vitest calls its
 * reporters side by side). One that throws is named on the terminal and does not stop the others: an
 * unwritable report file must not hide the delivery lines. The exit code is the highest any sink
 * asked for; absent when none did.
 */
export async function runSinks(sinks: readonly RunSink[], end: RunEnd, terminal: Terminal): Promise<SinkResult> {
  const { summary, ...rest } = end;
  const context: SinkContext = { ...rest, ...terminal };
  let exitCode: number | undefined;
  for (const sink of sinks) {
    try {
      const given = sink(summary, context);
      const r = given instanceof Promise ? await given : given;
      if (r?.exitCode !== undefined) exitCode = Math.max(exitCode ?? 0, r.exitCode);
    } catch (err) {
      terminal.log(`tally: ${sink.name || "a report sink"} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return exitCode === undefined ? {} : { exitCode };
}
