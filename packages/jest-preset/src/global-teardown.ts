import { printSummary } from "./print.js";
import { finishRun, resetRun } from "./run-state.js";
import { joinResults } from "./results.js";

/* eslint-disable @typescript-eslint/no-explicit-any */

// globalTeardown of the preset: runs after every reporter's onRunComplete. Tally's reporter has
// normally finished the run by then (finishRun then gives nothing to print); without it (a
// --reporters override), the run is finished here, from the workers' acks alone, and the delivery
// line is still printed. With your own globalTeardown, call this one from it (see global-setup).
export = async function tallyGlobalTeardown(globalConfig: any): Promise<void> {
  try {
    const rootDir: string = globalConfig?.rootDir ?? process.cwd();
    const finished = await finishRun((run) => joinResults(rootDir, [], run.ledger.acks));
    if (finished) await printSummary(finished);
  } finally {
    resetRun();
  }
};
