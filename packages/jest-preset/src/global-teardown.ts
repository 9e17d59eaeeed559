// biome-ignore-all lint/suspicious/noExplicitAny: Jest hands the preset its config, globals and results untyped (the preset does not depend on Jest's type packages)
import { ACKS_ONLY } from "./binding.js";
import { report } from "./report.js";
import { finishRun, resetRun } from "./run-state.js";

// globalTeardown of the preset: runs after every reporter's onRunComplete. Tally's reporter has
// normally finished the run by then (finishRun then gives nothing to report); without it (a
// --reporters override), the run is finished here, from the workers' acks alone, and the delivery
// line is still printed. With your own globalTeardown, call this one from it (see global-setup).
export = async function tallyGlobalTeardown(_globalConfig: any): Promise<void> {
  try {
    const end = await finishRun(ACKS_ONLY);
    if (end) await report(end);
  } finally {
    resetRun();
  }
};
