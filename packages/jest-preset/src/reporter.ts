// biome-ignore-all lint/suspicious/noExplicitAny: Jest hands the preset its config, globals and results untyped (the preset does not depend on Jest's type packages)
import type { TallyOptions } from "@tally/core" with { "resolution-mode": "import" };
import { bindingOf, type JestFileResult } from "./binding.js";
import { report } from "./report.js";
import { ensureRun, finishRun } from "./run-state.js";

// The Jest reporter: hands the run what Jest saw (its binding) and the run's end to core's sinks: one
// table per experiment and the delivery line, and the experiment URL on each tracked test's result
// (for jest-junit, through the junit-properties module). It sits beside Jest's own reporters.
// `export =` (module.exports is the class), like the other entry points: an `export default` would
// compile to `exports.default`, which Node's ESM import (and some bundlers) do not unwrap.

class TallyJestReporter {
  private readonly rootDir: string;
  /** Set when a sink failed the run (a gate): Jest then exits non-zero even if every test passed. */
  private failure: Error | undefined;

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
    const end = await finishRun(bindingOf(this.rootDir, files));
    // Jest awaits each reporter's onRunComplete in turn: the links are there before jest-junit runs.
    if (end && (await report(end))) this.failure = new Error("a Tally gate failed (see above)");
  }

  getLastError(): Error | undefined {
    return this.failure;
  }
}
export = TallyJestReporter;
