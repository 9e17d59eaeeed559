import type { TallyOptions, TallyRun } from "@tally/core" with { "resolution-mode": "import" };
import { printSummary } from "./print.js";
import { ensureRun, finishRun } from "./run-state.js";
import { joinResults, type JestFileResult, type JoinedResults } from "./results.js";

/* eslint-disable @typescript-eslint/no-explicit-any */

// The Jest reporter: prints one table per experiment and the delivery line at the end of the run,
// and puts the experiment URL on each tracked test's result (`tallyExperimentUrl`, which the
// junit-properties module hands to jest-junit). It sits beside Jest's own reporters.
// `export =` (module.exports is the class), like the other entry points: an `export default` would
// compile to `exports.default`, which Node's ESM import (and some bundlers) do not unwrap.

class TallyJestReporter {
  private readonly rootDir: string;

  constructor(
    globalConfig: any,
    private readonly options: TallyOptions = {},
  ) {
    this.rootDir = globalConfig?.rootDir ?? process.cwd();
  }

  /** Starts the run if globalSetup did not (a user's own globalSetup replaced the preset's). */
  async onRunStart(): Promise<void> {
    await ensureRun(this.rootDir, this.options);
  }

  async onRunComplete(_contexts: unknown, results: any): Promise<void> {
    const files: JestFileResult[] = results?.testResults ?? [];
    let joined: JoinedResults | undefined;
    const finished = await finishRun((run) => (joined = joinResults(this.rootDir, files, run.ledger.acks)));
    if (!finished || !joined) return;
    // Jest awaits each reporter's onRunComplete in turn: the links are there before jest-junit runs.
    linkExperiments(joined, finished.run);
    await printSummary(finished);
  }
}
export = TallyJestReporter;

/** The experiment link on each tracked test's result (the experiments are resolved once the run is drained). */
function linkExperiments(joined: JoinedResults, run: TallyRun): void {
  for (const [assertion, dataset] of joined.datasetOf) {
    const url = run.registry.peek(dataset)?.url;
    if (url) (assertion as any).tallyExperimentUrl = url;
  }
}
