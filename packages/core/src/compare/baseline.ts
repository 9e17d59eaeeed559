import { newestFirst } from "../backend/experiment-info.js";
import type { Backend, ExperimentInfo } from "../backend/port.js";
import { approveCommand, approvedBaselineOf } from "./approved-baseline.js";

// Which experiment a run's experiment is compared with. "previous" finds the newest earlier finished
// one of the same dataset (in CI, preferably one recorded on the default branch, so a pull request is
// judged against main rather than against its own last push); "approved" the one `tally baseline
// approve` chose for the dataset (approved-baseline.ts); a name or id names one; "none" turns the
// comparison off. Written against the Backend port only: LangSmith and the embedded store alike.

export interface BaselineQuery {
  datasetId: string;
  /** For messages; the id is named when absent. */
  datasetName?: string;
  /** This run's experiment: never its own baseline. */
  currentId: string;
  /** "previous" (also when empty), "approved", "none", or an experiment name or id. */
  spec: string;
  /** Prefer, for "previous", an experiment whose `metadata.branch` is this branch. */
  defaultBranch?: string;
}

/**
 * The baseline asked for cannot be had, and it is not this run's doing: the dataset has no approved
 * baseline, or the approved experiment is gone. Said as a problem, not failed on: only a gate that
 * needs a comparison fails for it.
 */
export class BaselineUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BaselineUnavailable";
  }
}

/** ISO times as LangSmith writes them, some without a zone (they are UTC): comparable numbers. */
function timeOf(iso: string | undefined): number {
  if (!iso) return Number.NaN;
  const zoned = /(?:Z|[+-]\d\d:?\d\d)$/i.test(iso) || !iso.includes("T") ? iso : `${iso}Z`;
  return Date.parse(zoned);
}

/**
 * The baseline experiment, or null for none: `"none"`, or `"previous"` when the dataset has no earlier
 * finished experiment (that is no comparison, not an error). A name or id the dataset does not have
 * throws, naming the spec, the dataset and its most recent experiments. `"approved"` without an
 * approved experiment (none approved, or deleted since) throws a BaselineUnavailable.
 */
export async function resolveBaseline(backend: Backend, q: BaselineQuery): Promise<ExperimentInfo | null> {
  const spec = q.spec.trim() || "previous";
  if (spec === "none") return null;
  const listed = [...(await backend.listExperiments(q.datasetId))].sort(newestFirst);
  if (spec === "previous") {
    const current = listed.find((e) => e.id === q.currentId);
    const currentStart = timeOf(current?.startTime);
    const earlier = listed.filter(
      (e) =>
        e.id !== q.currentId &&
        e.endTime !== undefined &&
        // Without the current one's start (not listed yet), every finished experiment is earlier.
        (Number.isNaN(currentStart) || timeOf(e.startTime) < currentStart),
    );
    const onDefault = q.defaultBranch ? earlier.find((e) => e.metadata.branch === q.defaultBranch) : undefined;
    return onDefault ?? earlier[0] ?? null;
  }
  if (spec === "approved") return approvedOf(backend, q, listed);
  const found = listed.find((e) => e.name === spec) ?? listed.find((e) => e.id === spec);
  if (!found) {
    const recent = listed.filter((e) => e.id !== q.currentId).slice(0, 5);
    const known = recent.length > 0 ? `recent experiments: ${recent.map((e) => `"${e.name}"`).join(", ")}` : "it has no other experiments";
    throw new Error(
      `tally: baseline "${spec}" is not an experiment of dataset ${q.datasetName ? `"${q.datasetName}"` : q.datasetId} (${known})`,
    );
  }
  if (found.id === q.currentId) {
    throw new Error(`tally: baseline "${spec}" is this run's own experiment; name an earlier one, or use "previous"`);
  }
  return found;
}

async function approvedOf(backend: Backend, q: BaselineQuery, listed: ExperimentInfo[]): Promise<ExperimentInfo> {
  const [dataset] = await backend.listDatasets({ ids: [q.datasetId] });
  const name = dataset?.name ?? q.datasetName ?? q.datasetId;
  const approval = dataset && approvedBaselineOf(dataset.metadata);
  if (!approval) {
    throw new BaselineUnavailable(`dataset "${name}" has no approved baseline to compare with; approve one with: ${approveCommand(name)}`);
  }
  const which = `the approved baseline of dataset "${name}", "${approval.name}"${approval.approvedAt ? ` (approved ${approval.approvedAt.slice(0, 10)})` : ""},`;
  const found = listed.find((e) => e.id === approval.id);
  if (!found) {
    throw new BaselineUnavailable(`${which} no longer exists (deleted?); approve another with: ${approveCommand(name)}`);
  }
  if (found.id === q.currentId) throw new BaselineUnavailable(`${which} is this run's own experiment`);
  return found;
}
