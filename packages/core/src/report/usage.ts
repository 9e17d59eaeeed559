import type { ModelUsage } from "../protocol/tracked-test.js";
import { addUsage } from "../protocol/usage.js";
import type { ReportCost, ReportExperiment, ReportModelUsage, ReportTokens } from "./json-report.js";

// Tokens and cost in the report: each test's tokens per model as its worker counted them (worker/usage.ts),
// summed per experiment and priced with the `prices` option (USD per million tokens). A model without a
// price makes the cost unknown (null, with the model named), never 0. Tokens the model-call cache
// answered count as saved, not spent. Absent (not zero) where no test reported any tokens.

/** USD per million tokens, per model name (the `prices` option, resolved). */
export type Prices = Readonly<Record<string, { input: number; output: number }>>;

/** The sum of the items' usage; undefined when none has any. */
export function totalUsage(items: Iterable<{ usage?: ModelUsage }>): ModelUsage | undefined {
  let total: ModelUsage | undefined;
  for (const i of items) if (i.usage) total = addUsage(total ?? {}, i.usage);
  return total;
}

const saved = (u: ModelUsage[string]) => (u.savedInput ?? 0) + (u.savedOutput ?? 0);

export function tokensOf(usage: ModelUsage): ReportTokens {
  const t: ReportTokens = { input: 0, output: 0, total: 0, saved: 0 };
  for (const u of Object.values(usage)) {
    t.input += u.input;
    t.output += u.output;
    t.saved += saved(u);
  }
  t.total = t.input + t.output;
  return t;
}

/** Cents' fractions down to 1e-10 USD: no float dust (0.30000000000000004) in the report. */
const usd = (v: number) => Math.round(v * 1e10) / 1e10;

/**
 * What the usage cost, and what the cache saved, at these prices: null where a model that spent (or
 * saved) tokens has no price, and those models named.
 */
export function costOf(usage: ModelUsage, prices: Prices): ReportCost {
  let spent: number | null = 0;
  let kept: number | null = 0;
  const unknown: string[] = [];
  for (const [model, u] of Object.entries(usage)) {
    const price = Object.hasOwn(prices, model) ? prices[model] : undefined;
    const spends = u.input + u.output > 0;
    const saves = saved(u) > 0;
    if (!price) {
      if (spends) spent = null;
      if (saves) kept = null;
      if (spends || saves) unknown.push(model);
      continue;
    }
    if (spent !== null) spent += (u.input * price.input + u.output * price.output) / 1e6;
    if (kept !== null) kept += ((u.savedInput ?? 0) * price.input + (u.savedOutput ?? 0) * price.output) / 1e6;
  }
  return { usd: spent === null ? null : usd(spent), savedUsd: kept === null ? null : usd(kept), unknownModels: unknown.sort() };
}

/** Per model: its tokens and what they cost (null without a price). */
export function modelsOf(usage: ModelUsage, prices: Prices): Record<string, ReportModelUsage> {
  const out: Record<string, ReportModelUsage> = {};
  for (const model of Object.keys(usage).sort()) {
    const one = { [model]: usage[model]! };
    out[model] = { ...tokensOf(one), costUsd: costOf(one, prices).usd };
  }
  return out;
}

/** A test's `tokens` and `costUsd` in the report; nothing when it reported no tokens. */
export function testUsageFields(usage: ModelUsage | undefined, prices: Prices): { tokens?: ReportTokens; costUsd?: number | null } {
  if (!usage) return {};
  return { tokens: tokensOf(usage), costUsd: costOf(usage, prices).usd };
}

/** An experiment's `tokens`, `cost` and `models`; nothing when none of its tests reported tokens. */
export function experimentUsageFields(usage: ModelUsage | undefined, prices: Prices): Pick<ReportExperiment, "tokens" | "cost" | "models"> {
  if (!usage) return {};
  return { tokens: tokensOf(usage), cost: costOf(usage, prices), models: modelsOf(usage, prices) };
}

/** The baseline's tokens and cost (at this run's prices), from its runs' `tally_usage`; nothing when none has it. */
export function baselineUsageFields(usage: ModelUsage | undefined, prices: Prices): { tokens?: ReportTokens; costUsd?: number | null } {
  return testUsageFields(usage, prices);
}

const addNullable = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || b === null ? null : usd((a ?? 0) + (b ?? 0));

/**
 * Several reports' experiment usage as one (the shards of a run: they never share a test, so their
 * sums add up): tokens and costs added, a cost unknown in any part unknown in the whole.
 */
export function mergeUsageFields(
  parts: ReadonlyArray<Pick<ReportExperiment, "tokens" | "cost" | "models">>,
): Pick<ReportExperiment, "tokens" | "cost" | "models"> {
  const withTokens = parts.filter((p) => p.tokens);
  if (withTokens.length === 0) return {};
  const tokens: ReportTokens = { input: 0, output: 0, total: 0, saved: 0 };
  let cost: ReportCost = { usd: 0, savedUsd: 0, unknownModels: [] };
  const models: Record<string, ReportModelUsage> = {};
  for (const p of withTokens) {
    for (const k of ["input", "output", "total", "saved"] as const) tokens[k] += p.tokens![k];
    const c = p.cost ?? { usd: null, savedUsd: null, unknownModels: [] };
    cost = {
      usd: addNullable(cost.usd, c.usd),
      savedUsd: addNullable(cost.savedUsd, c.savedUsd),
      unknownModels: [...new Set([...cost.unknownModels, ...c.unknownModels])].sort(),
    };
    for (const [model, m] of Object.entries(p.models ?? {})) {
      const into = models[model];
      models[model] = into
        ? {
            input: into.input + m.input,
            output: into.output + m.output,
            total: into.total + m.total,
            saved: into.saved + m.saved,
            costUsd: addNullable(into.costUsd, m.costUsd),
          }
        : { ...m };
    }
  }
  return { tokens, cost, models };
}

// ---- as people read it ------------------------------------------------------------------------------

const int = (n: number) => Math.round(n).toLocaleString("en-US");

/** `$0.0412`, `$12.34`, `$0`; a cost too small for 4 decimals with two significant digits. */
export function fmtUsd(v: number): string {
  const a = Math.abs(v);
  const s = a === 0 ? "0" : a >= 1 ? a.toFixed(2) : a >= 0.0001 ? a.toFixed(4) : a.toPrecision(2);
  return `${v < 0 ? "−" : ""}$${s}`;
}

const signedInt = (n: number) => (n > 0 ? `+${int(n)}` : n < 0 ? `−${int(-n)}` : "±0");
const signedUsd = (v: number) => (v > 0 ? `+${fmtUsd(v)}` : v < 0 ? fmtUsd(v) : "±$0");

/** `no price for "gpt-x", "claude-y"` */
export function unpriced(models: readonly string[]): string {
  return `no price for ${models.map((m) => JSON.stringify(m)).join(", ")}`;
}

/**
 * `tokens 12,340 (in 10,000 · out 2,340) · cost $0.0412 · Δ +1,200 tokens, +$0.0030 vs baseline ·
 * saved 4,000 tokens by the cache ($0.0100)`; undefined when the experiment's tests reported no tokens.
 */
export function usageSentence(exp: Pick<ReportExperiment, "tokens" | "cost" | "baseline">): string | undefined {
  const t = exp.tokens;
  if (!t) return undefined;
  const cost = exp.cost;
  const parts = [`tokens ${int(t.total)} (in ${int(t.input)} · out ${int(t.output)})`];
  if (cost) parts.push(cost.usd === null ? `cost unknown (${unpriced(cost.unknownModels)})` : `cost ${fmtUsd(cost.usd)}`);
  const base = exp.baseline;
  if (base?.tokens) {
    const dCost = cost && cost.usd !== null && typeof base.costUsd === "number" ? `, ${signedUsd(usd(cost.usd - base.costUsd))}` : "";
    parts.push(`Δ ${signedInt(t.total - base.tokens.total)} tokens${dCost} vs baseline`);
  }
  if (t.saved > 0) {
    const worth = cost?.savedUsd ? ` (${fmtUsd(cost.savedUsd)})` : "";
    parts.push(`saved ${int(t.saved)} tokens by the cache${worth}`);
  }
  return parts.join(" · ");
}
