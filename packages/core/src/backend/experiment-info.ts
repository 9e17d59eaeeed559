import type { ExperimentInfo } from "./port.js";

// An experiment as LangSmith's REST API describes it (a session with a reference dataset), read into
// the port's ExperimentInfo. Both adapters read sessions of this shape: the REST one from JSON, the
// local one from its store.

export interface SessionShape {
  id: string;
  name: string;
  reference_dataset_id?: string | null;
  start_time?: string | null;
  end_time?: string | null;
  extra?: { metadata?: unknown } | null;
}

export function experimentInfo(s: SessionShape): ExperimentInfo {
  const metadata = s.extra?.metadata;
  return {
    id: s.id,
    name: s.name,
    datasetId: s.reference_dataset_id ?? "",
    startTime: s.start_time ?? "",
    ...(s.end_time ? { endTime: s.end_time } : {}),
    metadata: metadata && typeof metadata === "object" && !Array.isArray(metadata) ? (metadata as Record<string, unknown>) : {},
  };
}

/** Newest start first, as the port's `listExperiments` answers (ISO times compare as strings). */
export function newestFirst(a: ExperimentInfo, b: ExperimentInfo): number {
  return a.startTime < b.startTime ? 1 : a.startTime > b.startTime ? -1 : 0;
}
