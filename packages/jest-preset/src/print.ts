import type { RunSummary, TallyRun } from "@tally/core" with { "resolution-mode": "import" };
import { core, log } from "./run-state.js";

/** The end of a run, as the Vitest reporter prints it: tables, delivery lines, what is left to send. */
export async function printSummary(summary: RunSummary, spoolDir: string | undefined, run: TallyRun): Promise<void> {
  const { renderReport, colors } = await core();
  const c = colors(!!process.stderr.isTTY);
  const lines = renderReport(summary, { color: c.bold("x") !== "x", tables: run.options.tables });
  if (lines.length > 0) log("\n" + lines.join("\n"));
  if (run.local && summary.experiments.length > 0) {
    log(c.dim(`tally: recorded offline in ${run.backend.replace(/^local store /, "")}; browse it with \`npx tally ui\` and open a view link above`));
  }
  if (spoolDir) {
    log(c.yellow(`tally: ${summary.waiting} records could not be sent yet and are kept in ${spoolDir}`));
    log(c.yellow(`tally: send them with \`npx tally flush\` once the backend is reachable (the next run also sends them)`));
  }
}
