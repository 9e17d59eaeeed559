import {
  JUNIT_PROPERTY,
  mergedRunEnd,
  runSinks,
  SINKS,
  startTallyRun,
  trackingEnabled,
  type RunEnd,
  type TallyOptions,
  type TallyRun,
} from "@tally/core";
import type { Reporter, TestCase, TestModule, Vitest } from "vitest/node";
import { annotate } from "./annotations.js";
import { bindingOf } from "./binding.js";
import { readTallyMeta } from "./meta.js";

// The main-process half on Vitest. It only imports types from vitest: at runtime it works with the
// objects Vitest hands it, which keeps it working on 3.2 (where importing `vitest` in the main process
// throws), 4 and 5 (where `vitest/reporters` is gone).

export class TallyReporter implements Reporter {
  private vitest: Vitest | undefined;
  private run: TallyRun | undefined;

  constructor(private readonly options: TallyOptions = {}) {}

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  private log(line: string): void {
    if (this.vitest) this.vitest.logger.log(line);
    else console.log(line);
  }

  private get merging(): boolean {
    return !!this.vitest?.config.mergeReports;
  }

  async onTestRunStart(): Promise<void> {
    // Tracking off: no run (the plugin does not add this reporter then; this is for direct use).
    if (this.merging || !trackingEnabled()) return;
    if (this.run) await this.run.abort();
    this.run = await startTallyRun({
      root: this.vitest?.config.root ?? process.cwd(),
      options: this.options,
      runner: "tally-vitest",
      log: (l) => this.log(l),
      color: !!process.stdout.isTTY,
      // The embedded store (and node:sqlite) is loaded only when a run records locally.
      openLocal: async (dir) => (await import("@tally/store")).openLocalBackend(dir),
    });
    // Workers are spawned after this hook and inherit the main process's environment.
    this.run.exposeToWorkers();
  }

  onTestCaseResult(testCase: TestCase): void {
    this.linkExperiment(testCase);
  }

  /**
   * The experiment's link as the test's `langsmith` annotation, as soon as the experiment is resolved.
   * Vitest runs the reporters' onTestRunEnd side by side, so its JUnit reporter writes the annotations
   * while this one drains: the links cannot wait for the run's end (and its JUnit sink). Tests that
   * finished before their experiment was resolved get it at the start of onTestRunEnd.
   */
  private linkExperiment(testCase: TestCase): void {
    const meta = readTallyMeta(testCase.meta());
    if (!meta || meta.url || !this.run) return;
    const url = this.run.experimentUrl(meta.dataset);
    if (url && annotate(testCase, JUNIT_PROPERTY, url)) meta.url = url;
  }

  async onTestRunEnd(testModules: ReadonlyArray<TestModule>): Promise<void> {
    // Synchronously, before the first await: the reporters after this one read the annotations.
    for (const mod of testModules) for (const tc of mod.children.allTests()) this.linkExperiment(tc);
    const binding = bindingOf(testModules);
    if (this.merging) return this.report(mergedRunEnd(binding));
    const run = this.run;
    if (!run) return;
    this.run = undefined;
    const end = await run.finish(binding);
    await this.report(end);
  }

  private async report(end: RunEnd): Promise<void> {
    const { exitCode } = await runSinks(SINKS, end, { log: (l) => this.log(l), color: !!process.stdout.isTTY });
    if (exitCode) process.exitCode = exitCode;
  }
}
