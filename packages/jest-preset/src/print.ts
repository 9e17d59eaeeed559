import { core, log, type Finished } from "./run-state.js";

/** The end of a run, as the Vitest reporter prints it (core's renderRunEnd), on stderr. */
export async function printSummary({ summary, spoolDir, leftBehind, run }: Finished): Promise<void> {
  const { renderRunEnd } = await core();
  const where = { local: run.local, backend: run.backend, spoolDir, leftBehind };
  for (const line of renderRunEnd(summary, where, { color: !!process.stderr.isTTY, tables: run.options.tables })) log(line);
}
