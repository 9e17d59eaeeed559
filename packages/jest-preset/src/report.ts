import type { RunEnd } from "@tally/core" with { "resolution-mode": "import" };
import { core, log } from "./run-state.js";

/**
 * The end of a run to core's sinks, as on Vitest; the terminal is stderr, beside Jest's own output.
 * Returns the exit code a sink asked for (a failing gate), also set as the process's.
 */
export async function report(end: RunEnd): Promise<number | undefined> {
  const { runSinks, SINKS } = await core();
  const { exitCode } = await runSinks(SINKS, end, { log, color: !!process.stderr.isTTY });
  if (exitCode) process.exitCode = exitCode;
  return exitCode;
}
