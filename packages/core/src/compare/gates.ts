// Pure: the conditions a run must meet (the `gates` option), checked when the option is read so a
// misspelt gate fails at once instead of never failing, and judged per experiment after delivery.
import { isRecord } from "../wire/json-object.js";

/**
 * A least value, judged on the mean (the default) or on the lower bound of its 95 % interval: with
 * `on: "lower"`, a pass rate of 0.85 whose interval is [0.74, 0.92] does not meet `{ min: 0.8 }`.
 */
export interface GateBound {
  min: number;
  on?: "mean" | "lower";
}

export interface GateOptions {
  /** The least share of an experiment's tests that must pass, 0 to 1 (a number, or a GateBound). */
  passRate?: number | GateBound;
  /** The least mean per feedback key (a number, or a GateBound). */
  scores?: Record<string, number | GateBound>;
  /** The most regressions against the baseline. */
  maxRegressions?: number;
  /** Every run the tests recorded reached the backend. */
  allDelivered?: boolean;
  /** No measure (the pass rate or a feedback key) significantly worse than the baseline's: no "regressed" verdict. */
  noSignificantRegression?: boolean;
  /** The most an experiment's model calls may cost, in USD (at the `prices` option's prices; unknown fails). */
  maxCostUsd?: number;
  /** The most tokens (input and output) an experiment's model calls may spend. */
  maxTokens?: number;
}

/** What the noSignificantRegression gate reads of a measure's comparison with the baseline. */
export interface GatedMeasure {
  delta: number;
  ci: readonly [number, number];
  p: number;
  verdict: "regressed" | "improved" | "unchanged";
  method: string;
}

export interface GateResult {
  /** "passRate", "scores.<key>", "maxRegressions", "allDelivered" or "noSignificantRegression". */
  name: string;
  ok: boolean;
  /** One line, naming the experiment: `mean quality 0.925 < 0.95 (ci-suite:ci-head)`. */
  message: string;
}

/** What the gates judge of one experiment. */
export interface GatedExperiment {
  name: string;
  passRate: number;
  /** The pass rate's 95 % interval, for a gate `on: "lower"`. */
  passRateCi?: readonly [number, number] | null;
  /** Tests that never ran (counted as failed in `passRate`): the gate's message says so. */
  neverRun?: number;
  scores: Record<string, { mean: number; count: number; ci?: readonly [number, number] | null }>;
  regressions: number;
  delivered: { runs: number; expected: number };
  /** The noise-aware comparison with the baseline; null or absent without one (or in a merge of shards). */
  comparison?: { passRate: GatedMeasure | null; scores: Readonly<Record<string, GatedMeasure>> } | null;
  /** Tokens spent (input and output); absent when no test reported any. */
  tokens?: number;
  /** What they cost: `usd` null when a model has no price (named in `unknownModels`); absent with no tokens. */
  cost?: { usd: number | null; unknownModels: readonly string[] };
}

// Every gate of GateOptions, once: the compiler fails when one is added there and not here.
const GATE_NAMES: Record<keyof GateOptions, true> = {
  passRate: true,
  scores: true,
  maxRegressions: true,
  allDelivered: true,
  noSignificantRegression: true,
  maxCostUsd: true,
  maxTokens: true,
};
const KNOWN = Object.keys(GATE_NAMES);

const shown = (v: unknown) => (typeof v === "string" ? `"${v}"` : (JSON.stringify(v) ?? String(v)));
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** The gates as given (undefined or null for none), or an Error that names what is wrong. */
export function validateGates(value: unknown): GateOptions {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new Error(`tally: gates must be an object like { passRate: 0.9 }, got ${shown(value)}`);
  for (const key of Object.keys(value)) {
    if (!KNOWN.includes(key)) throw new Error(`tally: unknown gate "${key}" (known: ${KNOWN.join(", ")})`);
  }
  const out: GateOptions = {};
  const { passRate, scores, maxRegressions, allDelivered, noSignificantRegression, maxCostUsd, maxTokens } = value;
  if (passRate !== undefined) {
    const b = boundOf(passRate, "passRate", "a number from 0 to 1");
    if (b.min < 0 || b.min > 1) throw new Error(`tally: gate "passRate" must be a number from 0 to 1, got ${shown(passRate)}`);
    out.passRate = passRate as number | GateBound;
  }
  if (scores !== undefined) {
    if (!isRecord(scores)) throw new Error(`tally: gate "scores" must be an object of least means per feedback key, got ${shown(scores)}`);
    const checked: Record<string, number | GateBound> = {};
    for (const [key, min] of Object.entries(scores)) {
      boundOf(min, `scores.${key}`, "a number (the least mean)");
      checked[key] = min as number | GateBound;
    }
    out.scores = checked;
  }
  if (maxRegressions !== undefined) {
    if (!isNumber(maxRegressions) || !Number.isInteger(maxRegressions) || maxRegressions < 0) {
      throw new Error(`tally: gate "maxRegressions" must be a whole number ≥ 0, got ${shown(maxRegressions)}`);
    }
    out.maxRegressions = maxRegressions;
  }
  if (allDelivered !== undefined) {
    if (typeof allDelivered !== "boolean") throw new Error(`tally: gate "allDelivered" must be true or false, got ${shown(allDelivered)}`);
    out.allDelivered = allDelivered;
  }
  if (noSignificantRegression !== undefined) {
    if (typeof noSignificantRegression !== "boolean") {
      throw new Error(`tally: gate "noSignificantRegression" must be true or false, got ${shown(noSignificantRegression)}`);
    }
    out.noSignificantRegression = noSignificantRegression;
  }
  if (maxCostUsd !== undefined) {
    if (!isNumber(maxCostUsd) || maxCostUsd < 0)
      throw new Error(`tally: gate "maxCostUsd" must be a number of USD ≥ 0, got ${shown(maxCostUsd)}`);
    out.maxCostUsd = maxCostUsd;
  }
  if (maxTokens !== undefined) {
    if (!isNumber(maxTokens) || !Number.isInteger(maxTokens) || maxTokens < 0) {
      throw new Error(`tally: gate "maxTokens" must be a whole number ≥ 0, got ${shown(maxTokens)}`);
    }
    out.maxTokens = maxTokens;
  }
  return out;
}

/** A gate's least value and what it is judged on; throws naming the gate when it is neither form. */
function boundOf(value: unknown, gate: string, what: string): Required<GateBound> {
  if (isNumber(value)) return { min: value, on: "mean" };
  const on = isRecord(value) ? value.on : undefined;
  if (
    isRecord(value) &&
    isNumber(value.min) &&
    (on === undefined || on === "mean" || on === "lower") &&
    Object.keys(value).every((k) => k === "min" || k === "on")
  ) {
    return { min: value.min, on: on ?? "mean" };
  }
  throw new Error(`tally: gate "${gate}" must be ${what} or { min, on: "mean" | "lower" }, got ${shown(value)}`);
}

/** Up to `digits` decimals, trailing zeros dropped. */
function fixed(v: number, digits: number): string {
  return v
    .toFixed(digits)
    .replace(/(\.\d*?)0+$/, "$1")
    .replace(/\.$/, "");
}

/**
 * A value and its bound, printed so that they differ when they do: 0.9499 against 0.95 is not shown
 * as `0.95 < 0.95`. `pad` keeps that many decimals (pass rates read as 0.80).
 */
function pair(value: number, bound: number, digits: number, pad = 0): [string, string] {
  const fmt = (v: number, d: number) => (pad > 0 ? v.toFixed(Math.max(pad, d)) : fixed(v, d));
  let d = digits;
  while (d < 12 && value !== bound && fmt(value, d) === fmt(bound, d)) d++;
  return [fmt(value, d), fmt(bound, d)];
}

/** A change with its sign, the minus a real one: `−0.12`, `+0.05`. */
function signedFixed(v: number, digits: number): string {
  const s = fixed(Math.abs(v), digits);
  return s === "0" ? "0" : v < 0 ? `−${s}` : `+${s}`;
}

/** A p-value as a person reads it: three decimals, `< 0.001` below. */
function pValue(p: number): string {
  return p < 0.001 ? "< 0.001" : fixed(p, 3);
}

/** The measures of a comparison whose verdict is "regressed", pass rate first, then keys in order. */
function regressedMeasures(c: GatedExperiment["comparison"]): Array<[name: string, m: GatedMeasure]> {
  if (!c) return [];
  const all: Array<[string, GatedMeasure]> = c.passRate ? [["pass rate", c.passRate]] : [];
  for (const key of Object.keys(c.scores).sort()) all.push([key, c.scores[key]!]);
  return all.filter(([, m]) => m.verdict === "regressed");
}

export function judgeGates(gates: GateOptions, experiments: readonly GatedExperiment[]): GateResult[] {
  const out: GateResult[] = [];
  for (const exp of experiments) {
    const where = `(${exp.name})`;
    if (gates.passRate !== undefined) {
      const { min, on } = boundOf(gates.passRate, "passRate", "");
      const lower = exp.passRateCi?.[0];
      if (on === "lower" && lower === undefined) {
        out.push({
          name: "passRate",
          ok: false,
          message: `pass rate: no interval to judge its lower bound, need ≥ ${fixed(min, 2)} ${where}`,
        });
      } else {
        const value = on === "lower" ? lower! : exp.passRate;
        const ok = value >= min;
        const [v, b] = pair(value, min, 2, 2);
        const what = on === "lower" ? `pass rate ${fixed(exp.passRate, 2)}, lower bound` : "pass rate";
        const never = exp.neverRun ? ` (${exp.neverRun} never ran, counted as failed)` : "";
        out.push({ name: "passRate", ok, message: `${what} ${v} ${ok ? "≥" : "<"} ${b}${never} ${where}` });
      }
    }
    for (const key of Object.keys(gates.scores ?? {}).sort()) {
      const { min, on } = boundOf(gates.scores![key]!, `scores.${key}`, "");
      const s = exp.scores[key];
      if (!s || s.count === 0) {
        // A gate on a key nothing scored fails: a misspelt key must not pass in silence.
        out.push({ name: `scores.${key}`, ok: false, message: `mean ${key}: no scores recorded, need ≥ ${fixed(min, 3)} ${where}` });
        continue;
      }
      const lower = s.ci?.[0];
      if (on === "lower" && lower === undefined) {
        out.push({
          name: `scores.${key}`,
          ok: false,
          message: `mean ${key}: no interval to judge its lower bound, need ≥ ${fixed(min, 3)} ${where}`,
        });
        continue;
      }
      const value = on === "lower" ? lower! : s.mean;
      const ok = value >= min;
      const [v, b] = pair(value, min, 3);
      const what = on === "lower" ? `mean ${key} ${fixed(s.mean, 3)}, lower bound` : `mean ${key}`;
      out.push({ name: `scores.${key}`, ok, message: `${what} ${v} ${ok ? "≥" : "<"} ${b} ${where}` });
    }
    if (gates.maxRegressions !== undefined) {
      const ok = exp.regressions <= gates.maxRegressions;
      const noun = exp.regressions === 1 ? "regression" : "regressions";
      out.push({ name: "maxRegressions", ok, message: `${exp.regressions} ${noun} ${ok ? "≤" : ">"} ${gates.maxRegressions} ${where}` });
    }
    if (gates.allDelivered) {
      const { runs, expected } = exp.delivered;
      out.push({ name: "allDelivered", ok: runs >= expected, message: `delivered ${runs}/${expected} runs ${where}` });
    }
    if (gates.noSignificantRegression) {
      // Fails on a "regressed" verdict and on nothing else: no baseline, or no comparison, passes.
      const regressed = regressedMeasures(exp.comparison);
      if (regressed.length === 0) {
        const why = exp.comparison ? "no significant regression" : "no significant regression (no paired comparison with a baseline)";
        out.push({ name: "noSignificantRegression", ok: true, message: `${why} ${where}` });
      }
      for (const [measure, m] of regressed) {
        const ci = `[${signedFixed(m.ci[0], 3)}, ${signedFixed(m.ci[1], 3)}]`;
        out.push({
          name: "noSignificantRegression",
          ok: false,
          message: `${measure} regressed: Δ ${signedFixed(m.delta, 3)} ${ci}, p ${pValue(m.p)} (${m.method}) ${where}`,
        });
      }
    }
    if (gates.maxTokens !== undefined) {
      const spent = exp.tokens ?? 0;
      const ok = spent <= gates.maxTokens;
      out.push({ name: "maxTokens", ok, message: `tokens ${thousands(spent)} ${ok ? "≤" : ">"} ${thousands(gates.maxTokens)} ${where}` });
    }
    if (gates.maxCostUsd !== undefined) {
      const max = gates.maxCostUsd;
      const usd = exp.cost ? exp.cost.usd : 0;
      if (usd === null) {
        // An unknown price is not a price of 0: the gate cannot hold, and says which models lack one.
        const models = exp.cost!.unknownModels.map((m) => JSON.stringify(m)).join(", ");
        out.push({
          name: "maxCostUsd",
          ok: false,
          message: `cost unknown: no price for ${models} (set the prices option), need ≤ $${max} ${where}`,
        });
      } else {
        const ok = usd <= max;
        // At least 4 decimals, and as many as the budget was given with ($0.000001 is not $0).
        const [v, b] = pair(usd, max, Math.max(4, (fixed(max, 12).split(".")[1] ?? "").length));
        out.push({ name: "maxCostUsd", ok, message: `cost $${v} ${ok ? "≤" : ">"} $${b} ${where}` });
      }
    }
  }
  return out;
}

const thousands = (n: number) => n.toLocaleString("en-US");
