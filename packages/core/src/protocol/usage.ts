import type { ModelUsage } from "./tracked-test.js";

// Token usage per model, summed the same way wherever it is: a test's spans in the worker, an
// experiment's tests in the report, a baseline's runs read back from the backend.

/** `into` with `more` added, model by model (a saved count only where there is one); returns `into`. */
export function addUsage(into: ModelUsage, more: ModelUsage): ModelUsage {
  for (const [model, t] of Object.entries(more)) {
    const u = (into[model] ??= { input: 0, output: 0 });
    u.input += t.input;
    u.output += t.output;
    if (t.savedInput) u.savedInput = (u.savedInput ?? 0) + t.savedInput;
    if (t.savedOutput) u.savedOutput = (u.savedOutput ?? 0) + t.savedOutput;
  }
  return into;
}

const count = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) && v > 0 ? v : 0);

/**
 * Usage as a run's `tally_usage` metadata carries it (read back from a backend: anything may be
 * there), or undefined when it is not one: models with non-negative finite counts only.
 */
export function usageOf(value: unknown): ModelUsage | undefined {
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  const out: ModelUsage = {};
  for (const [model, t] of Object.entries(value as Record<string, unknown>)) {
    if (!t || typeof t !== "object") continue;
    const r = t as Record<string, unknown>;
    const u = { input: count(r.input), output: count(r.output) };
    out[model] = {
      ...u,
      ...(count(r.savedInput) ? { savedInput: count(r.savedInput) } : {}),
      ...(count(r.savedOutput) ? { savedOutput: count(r.savedOutput) } : {}),
    };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
