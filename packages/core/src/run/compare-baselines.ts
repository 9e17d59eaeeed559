import type { Backend } from "../backend/port.js";
import { BaselineUnavailable, resolveBaseline } from "../compare/baseline.js";
import { compareOutcomes } from "../compare/diff.js";
import { groupByExample, outcomesOf, type TestOutcome } from "../compare/outcomes.js";
import { compareTests } from "../compare/test-verdicts.js";
import { compareVerdicts } from "../compare/verdicts.js";
import type { ResolvedExperiment } from "../delivery/registry.js";
import type { GateOptions } from "../compare/gates.js";
import { baselineMeans, type ExperimentCompared } from "../report/ci/build-report.js";
import type { TallyReport } from "../report/json-report.js";
import { totalUsage } from "../report/usage.js";

// Each experiment of the run against its baseline. The baseline does not depend on this run's
// results, so it is found and read while the tests run (from the moment the experiment is resolved),
// never on the run's end; the current side comes from what the runner and the scheduler already know.

export interface CompareOptions {
  /** "previous", "approved", "none", or an experiment name or id. */
  baseline: string;
  regressionThreshold: number | Record<string, number>;
  /** Significance level of the noise-aware verdicts (the `alpha` option); default 0.05. */
  alpha?: number;
  /** In CI, "previous" prefers an experiment recorded on this branch (read from git in the background). */
  defaultBranch?: Promise<string | undefined>;
}

interface Prepared {
  baseline: { name: string; id: string; url: string } | null;
  outcomes: TestOutcome[];
  /** The outcomes by example, grouped while the tests run rather than at their end. */
  groups?: Map<string, TestOutcome[]>;
  error?: string;
  unavailable?: string;
}

export class Baselines {
  private readonly prepared = new Map<string, Promise<Prepared>>();

  constructor(
    private readonly backend: Backend,
    private readonly opts: CompareOptions,
  ) {}

  /** Starts finding and reading `exp`'s baseline (once per experiment). */
  prepare(exp: ResolvedExperiment): void {
    if (this.opts.baseline === "none" || this.prepared.has(exp.id)) return;
    const p = this.read(exp);
    // Awaited in compare(); until then a failure must not surface as an unhandled rejection.
    p.catch(() => undefined);
    this.prepared.set(exp.id, p);
  }

  private async read(exp: ResolvedExperiment): Promise<Prepared> {
    try {
      const base = await resolveBaseline(this.backend, {
        datasetId: exp.datasetId,
        datasetName: exp.dataset,
        currentId: exp.id,
        spec: this.opts.baseline,
        defaultBranch: await this.opts.defaultBranch,
      });
      if (!base) return { baseline: null, outcomes: [] };
      const outcomes = outcomesOf(await this.backend.readExperiment(base.id, { rootsOnly: true }));
      const url = this.backend.experimentUrl({ tenantId: exp.tenantId, datasetId: exp.datasetId, id: base.id });
      return { baseline: { name: base.name, id: base.id, url }, outcomes, groups: groupByExample(outcomes) };
    } catch (err) {
      if (err instanceof BaselineUnavailable) return { baseline: null, outcomes: [], unavailable: err.message };
      return { baseline: null, outcomes: [], error: `baseline of "${exp.name}": ${(err as Error).message}` };
    }
  }

  /**
   * `current` (this run's tests of `exp`) against the baseline; `error` for a baseline that could not
   * be found or read, `unavailable` for an approved one the dataset does not have (BaselineUnavailable).
   */
  async compare(exp: ResolvedExperiment, current: TestOutcome[]): Promise<ExperimentCompared & { error?: string; unavailable?: string }> {
    const exampleOf = new Map(current.map((o) => [o.runId, o.exampleId]));
    const none = { name: exp.name, id: exp.id, baseline: null, comparison: null, verdicts: null, exampleOf };
    this.prepare(exp);
    const p = await this.prepared.get(exp.id);
    if (!p) return none;
    if (p.error) return { ...none, error: p.error };
    if (p.unavailable) return { ...none, unavailable: p.unavailable };
    if (!p.baseline) return none;
    const comparison = compareOutcomes(current, p.outcomes, { regressionThreshold: this.opts.regressionThreshold });
    // Seeded with the experiment's name: the same outcomes give the same intervals and verdicts.
    const alpha = this.opts.alpha ?? 0.05;
    const now = groupByExample(current);
    const then = p.groups ?? groupByExample(p.outcomes);
    const verdicts = compareVerdicts(now, then, { alpha, seed: exp.name });
    const tests = compareTests(now, then, alpha);
    const baselineUsage = totalUsage(p.outcomes);
    return {
      ...none,
      baseline: { ...p.baseline, ...baselineMeans(p.outcomes) },
      comparison,
      verdicts,
      tests,
      ...(baselineUsage ? { baselineUsage } : {}),
    };
  }
}

/**
 * What a baseline that could not be had does to the report. One asked for by name that does not
 * exist (or could not be read) fails the run like a gate. An approved one the dataset lacks is a
 * note on the experiment (the terminal and the job summary show it), and fails the run only when a
 * gate needs a comparison to judge (maxRegressions, noSignificantRegression): without one, such a
 * gate would pass on nothing.
 */
export function reportBaselineProblems(
  report: TallyReport,
  compared: ReadonlyArray<{ id: string; error?: string; unavailable?: string }>,
  gates: GateOptions,
): void {
  const needsComparison = gates.maxRegressions !== undefined || !!gates.noSignificantRegression;
  for (const c of compared) {
    if (c.error) report.gates.push({ name: "baseline", ok: false, message: c.error });
    if (!c.unavailable) continue;
    const exp = report.experiments.find((e) => e.id === c.id);
    if (exp) exp.baselineNote = c.unavailable;
    if (needsComparison) report.gates.push({ name: "baseline", ok: false, message: `${c.unavailable} (a gate needs a comparison)` });
  }
}
