import type { DatasetInfo } from "./port.js";

// A dataset as LangSmith's REST API describes it, read into the port's DatasetInfo, and the one rule
// both adapters follow to set keys of its metadata (LangSmith's PATCH replaces `metadata` whole, so
// an adapter reads it, sets the keys and writes it all back).

export interface DatasetShape {
  id: string;
  name: string;
  metadata?: unknown;
}

export function datasetInfo(d: DatasetShape): DatasetInfo {
  const m = d.metadata;
  return { id: d.id, name: d.name, metadata: m && typeof m === "object" && !Array.isArray(m) ? (m as Record<string, unknown>) : {} };
}

/** `metadata` with `set`'s keys set, and those set to null removed. */
export function withMetadataKeys(metadata: Record<string, unknown>, set: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...metadata, ...set };
  for (const [k, v] of Object.entries(set)) if (v === null) delete out[k];
  return out;
}
