import { newestFirst } from "../backend/experiment-info.js";
import type { Backend, DatasetInfo, ExperimentInfo } from "../backend/port.js";

// A dataset's approved baseline: the experiment a person chose (`tally baseline approve`) for runs
// with `baseline: "approved"` to be judged against. It lives on the dataset's metadata, not on the
// experiment: a run looks in one place (its dataset) instead of through every experiment, and a
// second approval replaces the first by writing one key, leaving the old experiment untouched (no
// two experiments can both claim to be approved, and nothing needs un-marking). On LangSmith that
// is PATCH /datasets/:id; the embedded store answers the same. Written against the Backend port only.

/** The dataset metadata key; its value is an ApprovedBaseline. */
export const APPROVED_BASELINE_KEY = "tally_approved_baseline";

export interface ApprovedBaseline {
  /** The experiment's id and its name when approved (the name is for messages). */
  id: string;
  name: string;
  /** ISO time of the approval. */
  approvedAt: string;
  /** Who approved it (GITHUB_ACTOR or USER), when known. */
  by?: string;
}

/** The approval recorded in a dataset's metadata, or undefined when there is none (or it is not one). */
export function approvedBaselineOf(metadata: Record<string, unknown>): ApprovedBaseline | undefined {
  const v = metadata[APPROVED_BASELINE_KEY] as Partial<ApprovedBaseline> | null | undefined;
  if (!v || typeof v !== "object" || typeof v.id !== "string" || v.id === "") return undefined;
  return {
    id: v.id,
    name: typeof v.name === "string" ? v.name : v.id,
    approvedAt: typeof v.approvedAt === "string" ? v.approvedAt : "",
    ...(typeof v.by === "string" && v.by ? { by: v.by } : {}),
  };
}

/** The command that approves one, for messages. */
export function approveCommand(dataset: string): string {
  return `tally baseline approve <experiment> --dataset ${JSON.stringify(dataset)}`;
}

/**
 * The experiment `spec` (a name or an id) names, to be approved: of the dataset named `datasetName`
 * when given, else of whichever dataset has it; one of several datasets' asks for the dataset. An
 * experiment that never finished is refused (a run still going, or one that died, judges nothing).
 */
export async function findExperimentToApprove(backend: Backend, spec: string, datasetName?: string): Promise<ExperimentInfo> {
  let candidates: ExperimentInfo[];
  if (datasetName !== undefined) {
    const ds = await datasetNamed(backend, datasetName);
    const listed = [...(await backend.listExperiments(ds.id))].sort(newestFirst);
    const found = listed.find((e) => e.name === spec) ?? listed.find((e) => e.id === spec);
    if (!found) {
      const recent = listed.slice(0, 5).map((e) => `"${e.name}"`);
      const known = recent.length > 0 ? `recent experiments: ${recent.join(", ")}` : "it has no experiments";
      throw new Error(`"${spec}" is not an experiment of dataset "${ds.name}" (${known})`);
    }
    candidates = [found];
  } else {
    candidates = await backend.findExperiments(spec);
    if (candidates.length === 0) throw new Error(`no experiment is named "${spec}" or has that id`);
    const datasets = [...new Set(candidates.map((e) => e.datasetId))];
    if (datasets.length > 1) {
      const names = await Promise.all(datasets.map(async (id) => (await backend.listDatasets({ ids: [id] }))[0]?.name ?? id));
      throw new Error(
        `"${spec}" names experiments of ${datasets.length} datasets (${names.map((n) => `"${n}"`).join(", ")}): say which with --dataset`,
      );
    }
  }
  const exp = candidates[0]!;
  if (!exp.endTime) {
    throw new Error(`experiment "${exp.name}" has not finished (no end time): approve it once its run has ended`);
  }
  return exp;
}

async function datasetNamed(backend: Backend, name: string): Promise<DatasetInfo> {
  const ds = (await backend.listDatasets({ name })).find((d) => d.name === name);
  if (!ds) throw new Error(`there is no dataset named "${name}"`);
  return ds;
}

export interface Approved {
  dataset: DatasetInfo;
  approval: ApprovedBaseline;
  /** The approval this one replaced, if any. */
  replaced?: ApprovedBaseline;
}

/** Records `exp` as its dataset's approved baseline, replacing any earlier approval. */
export async function approveBaseline(backend: Backend, exp: ExperimentInfo, opts: { by?: string; now?: Date } = {}): Promise<Approved> {
  const [before] = await backend.listDatasets({ ids: [exp.datasetId] });
  if (!before) throw new Error(`experiment "${exp.name}" belongs to dataset ${exp.datasetId}, which no longer exists`);
  const approval: ApprovedBaseline = {
    id: exp.id,
    name: exp.name,
    approvedAt: (opts.now ?? new Date()).toISOString(),
    ...(opts.by ? { by: opts.by } : {}),
  };
  const replaced = approvedBaselineOf(before.metadata);
  const dataset = await backend.updateDatasetMetadata(exp.datasetId, { [APPROVED_BASELINE_KEY]: approval });
  return { dataset, approval, ...(replaced && replaced.id !== exp.id ? { replaced } : {}) };
}

/** Each dataset's approved baseline (only `datasetName`'s when given), datasets by name. */
export async function approvedBaselines(
  backend: Backend,
  datasetName?: string,
): Promise<Array<{ dataset: DatasetInfo; approval: ApprovedBaseline | undefined }>> {
  const datasets = datasetName !== undefined ? [await datasetNamed(backend, datasetName)] : await backend.listDatasets();
  return datasets
    .map((dataset) => ({ dataset, approval: approvedBaselineOf(dataset.metadata) }))
    .sort((a, b) => a.dataset.name.localeCompare(b.dataset.name));
}
