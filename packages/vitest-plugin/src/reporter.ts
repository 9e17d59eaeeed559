import {
  renderRunEnd,
  startTallyRun,
  WORKER_ENV,
  type ReportedTest,
  type RunEndContext,
  type RunSummary,
  type TallyOptions,
  type TallyRun,
} from "@tally/core";
import type { TallyTaskMeta } from "./meta.js";

/* eslint-disable @typescript-eslint/no-explicit-any */

// The main-process half on Vitest. It only imports types from vitest: at runtime it works with the
// objects Vitest hands it, which keeps it working on 3.2 (where importing `vitest` in the main process
// throws), 4 and 5 (where `vitest/reporters` is gone).

export class TallyReporter {
  private vitest: any;
  private run: TallyRun | undefined;

  constructor(private readonly options: TallyOptions = {}) {}

  onInit(vitest: any): void {
    this.vitest = vitest;
  }

  private log(line: string): void {
    if (this.vitest?.logger?.log) this.vitest.logger.log(line);
    else console.log(line);
  }

  private get merging(): boolean {
    return !!this.vitest?.config?.mergeReports;
  }

  async onTestRunStart(): Promise<void> {
    if (this.merging) return;
    if (this.run) await this.run.abort();
    this.run = await startTallyRun({
      root: this.vitest.config.root,
      options: this.options,
      runner: "tally-vitest",
      log: (l) => this.log(l),
      color: !!process.stdout.isTTY,
    });
    // Workers are spawned after this hook and inherit the main process's environment.
    Object.assign(process.env, this.run.workerEnv);
  }

  onTestCaseResult(testCase: any): void {
    this.linkExperiment(testCase);
  }

  /**
   * Tests that finished before their experiment was resolved get the link here, in the main process
   * (their worker could not know it yet), before any CI reporter writes it out.
   */
  private linkExperiment(testCase: any): void {
    const meta: TallyTaskMeta | undefined = testCase.meta()?.tally;
    if (!meta || meta.url || !this.run) return;
    const exp = this.run.registry.peek(meta.dataset);
    const annotations = testCase.task?.annotations;
    if (!exp || !Array.isArray(annotations)) return;
    if (!annotations.some((a: any) => a.type === "langsmith")) annotations.push({ type: "langsmith", message: exp.url });
    meta.url = exp.url;
  }

  async onTestRunEnd(testModules: readonly any[]): Promise<void> {
    // Synchronously, before the first await: the reporters after this one read the annotations.
    for (const mod of testModules) for (const tc of mod.children.allTests()) this.linkExperiment(tc);
    const tests = collectTests(testModules);
    if (this.merging) {
      this.print(summaryFromMeta(tests), { local: false, backend: "" });
      return;
    }
    const run = this.run;
    if (!run) return;
    this.run = undefined;
    const { summary, spoolDir, leftBehind } = await run.finish(tests, filesWithoutAck(testModules, tests, run));
    for (const key of Object.values(WORKER_ENV)) delete process.env[key];
    this.print(summary, { local: run.local, backend: run.backend, spoolDir, leftBehind }, run.options.tables);
  }

  private print(summary: RunSummary, where: RunEndContext, tables = true): void {
    for (const line of renderRunEnd(summary, where, { color: !!process.stdout.isTTY, tables })) this.log(line);
  }
}

function collectTests(testModules: readonly any[]): ReportedTest[] {
  const out: ReportedTest[] = [];
  for (const mod of testModules) {
    const file: string = mod.relativeModuleId ?? mod.moduleId;
    for (const tc of mod.children.allTests()) {
      const meta: TallyTaskMeta | undefined = tc.meta()?.tally;
      const state = tc.result()?.state ?? "pending";
      out.push({
        name: tc.fullName ?? tc.name,
        file,
        state,
        runId: meta?.runId,
        dataset: meta?.dataset,
        experimentName: meta?.experimentName,
        feedback: meta?.feedback,
        durationMs: tc.diagnostic()?.duration,
      });
    }
  }
  return out;
}

function filesWithoutAck(testModules: readonly any[], tests: ReportedTest[], run: TallyRun): string[] {
  const acked = new Set(run.ledger.acks.map((a) => a.file));
  const tracked = new Set(tests.filter((t) => t.runId).map((t) => t.file));
  return testModules
    .filter((m) => tracked.has(m.relativeModuleId ?? m.moduleId) && !acked.has(m.moduleId))
    .map((m) => m.relativeModuleId ?? m.moduleId);
}

/** `--merge-reports`: no collector ran in this process; report from what the tests left in meta. */
function summaryFromMeta(tests: ReportedTest[]): RunSummary {
  const byName = new Map<string, RunSummary["experiments"][number]>();
  for (const t of tests) {
    if (!t.runId || !t.experimentName || !t.dataset) continue;
    let s = byName.get(t.experimentName);
    if (!s) {
      s = { dataset: t.dataset, name: t.experimentName, tests: [], expected: 0, delivered: 0, spans: 0, feedback: 0, missing: [] };
      byName.set(t.experimentName, s);
    }
    s.tests.push(t);
    s.expected++;
  }
  return { experiments: [...byName.values()], otherRuns: { delivered: 0, received: 0, byProject: {} }, waiting: 0, waitingTests: 0, problems: [], merged: true };
}
