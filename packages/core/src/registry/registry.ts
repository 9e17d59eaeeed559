import type { Upstream } from "../upstream/http.js";
import { UpstreamError } from "../upstream/http.js";
import { experimentUrl } from "./web-url.js";

export interface ResolvedExperiment {
  dataset: string;
  datasetId: string;
  name: string;
  id: string;
  tenantId: string;
  url: string;
  startTime: string;
}

interface DatasetRow {
  id: string;
  name: string;
}
interface SessionRow {
  id: string;
  name: string;
  tenant_id?: string;
  start_time?: string;
}

export interface RegistryOptions {
  upstream: Upstream;
  webUrl: string;
  /** Metadata stamped on every experiment this run creates. */
  metadata: Record<string, unknown>;
  description?: string;
  /** How long to keep retrying a slow or failing backend before giving up on this attempt. */
  retryForMs: number;
}

// One experiment per dataset per run. Resolution happens once per dataset in the main process and
// is get-or-create on both levels, so parallel files, shards on other machines and a later
// `tally flush` all converge on the same dataset and experiment without a race.
export class ExperimentRegistry {
  private readonly pending = new Map<string, Promise<ResolvedExperiment>>();
  private readonly resolved = new Map<string, ResolvedExperiment>();

  constructor(private readonly opts: RegistryOptions) {}

  /** The experiment of `dataset` if already resolved, without waiting. */
  peek(dataset: string): ResolvedExperiment | undefined {
    return this.resolved.get(dataset);
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
    const { upstream } = this.opts;
    const deadline = Date.now() + this.opts.retryForMs;
    const ds = await this.getOrCreateDataset(dataset, deadline);
    const body = {
      id: experiment.id,
      name: experiment.name,
      description: this.opts.description ?? `Tally run of dataset "${dataset}"`,
      reference_dataset_id: ds.id,
      extra: { metadata: this.opts.metadata },
      start_time: new Date().toISOString(),
    };
    let session: SessionRow;
    try {
      // upsert: a shard that comes second gets the experiment the first one made.
      session = await upstream.jsonRetrying<SessionRow>("POST", "/sessions?upsert=true", body, deadline);
    } catch (err) {
      if (!(err instanceof UpstreamError) || err.status !== 409) throw err;
      const found = await upstream.jsonRetrying<SessionRow[]>(
        "GET",
        `/sessions?name=${encodeURIComponent(experiment.name)}&limit=1`,
        undefined,
        deadline,
      );
      if (!found[0]) throw err;
      session = found[0];
    }
    const tenantId = session.tenant_id ?? (await this.tenantId(deadline));
    return {
      dataset,
      datasetId: ds.id,
      name: session.name,
      id: session.id,
      tenantId,
      url: experimentUrl(this.opts.webUrl, tenantId, ds.id, session.id),
      startTime: session.start_time ?? body.start_time,
    };
  }

  private async getOrCreateDataset(name: string, deadline: number): Promise<DatasetRow> {
    const { upstream } = this.opts;
    const find = async () =>
      (
        await upstream.jsonRetrying<DatasetRow[]>(
          "GET",
          `/datasets?name=${encodeURIComponent(name)}&limit=1`,
          undefined,
          deadline,
        )
      ).find((d) => d.name === name);
    const existing = await find();
    if (existing) return existing;
    try {
      return await upstream.jsonRetrying<DatasetRow>(
        "POST",
        "/datasets",
        { name, description: `Dataset for tests, created by Tally`, extra: { source: "sdk", metadata: { __ls_runner: "tally" } } },
        deadline,
      );
    } catch (err) {
      // Somebody else (a shard, another tool) created it between our read and our write.
      if (err instanceof UpstreamError && err.status === 409) {
        const again = await find();
        if (again) return again;
      }
      throw err;
    }
  }

  private async tenantId(deadline: number): Promise<string> {
    const rows = await this.opts.upstream.jsonRetrying<SessionRow[]>("GET", "/sessions?limit=1&offset=0", undefined, deadline);
    return rows[0]?.tenant_id ?? "-";
  }
}
