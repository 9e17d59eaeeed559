import { printSummary } from "./print.js";
import { finishRun, isFinishing, resetRun } from "./run-state.js";
import { joinResults } from "./results.js";

/* eslint-disable @typescript-eslint/no-explicit-any */

// globalTeardown of the preset: runs after every reporter's onRunComplete. Tally's reporter has
// normally finished the run by then; without it (a --reporters override), the run is finished here,
// from the workers' acks alone, and the delivery line is still printed.
// With your own globalTeardown, call this one from it (see global-setup).
export = async function tallyGlobalTeardown(globalConfig: any): Promise<void> {
  try {
    if (isFinishing()) {
      await finishRun(() => []);
      return;
    }
    const rootDir: string = globalConfig?.rootDir ?? process.cwd();
    let run: Parameters<typeof printSummary>[2] | undefined;
    const finished = await finishRun((r) => {
      run = r;
      return joinResults(rootDir, [], r.ledger.acks).tests;
    });
    if (finished && run) await printSummary(finished.summary, finished.spoolDir, run);
  } finally {
    resetRun();
  }
};
