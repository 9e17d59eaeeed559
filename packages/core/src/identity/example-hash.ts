import { createHash } from "node:crypto";

// Example ids must stay compatible with the official `langsmith/vitest` integration, so that the
// same inputs and reference outputs land on the same example whichever integration ran them.
// The scheme: uuid5(JSON.stringify({datasetId, inputsHash, outputsHash}), UUID5_NAMESPACE), where
// the hashes are a recursive sha256 over the live JS values with sorted keys. The hashes are taken in
// the worker (on the values the test passed, before any serialisation) and the main process, which
// is the only one that knows the dataset id, finishes the id.
export const EXAMPLE_ID_NAMESPACE = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";

const MAX_DEPTH = 100;

/**
 * Never throws and always ends: a circular reference hashes as "[Circular]" and anything deeper
 * than MAX_DEPTH as "[Truncated]" (the official hash overflows the stack on both).
 */
export function objectHash(value: unknown, depth = 0, ancestors: object[] = []): string {
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");
  if (value && typeof value === "object") {
    if (ancestors.includes(value)) return sha(JSON.stringify("[Circular]"));
    if (depth > MAX_DEPTH) return sha(JSON.stringify("[Truncated]"));
    ancestors.push(value);
    try {
      if (Array.isArray(value)) return sha(value.map((item) => objectHash(item, depth + 1, ancestors)).join(","));
      const rec = value as Record<string, unknown>;
      return sha(
        Object.keys(rec)
          .sort()
          .map((k) => `${k}:${objectHash(rec[k], depth + 1, ancestors)}`)
          .join(","),
      );
    } finally {
      ancestors.pop();
    }
  }
  // null and undefined hash alike; BigInt and symbols cannot be JSON-encoded, so hash their text.
  if (typeof value === "bigint" || typeof value === "symbol") return sha(JSON.stringify(String(value)));
  if (typeof value === "function") return sha(JSON.stringify(`[Function ${value.name}]`));
  return sha(JSON.stringify(value ?? null) ?? "null");
}
