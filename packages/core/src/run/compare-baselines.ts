import type { Backend } from "../backend/port.js";
import { resolveBaseline } from "../compare/baseline.js";
import { compareOutcomes } from "../compare/diff.js";
import { outcomesOf, type TestOutcome } from "../compare/outcomes.js";
import { compareVerdicts } from "../compare/verdicts.js";
import type { ResolvedExperiment } from "../delivery/registry.js";
import { baselineMeans, type ExperimentCompared } from "../report/ci/build-report.js";

// Each experiment of the run against its baseline. The baseline does not depend on this run's
// results, so it is found and read while the tests run (from the moment the experiment is resolved),
// never on the run's end; the current side comes from what the runner and the scheduler already know.

export interface CompareOptions {
  /** "previous", "none", or an experiment name or id. */
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
  error?: string;
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
        currentId: exp.id,
        spec: this.opts.baseline,
        defaultBranch: await this.opts.defaultBranch,
      });
      if (!base) return { baseline: null, outcomes: [] };
      const outcomes = outcomesOf(await this.backend.readExperiment(base.id, { rootsOnly: true }));
      const url = this.backend.experimentUrl({ tenantId: exp.tenantId, datasetId: exp.datasetId, id: base.id });
      return { baseline: { name: base.name, id: base.id, url }, outcomes };
    } catch (err) {
      return { baseline: null, outcomes: [], error: `baseline of "${exp.name}": ${(err as Error).message}` };
    }
  }

  /** `current` (this run's tests of `exp`) against the baseline; `error` for a baseline that could not be found or read. */
  async compare(exp: ResolvedExperiment, current: TestOutcome[]): Promise<ExperimentCompared & { error?: string }> {
    const exampleOf = new Map(current.map((o) => [o.runId, o.exampleId]));
    const none = { name: exp.name, id: exp.id, baseline: null, comparison: null, verdicts: null, exampleOf };
    this.prepare(exp);
    const p = await this.prepared.get(exp.id);
    if (!p) return none;
    if (p.error) return { ...none, error: p.error };
    if (!p.baseline) return none;
    const comparison = compareOutcomes(current, p.outcomes, { regressionThreshold: this.opts.regressionThreshold });
    // Seeded with the experiment's name: the same outcomes give the same intervals and verdicts.
    const verdicts = compareVerdicts(current, p.outcomes, { alpha: this.opts.alpha ?? 0.05, seed: exp.name });
    return { ...none, baseline: { ...p.baseline, ...baselineMeans(p.outcomes) }, comparison, verdicts };
  }
}
