import { type GateOptions, validateGates } from "../compare/gates.js";
import { CACHE_ENV, type CacheMode, type CacheSettings, cacheSettingsFromEnv, parseCacheHosts, parseCacheMode } from "../cache/settings.js";

/** Options of `tally(options)` (Vitest) and the Jest preset; every one has an environment twin. */
export interface TallyOptions {
  /**
   * Every file of the run shares this dataset, whatever its `ls.describe` names. Env: TALLY_DATASET.
   * (LANGSMITH_TEST_SUITE names the dataset of tests that nothing else names: neither this nor an
   * `ls.describe`.)
   */
  dataset?: string;
  /**
   * Experiment names are `<prefix or dataset>:<run key>`. Env: TALLY_EXPERIMENT_PREFIX, else
   * LANGSMITH_EXPERIMENT.
   */
  experimentPrefix?: string;
  /**
   * Added to every experiment's metadata, over the JSON object in LANGSMITH_EXPERIMENT_METADATA
   * (these keys win).
   */
  metadata?: Record<string, unknown>;
  /** Experiment description. */
  description?: string;
  /** Where the local store and the spool live. Default: `<root>/.tally`. Env: TALLY_DIR. */
  dir?: string;
  /** How long the end of the run waits for the backend before leaving the rest in the spool. */
  drainTimeoutMs?: number;
  /**
   * The end of the run stops waiting once sending has failed this long without a record getting
   * through (a backend that is down): the rest stays in the spool. Env: TALLY_DRAIN_STALL_MS.
   */
  drainStallMs?: number;
  /** How long each worker's final flush may take (the `afterAll` timeout). */
  flushTimeoutMs?: number;
  /** Force the embedded local store even when LANGSMITH_API_KEY is set. Env: TALLY_LOCAL=1. */
  local?: boolean;
  /** Print the per-experiment tables (the delivery lines are always printed). */
  tables?: boolean;
  /**
   * What each experiment is compared with: `"previous"` (the newest earlier finished experiment of the
   * dataset; in CI one on the default branch when there is one), `"approved"` (the one
   * `tally baseline approve` chose for the dataset), an experiment name or id, or `"none"`.
   * Env: TALLY_BASELINE. Default: "previous".
   */
  baseline?: string;
  /** How far a score may fall before it counts as a regression: one number, or per feedback key ("*" for the rest). Default 0. */
  regressionThreshold?: number | Record<string, number>;
  /** Write the run's JSON report (schema: @tally/core/schema/report.v2.json) here. Env: TALLY_REPORT_FILE. */
  reportFile?: string;
  /** Conditions the run must meet, judged after delivery; a failing one fails the run (exit code 1). */
  gates?: GateOptions;
  /**
   * The model-call cache: `"off"` (default), `"auto"` (answer from the cache, record what it lacks),
   * `"record"` (always call, store the answer), `"replay"` (never call; a call the cache lacks fails its
   * test). Env: TALLY_CACHE.
   */
  cache?: CacheMode;
  /** Where cache entries live (commit it). Default: `<root>/.tally-cache`. Env: TALLY_CACHE_DIR. */
  cacheDir?: string;
  /**
   * The hosts (`host` or `host:port`, `*` for one label) whose calls are cached. Default: the model
   * providers' APIs, and the hosts of OPENAI_BASE_URL and ANTHROPIC_BASE_URL. Env: TALLY_CACHE_HOSTS.
   */
  cacheHosts?: string[];
  /**
   * How many times each `ls.test` that sets no `config.repetitions` runs: each trial is a run of its
   * own on the same example (as repetitions are). An integer ≥ 1. Env: TALLY_TRIALS. Default 1.
   */
  trials?: number;
  /** The significance level of the run's statistical comparisons, in (0, 1). Env: TALLY_ALPHA. Default 0.05. */
  alpha?: number;
  /** Model prices in USD per million tokens, per model name: `{ "gpt-4o": { input: 2.5, output: 10 } }`. */
  prices?: Record<string, { input: number; output: number }>;
}

export interface ResolvedOptions {
  dataset?: string;
  experimentPrefix?: string;
  metadata: Record<string, unknown>;
  description?: string;
  dir: string;
  drainTimeoutMs: number;
  drainStallMs: number;
  flushTimeoutMs: number;
  local: boolean;
  tables: boolean;
  baseline: string;
  regressionThreshold: number | Record<string, number>;
  reportFile?: string;
  gates: GateOptions;
  cache: CacheSettings;
  /** The dataset of tests that name none (no `dataset` option and no `ls.describe`): LANGSMITH_TEST_SUITE. */
  fallbackDataset?: string;
  trials: number;
  alpha: number;
  prices: Record<string, { input: number; output: number }>;
}

// Every option of TallyOptions, once: the compiler fails when one is added there and not here.
const OPTION_NAMES: Record<keyof TallyOptions, true> = {
  dataset: true,
  experimentPrefix: true,
  metadata: true,
  description: true,
  dir: true,
  drainTimeoutMs: true,
  drainStallMs: true,
  flushTimeoutMs: true,
  local: true,
  tables: true,
  baseline: true,
  regressionThreshold: true,
  reportFile: true,
  gates: true,
  cache: true,
  cacheDir: true,
  cacheHosts: true,
  trials: true,
  alpha: true,
  prices: true,
};
const KNOWN_OPTIONS: ReadonlySet<string> = new Set(Object.keys(OPTION_NAMES));

/** A misspelt option would otherwise be ignored in silence (a gate that never fails, say). */
function checkOptions(opts: TallyOptions): void {
  const unknown = Object.keys(opts).filter((k) => !KNOWN_OPTIONS.has(k));
  if (unknown.length > 0) {
    throw new Error(
      `tally: unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")} (known: ${[...KNOWN_OPTIONS].join(", ")})`,
    );
  }
  const t = opts.regressionThreshold;
  const bad = (v: unknown) => typeof v !== "number" || !Number.isFinite(v) || v < 0;
  if (t !== undefined && (typeof t === "object" && t !== null ? Object.values(t).some(bad) : bad(t))) {
    throw new Error(`tally: regressionThreshold must be a number ≥ 0 or an object of them per feedback key, got ${JSON.stringify(t)}`);
  }
}

type Env = Record<string, string | undefined>;

export function resolveOptions(root: string, opts: TallyOptions = {}, env: Env = process.env): ResolvedOptions {
  checkOptions(opts);
  const num = (v: string | undefined) => (v && Number.isFinite(Number(v)) ? Number(v) : undefined);
  return {
    dataset: opts.dataset ?? (env.TALLY_DATASET || undefined),
    experimentPrefix: opts.experimentPrefix ?? (env.TALLY_EXPERIMENT_PREFIX || env.LANGSMITH_EXPERIMENT || undefined),
    metadata: { ...experimentMetadataOf(env), ...opts.metadata },
    description: opts.description,
    dir: opts.dir ?? env.TALLY_DIR ?? `${root}/.tally`,
    drainTimeoutMs: opts.drainTimeoutMs ?? num(env.TALLY_DRAIN_TIMEOUT_MS) ?? 120_000,
    drainStallMs: opts.drainStallMs ?? num(env.TALLY_DRAIN_STALL_MS) ?? 10_000,
    flushTimeoutMs: opts.flushTimeoutMs ?? num(env.TALLY_FLUSH_TIMEOUT_MS) ?? 120_000,
    local: opts.local ?? (env.TALLY_LOCAL === "1" || env.TALLY_LOCAL === "true" || !apiKeyOf(env)),
    tables: opts.tables ?? env.TALLY_TABLES !== "0",
    baseline: opts.baseline ?? (env.TALLY_BASELINE || "previous"),
    regressionThreshold: opts.regressionThreshold ?? 0,
    reportFile: opts.reportFile ?? (env.TALLY_REPORT_FILE || undefined),
    gates: validateGates(opts.gates ?? {}),
    cache: resolveCache(root, opts, env),
    fallbackDataset: env.LANGSMITH_TEST_SUITE || undefined,
    trials: resolveTrials(opts, env),
    alpha: resolveAlpha(opts, env),
    prices: checkPrices(opts.prices),
  };
}

/** A value as a message shows it (JSON, but for what JSON cannot say: NaN, undefined). */
const shown = (v: unknown): string => (typeof v === "number" || v === undefined ? String(v) : JSON.stringify(v));

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The option, else the environment variable (a number as text), else undefined; "" is unset. */
function numberFrom(option: unknown, raw: string | undefined): { value: unknown; source: "option" | "env" } | undefined {
  if (option !== undefined) return { value: option, source: "option" };
  const text = raw?.trim();
  if (!text) return undefined;
  return { value: Number(text), source: "env" };
}

function resolveTrials(opts: TallyOptions, env: Env): number {
  const got = numberFrom(opts.trials, env.TALLY_TRIALS);
  if (!got) return 1;
  const n = got.value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
    const what =
      got.source === "option"
        ? `the trials option must be an integer ≥ 1, got ${shown(opts.trials)}`
        : `TALLY_TRIALS must be an integer ≥ 1, got "${env.TALLY_TRIALS}"`;
    throw new Error(`tally: ${what}`);
  }
  return n;
}

function resolveAlpha(opts: TallyOptions, env: Env): number {
  const got = numberFrom(opts.alpha, env.TALLY_ALPHA);
  if (!got) return 0.05;
  const a = got.value;
  if (typeof a !== "number" || !Number.isFinite(a) || a <= 0 || a >= 1) {
    const what =
      got.source === "option"
        ? `the alpha option must be a number between 0 and 1 (exclusive), got ${shown(opts.alpha)}`
        : `TALLY_ALPHA must be a number between 0 and 1 (exclusive), got "${env.TALLY_ALPHA}"`;
    throw new Error(`tally: ${what}`);
  }
  return a;
}

const PRICE_KEYS = ["input", "output"] as const;

/** `prices`: an object of `{ input, output }` (USD per million tokens, numbers ≥ 0) per model. */
function checkPrices(prices: unknown): Record<string, { input: number; output: number }> {
  if (prices === undefined) return {};
  const shape = "an object of { input, output } per model name (USD per million tokens, numbers ≥ 0)";
  if (!isObject(prices)) throw new Error(`tally: prices must be ${shape}, got ${shown(prices)}`);
  const out: Record<string, { input: number; output: number }> = {};
  for (const [model, price] of Object.entries(prices)) {
    const at = `prices[${JSON.stringify(model)}]`;
    if (!isObject(price))
      throw new Error(`tally: ${at} must be { input, output } (USD per million tokens, numbers ≥ 0), got ${shown(price)}`);
    const unknown = Object.keys(price).filter((k) => !(PRICE_KEYS as readonly string[]).includes(k));
    if (unknown.length > 0) {
      throw new Error(
        `tally: ${at} has unknown key${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")} (allowed: input, output)`,
      );
    }
    for (const k of PRICE_KEYS) {
      const v = price[k];
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
        throw new Error(`tally: ${at}.${k} must be a number ≥ 0 (USD per million tokens), got ${shown(v)}`);
      }
    }
    out[model] = { input: price.input as number, output: price.output as number };
  }
  return out;
}

/** LANGSMITH_EXPERIMENT_METADATA (as LangSmith's pytest plugin reads it): a JSON object, or nothing. */
function experimentMetadataOf(env: Env): Record<string, unknown> {
  const raw = env.LANGSMITH_EXPERIMENT_METADATA;
  if (raw === undefined || raw.trim() === "") return {};
  const expected = `LANGSMITH_EXPERIMENT_METADATA must be a JSON object (such as {"model": "gpt-4o"})`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new Error(`tally: ${expected}; it is not JSON (${(err as Error).message})`);
  }
  if (!isObject(parsed)) throw new Error(`tally: ${expected}, got ${shown(parsed)}`);
  return parsed;
}

/** Options over environment, checked before any test runs. */
function resolveCache(root: string, opts: TallyOptions, env: Env): CacheSettings {
  const merged: Env = { ...env };
  if (opts.cache !== undefined) merged[CACHE_ENV.mode] = parseCacheMode(String(opts.cache), "the cache option");
  if (opts.cacheDir !== undefined) merged[CACHE_ENV.dir] = opts.cacheDir;
  if (opts.cacheHosts !== undefined) {
    if (!Array.isArray(opts.cacheHosts))
      throw new Error(`tally: cacheHosts must be an array of "host" or "host:port", got ${JSON.stringify(opts.cacheHosts)}`);
    merged[CACHE_ENV.hosts] = parseCacheHosts(opts.cacheHosts, "cacheHosts").join(",");
  }
  return cacheSettingsFromEnv(merged, root);
}

export function apiKeyOf(env: Env): string | undefined {
  return env.LANGSMITH_API_KEY || env.LANGCHAIN_API_KEY || undefined;
}

export function endpointOf(env: Env): string {
  return env.LANGSMITH_ENDPOINT || env.LANGCHAIN_ENDPOINT || "https://api.smith.langchain.com";
}

// Read by the workers too: one definition, beside the rest of what a worker reads of its environment.
export { trackingEnabled } from "../protocol/worker-env.js";
