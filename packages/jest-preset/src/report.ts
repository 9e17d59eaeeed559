import type { RunEnd } from "@tally/core" with { "resolution-mode": "import" };
import { core, log } from "./run-state.js";

/** The end of a run to core's sinks, as on Vitest; the terminal is stderr, beside Jest's own output. */
export async function report(end: RunEnd): Promise<void> {
  const { runSinks, SINKS } = await core();
  const { exitCode } = await runSinks(SINKS, end, { log, color: !!process.stderr.isTTY });
  if (exitCode) process.exitCode = exitCode;
}
