import { resolve } from "node:path";

// What the model-call cache does in a run: one definition for the main process (options, env) and
// the workers (env only: they inherit the main process's environment).

export type CacheMode = "off" | "auto" | "record" | "replay";

export const CACHE_MODES: readonly CacheMode[] = ["off", "auto", "record", "replay"];

export interface CacheSettings {
  mode: CacheMode;
  /** Absolute. Entries live in `<dir>/<host>/<key>.json`; meant to be committed. */
  dir: string;
  /** `host` or `host:port`, lower case. */
  hosts: string[];
  /** Tally's own hosts (the collector, the LangSmith endpoint): never cached, whatever `hosts` matches. */
  exclude: string[];
  /** An answer bigger than this is passed on but not stored (a warning names it). */
  maxEntryBytes: number;
}

export const CACHE_ENV = {
  mode: "TALLY_CACHE",
  dir: "TALLY_CACHE_DIR",
  hosts: "TALLY_CACHE_HOSTS",
  maxEntryBytes: "TALLY_CACHE_MAX_ENTRY_BYTES",
  /** Set by the main process for its workers: the interceptor module's path. */
  module: "TALLY_CACHE_MODULE",
} as const;

/**
 * The model providers' API hosts. Azure OpenAI and Bedrock are matched by suffix (`*.openai.azure.com`,
 * `bedrock-runtime.*.amazonaws.com`): their host names carry the resource or region.
 */
export const DEFAULT_CACHE_HOSTS: readonly string[] = [
  "api.openai.com",
  "*.openai.azure.com",
  "*.cognitiveservices.azure.com",
  "api.anthropic.com",
  "generativelanguage.googleapis.com",
  "*-aiplatform.googleapis.com",
  "api.mistral.ai",
  "api.groq.com",
  "openrouter.ai",
  "bedrock-runtime.*.amazonaws.com",
];

export const DEFAULT_MAX_ENTRY_BYTES = 5 * 1024 * 1024;

type Env = Record<string, string | undefined>;

export function parseCacheMode(value: string | undefined, source: string): CacheMode {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "" || v === "0" || v === "false") return "off";
  if (v === "1" || v === "true") return "auto";
  if ((CACHE_MODES as readonly string[]).includes(v)) return v as CacheMode;
  throw new Error(`tally: ${source} must be one of ${CACHE_MODES.join(", ")}; got ${JSON.stringify(value)}`);
}

/** `host[:port]` entries, from a comma-separated list or an array; a URL is reduced to its host. */
export function parseCacheHosts(value: string | readonly string[], source: string): string[] {
  const items = typeof value === "string" ? value.split(",") : [...value];
  const hosts: string[] = [];
  for (const raw of items) {
    const item = String(raw).trim().toLowerCase();
    if (!item) continue;
    const host = item.includes("://") ? hostOfUrl(item) : item;
    if (!host || /[\s/]/.test(host)) throw new Error(`tally: ${source}: "${raw}" is not a host or host:port`);
    hosts.push(host);
  }
  return hosts;
}

/** The default hosts plus those of the provider base URLs the environment points the SDKs at. */
export function defaultCacheHosts(env: Env): string[] {
  const extra = [env.OPENAI_BASE_URL, env.ANTHROPIC_BASE_URL].map((u) => (u ? hostOfUrl(u) : undefined));
  return [...new Set([...DEFAULT_CACHE_HOSTS, ...extra.filter((h): h is string => !!h)])];
}

function hostOfUrl(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The settings a worker reads from its environment (the main process puts resolved ones there).
 * Never the collector or the LangSmith endpoint, whatever the list says: Tally's own traffic is not a
 * model call.
 */
export function cacheSettingsFromEnv(env: Env, cwd: string): CacheSettings {
  const mode = parseCacheMode(env[CACHE_ENV.mode], CACHE_ENV.mode);
  const hosts = env[CACHE_ENV.hosts] ? parseCacheHosts(env[CACHE_ENV.hosts]!, CACHE_ENV.hosts) : defaultCacheHosts(env);
  const rawMax = env[CACHE_ENV.maxEntryBytes];
  const max = rawMax ? Number(rawMax) : DEFAULT_MAX_ENTRY_BYTES;
  if (!Number.isInteger(max) || max <= 0)
    throw new Error(`tally: ${CACHE_ENV.maxEntryBytes} must be a whole number of bytes > 0; got ${JSON.stringify(rawMax)}`);
  const own = [env.TALLY_COLLECTOR_URL, env.LANGSMITH_ENDPOINT, env.LANGCHAIN_ENDPOINT, "https://api.smith.langchain.com"];
  const exclude = [...new Set(own.map((u) => (u ? hostOfUrl(u) : undefined)).filter((h): h is string => !!h))];
  return {
    mode,
    dir: resolve(cwd, env[CACHE_ENV.dir] || ".tally-cache"),
    hosts: hosts.filter((h) => !exclude.includes(h)),
    exclude,
    maxEntryBytes: max,
  };
}

/** Whether a request to `host` (with port when not the scheme's default) is one the cache answers. */
export function matchesHost(patterns: readonly string[], host: string): boolean {
  const h = host.toLowerCase();
  const bare = h.replace(/:\d+$/, "");
  return patterns.some((p) => {
    const target = p.includes(":") ? h : bare;
    if (!p.includes("*")) return p === target;
    const re = new RegExp(`^${p.split("*").map(escapeRe).join("[^.]+")}$`);
    return re.test(target);
  });
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The model-call cache lives in the worker runtime, which tracking off does not start: a line saying
 * so when the cache was asked for (by option or TALLY_CACHE), so that replay mode is never assumed.
 */
export function cacheIgnoredWithoutTracking(option: string | undefined, env: Env = process.env): string | undefined {
  const raw = option ?? env[CACHE_ENV.mode];
  let mode: CacheMode;
  try {
    mode = parseCacheMode(raw, CACHE_ENV.mode);
  } catch {
    mode = "auto"; // not a valid mode, but asked for all the same
  }
  if (mode === "off") return undefined;
  const given = (raw ?? "").trim();
  const source = option !== undefined ? `cache: "${given}"` : `${CACHE_ENV.mode}=${given}`;
  return `tally: ${source} has no effect with LANGSMITH_TEST_TRACKING=false (the cache runs in Tally's worker runtime, which tracking off does not start): model calls go to the provider`;
}
