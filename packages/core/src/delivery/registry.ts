import { type Backend, BackendError } from "../backend/port.js";
import { backoffMs, sleep } from "./backoff.js";

export interface ResolvedExperiment {
  dataset: string;
  datasetId: string;
  name: string;
  id: string;
  tenantId: string;
  url: string;
  startTime: string;
}

export interface RegistryOptions {
  backend: Backend;
  /** Metadata stamped on every experiment this run creates. */
  metadata: Record<string, unknown>;
  description?: string;
  /** How long to keep retrying a slow or failing backend before giving up on this attempt. */
  retryForMs: number;
  /** Called once per dataset when its experiment is resolved (work that can start then, e.g. baselines). */
  onResolved?: (exp: ResolvedExperiment) => void;
}

// One experiment per dataset per run. Resolution happens once per dataset in the main process and
// is get-or-create on both levels, so parallel files, shards on other machines and a later
// `tally flush` all converge on the same dataset and experiment without a race.
export class ExperimentRegistry {
  private readonly pending = new Map<string, Promise<ResolvedExperiment>>();
  private readonly resolved = new Map<string, ResolvedExperiment>();
  private readonly datasetsPending = new Map<string, Promise<string>>();
  private readonly datasetIds = new Map<string, string>();

  constructor(private readonly opts: RegistryOptions) {}

  /** The experiment of `dataset` if already resolved, without waiting. */
  peek(dataset: string): ResolvedExperiment | undefined {
    return this.resolved.get(dataset);
  }

  /**
   * The dataset's id once known, which is before its experiment is: examples need only the
   * dataset, so they go upstream while the experiment is being created (one round trip less).
   */
  peekDataset(dataset: string): string | undefined {
    return this.datasetIds.get(dataset);
  }

  /** The dataset's id, got or created (once; a failed attempt is forgotten so the next one retries). */
  datasetId(dataset: string): Promise<string> {
    let p = this.datasetsPending.get(dataset);
    if (!p) {
      const deadline = Date.now() + this.opts.retryForMs;
      p = retrying(() => this.opts.backend.ensureDataset(dataset), deadline).then(
        (ds) => {
          this.datasetIds.set(dataset, ds.id);
          return ds.id;
        },
        (err: unknown) => {
          this.datasetsPending.delete(dataset);
          throw err;
        },
      );
      this.datasetsPending.set(dataset, p);
    }
    return p;
  }

  all(): ResolvedExperiment[] {
    return [...this.resolved.values()];
  }

  ensure(dataset: string, experiment: { name: string; id: string }): Promise<ResolvedExperiment> {
    let p = this.pending.get(dataset);
    if (!p) {
      p = this.resolve(dataset, experiment).then(
        (r) => {
          this.resolved.set(dataset, r);
          this.opts.onResolved?.(r);
          return r;
        },
        (err: unknown) => {
          // Forget the failed attempt so the next record for this dataset tries again.
          this.pending.delete(dataset);
          throw err;
        },
      );
      this.pending.set(dataset, p);
    }
    return p;
  }

  private async resolve(dataset: string, experiment: { name: string; id: string }): Promise<ResolvedExperiment> {
    const { backend } = this.opts;
    const datasetId = await this.datasetId(dataset);
    const deadline = Date.now() + this.opts.retryForMs;
    const exp = await retrying(
      () =>
        backend.openExperiment({
          id: experiment.id,
          name: experiment.name,
          datasetId,
          description: this.opts.description ?? `Tally run of dataset "${dataset}"`,
          metadata: this.opts.metadata,
          startTime: new Date().toISOString(),
        }),
      deadline,
    );
    return { dataset, ...exp, url: backend.experimentUrl(exp) };
  }
}

/**
 * `call`, tried again with backoff (honouring Retry-After) while the backend answers with a transient
 * error, until `deadline`. A backend that does not answer at all is the caller's to retry (its
 * circuit decides when), so that its failures are counted there.
 */
async function retrying<T>(call: () => Promise<T>, deadline: number): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof BackendError) || !err.retryable || err.status === undefined) throw err;
      const wait = backoffMs(attempt, err.retryAfterMs);
      if (Date.now() + wait > deadline) throw err;
      await sleep(wait);
    }
  }
}
