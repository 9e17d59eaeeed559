/** A JSON object: not null, not an array. The one check every parser and page here starts from. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
