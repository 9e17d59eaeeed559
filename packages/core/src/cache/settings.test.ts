import { describe, expect, test } from "vitest";
import {
  CACHE_ENV,
  cacheSettingsFromEnv,
  DEFAULT_CACHE_HOSTS,
  DEFAULT_MAX_ENTRY_BYTES,
  defaultCacheHosts,
  matchesHost,
  parseCacheHosts,
  parseCacheMode,
} from "./settings.js";

describe("parseCacheMode", () => {
  test.each(["off", "auto", "record", "replay"] as const)("%s is itself", (mode) => {
    expect(parseCacheMode(mode, "X")).toBe(mode);
  });

  test("case and surrounding space do not matter", () => {
    expect(parseCacheMode("  RePlay ", "X")).toBe("replay");
    expect(parseCacheMode("AUTO", "X")).toBe("auto");
  });

  test.each([
    ["1", "auto"],
    ["true", "auto"],
    ["TRUE", "auto"],
    ["0", "off"],
    ["false", "off"],
    ["", "off"],
    ["   ", "off"],
    [undefined, "off"],
  ])("%j is %s", (value, mode) => {
    expect(parseCacheMode(value, "X")).toBe(mode);
  });

  test.each(["yes", "on", "2", "replays", "re-play"])("%j is an error naming the source, the modes and the value", (value) => {
    expect(() => parseCacheMode(value, "TALLY_CACHE")).toThrow(
      `tally: TALLY_CACHE must be one of off, auto, record, replay; got ${JSON.stringify(value)}`,
    );
    expect(() => parseCacheMode(value, "the cache.mode option")).toThrow(/the cache\.mode option/);
  });
});

describe("parseCacheHosts", () => {
  test("a comma-separated list: trimmed, lower-cased, empty items skipped", () => {
    expect(parseCacheHosts(" API.OpenAI.com , ,localhost:8080,*.openai.azure.com,", "H")).toEqual([
      "api.openai.com",
      "localhost:8080",
      "*.openai.azure.com",
    ]);
  });

  test("an array", () => {
    expect(parseCacheHosts(["api.openai.com", " Example.COM:9 "], "H")).toEqual(["api.openai.com", "example.com:9"]);
    expect(parseCacheHosts([], "H")).toEqual([]);
    expect(parseCacheHosts("", "H")).toEqual([]);
  });

  test("a URL is reduced to its host (with a port only when it is not the default)", () => {
    expect(parseCacheHosts("https://api.openai.com/v1,http://127.0.0.1:4010/v1?x=1,https://Proxy.Example:443/", "H")).toEqual([
      "api.openai.com",
      "127.0.0.1:4010",
      "proxy.example",
    ]);
  });

  test.each(["api.openai.com/v1", "two words", "http://", "https://a b/"])("%j is an error naming the source and the entry", (bad) => {
    expect(() => parseCacheHosts(["ok.example", bad], "TALLY_CACHE_HOSTS")).toThrow(
      `tally: TALLY_CACHE_HOSTS: "${bad}" is not a host or host:port`,
    );
  });
});

describe("defaultCacheHosts", () => {
  test("the providers' hosts when the environment points nowhere else", () => {
    expect(defaultCacheHosts({})).toEqual([...DEFAULT_CACHE_HOSTS]);
    expect(DEFAULT_CACHE_HOSTS).toContain("api.openai.com");
    expect(DEFAULT_CACHE_HOSTS).toContain("api.anthropic.com");
  });

  test("adds the hosts of OPENAI_BASE_URL and ANTHROPIC_BASE_URL", () => {
    const hosts = defaultCacheHosts({
      OPENAI_BASE_URL: "http://127.0.0.1:4010/v1",
      ANTHROPIC_BASE_URL: "https://Gateway.Example.com/anthropic",
    });
    expect(hosts).toContain("127.0.0.1:4010");
    expect(hosts).toContain("gateway.example.com");
    expect(hosts.slice(0, DEFAULT_CACHE_HOSTS.length)).toEqual([...DEFAULT_CACHE_HOSTS]);
  });

  test("no duplicates; an unparseable base URL is ignored", () => {
    const hosts = defaultCacheHosts({ OPENAI_BASE_URL: "https://api.openai.com/v1", ANTHROPIC_BASE_URL: "not a url" });
    expect(hosts).toEqual([...DEFAULT_CACHE_HOSTS]);
  });
});

describe("cacheSettingsFromEnv", () => {
  test("defaults: off, .tally-cache under cwd, the default hosts, LangSmith's cloud excluded, 5 MiB", () => {
    expect(cacheSettingsFromEnv({}, "/proj")).toEqual({
      mode: "off",
      dir: "/proj/.tally-cache",
      hosts: [...DEFAULT_CACHE_HOSTS],
      exclude: ["api.smith.langchain.com"],
      maxEntryBytes: DEFAULT_MAX_ENTRY_BYTES,
    });
    expect(DEFAULT_MAX_ENTRY_BYTES).toBe(5 * 1024 * 1024);
  });

  test("reads every variable", () => {
    const s = cacheSettingsFromEnv(
      {
        [CACHE_ENV.mode]: "replay",
        [CACHE_ENV.dir]: "/abs/cache",
        [CACHE_ENV.hosts]: "a.example,b.example:81",
        [CACHE_ENV.maxEntryBytes]: "1234",
      },
      "/proj",
    );
    expect(s).toEqual({
      mode: "replay",
      dir: "/abs/cache",
      hosts: ["a.example", "b.example:81"],
      exclude: ["api.smith.langchain.com"],
      maxEntryBytes: 1234,
    });
  });

  test("a relative dir is resolved against cwd (with or without a trailing separator); an absolute one is kept", () => {
    expect(cacheSettingsFromEnv({ [CACHE_ENV.dir]: "/elsewhere/cache" }, "/proj").dir).toBe("/elsewhere/cache");
    expect(cacheSettingsFromEnv({ [CACHE_ENV.dir]: "fixtures/cache" }, "/proj").dir).toBe("/proj/fixtures/cache");
    expect(cacheSettingsFromEnv({ [CACHE_ENV.dir]: "fixtures/cache" }, "/proj/").dir).toBe("/proj/fixtures/cache");
    expect(cacheSettingsFromEnv({ [CACHE_ENV.dir]: "./cache" }, "/proj").dir).toBe("/proj/cache");
    expect(cacheSettingsFromEnv({ [CACHE_ENV.dir]: "../shared/cache" }, "/proj/app").dir).toBe("/proj/shared/cache");
    expect(cacheSettingsFromEnv({ [CACHE_ENV.dir]: "" }, "/proj").dir).toBe("/proj/.tally-cache");
  });

  test("an invalid mode is an error naming TALLY_CACHE", () => {
    expect(() => cacheSettingsFromEnv({ [CACHE_ENV.mode]: "sometimes" }, "/proj")).toThrow(/TALLY_CACHE must be one of/);
  });

  test.each(["0", "-5", "abc", "1.5", " ", "Infinity", "NaN"])(
    "a max entry size of %j is an error naming TALLY_CACHE_MAX_ENTRY_BYTES and the value",
    (v) => {
      expect(() => cacheSettingsFromEnv({ [CACHE_ENV.maxEntryBytes]: v }, "/p")).toThrow(
        `tally: TALLY_CACHE_MAX_ENTRY_BYTES must be a whole number of bytes > 0; got ${JSON.stringify(v)}`,
      );
    },
  );

  test("a max entry size that is unset or empty is the default; a whole number is taken as it is", () => {
    expect(cacheSettingsFromEnv({}, "/p").maxEntryBytes).toBe(DEFAULT_MAX_ENTRY_BYTES);
    expect(cacheSettingsFromEnv({ [CACHE_ENV.maxEntryBytes]: "" }, "/p").maxEntryBytes).toBe(DEFAULT_MAX_ENTRY_BYTES);
    expect(cacheSettingsFromEnv({ [CACHE_ENV.maxEntryBytes]: "1" }, "/p").maxEntryBytes).toBe(1);
    expect(cacheSettingsFromEnv({ [CACHE_ENV.maxEntryBytes]: " 2048 " }, "/p").maxEntryBytes).toBe(2048);
  });

  test("without TALLY_CACHE_HOSTS: the default hosts plus the SDK base URLs' hosts", () => {
    const s = cacheSettingsFromEnv({ OPENAI_BASE_URL: "http://127.0.0.1:4010/v1" }, "/p");
    expect(s.hosts).toContain("127.0.0.1:4010");
    expect(s.hosts).toContain("api.openai.com");
  });

  test("never Tally's own collector or the LangSmith endpoint, even when listed", () => {
    const s = cacheSettingsFromEnv(
      {
        [CACHE_ENV.hosts]: "127.0.0.1:4000,my.langsmith.example,eu.smith.langchain.com,api.smith.langchain.com,api.openai.com",
        TALLY_COLLECTOR_URL: "http://127.0.0.1:4000",
        LANGSMITH_ENDPOINT: "https://my.langsmith.example/api",
        LANGCHAIN_ENDPOINT: "https://eu.smith.langchain.com",
      },
      "/p",
    );
    expect(s.hosts).toEqual(["api.openai.com"]);
    expect(s.exclude).toEqual(["127.0.0.1:4000", "my.langsmith.example", "eu.smith.langchain.com", "api.smith.langchain.com"]);
  });

  test("exclude: the hosts of the collector and the LangSmith endpoints, each once, lower case; an unparseable URL is skipped", () => {
    const s = cacheSettingsFromEnv(
      {
        TALLY_COLLECTOR_URL: "http://LocalHost:4123/",
        LANGSMITH_ENDPOINT: "https://api.smith.langchain.com",
        LANGCHAIN_ENDPOINT: "not a url",
      },
      "/p",
    );
    expect(s.exclude).toEqual(["localhost:4123", "api.smith.langchain.com"]);
  });

  test("nor the collector when a base URL points at it", () => {
    const s = cacheSettingsFromEnv({ OPENAI_BASE_URL: "http://127.0.0.1:4000/v1", TALLY_COLLECTOR_URL: "http://127.0.0.1:4000/" }, "/p");
    expect(s.hosts).not.toContain("127.0.0.1:4000");
    expect(matchesHost(s.hosts, "127.0.0.1:4000")).toBe(false);
  });

  // A listed pattern that matches the collector (a host without its port, a wildcard) stays in
  // `hosts`: the collector is kept out at request time, by `exclude` (see intercept.test.ts).
  test("a host listed without its port stays in hosts, and the collector's host is in exclude", () => {
    const s = cacheSettingsFromEnv({ [CACHE_ENV.hosts]: "127.0.0.1,*.example.com", TALLY_COLLECTOR_URL: "http://127.0.0.1:4123" }, "/p");
    expect(s.hosts).toEqual(["127.0.0.1", "*.example.com"]);
    expect(matchesHost(s.hosts, "127.0.0.1:4123")).toBe(true);
    expect(s.exclude).toContain("127.0.0.1:4123");
  });
});

describe("matchesHost", () => {
  test("exact host, case-insensitive on the request's side", () => {
    expect(matchesHost(["api.openai.com"], "api.openai.com")).toBe(true);
    expect(matchesHost(["api.openai.com"], "API.OpenAI.com")).toBe(true);
    expect(matchesHost(["api.openai.com"], "openai.com")).toBe(false);
    expect(matchesHost(["api.openai.com"], "xapi.openai.com")).toBe(false);
    expect(matchesHost([], "api.openai.com")).toBe(false);
  });

  test("a pattern with a port matches that port only; one without matches any port", () => {
    expect(matchesHost(["127.0.0.1:4010"], "127.0.0.1:4010")).toBe(true);
    expect(matchesHost(["127.0.0.1:4010"], "127.0.0.1:4011")).toBe(false);
    expect(matchesHost(["127.0.0.1:4010"], "127.0.0.1")).toBe(false);
    expect(matchesHost(["api.openai.com"], "api.openai.com:8443")).toBe(true);
  });

  test("*.openai.azure.com: one label in place of the star", () => {
    const p = ["*.openai.azure.com"];
    expect(matchesHost(p, "my-resource.openai.azure.com")).toBe(true);
    expect(matchesHost(p, "my-resource.openai.azure.com:443")).toBe(true);
    expect(matchesHost(p, "openai.azure.com")).toBe(false);
    expect(matchesHost(p, ".openai.azure.com")).toBe(false);
    expect(matchesHost(p, "a.b.openai.azure.com")).toBe(false);
    expect(matchesHost(p, "my-resource.openai.azure.com.evil.com")).toBe(false);
    expect(matchesHost(p, "my-resource-openai.azure.com")).toBe(false);
  });

  test("bedrock-runtime.*.amazonaws.com: the region in the middle", () => {
    const p = ["bedrock-runtime.*.amazonaws.com"];
    expect(matchesHost(p, "bedrock-runtime.us-east-1.amazonaws.com")).toBe(true);
    expect(matchesHost(p, "bedrock-runtime.eu-west-3.amazonaws.com")).toBe(true);
    expect(matchesHost(p, "bedrock-runtime..amazonaws.com")).toBe(false);
    expect(matchesHost(p, "bedrock-runtime.us-east-1.evil.com")).toBe(false);
    expect(matchesHost(p, "bedrock-runtime.a.b.amazonaws.com")).toBe(false);
    expect(matchesHost(p, "bedrock.us-east-1.amazonaws.com")).toBe(false);
    expect(matchesHost(p, "xbedrock-runtime.us-east-1.amazonaws.com")).toBe(false);
  });

  test("*-aiplatform.googleapis.com: a star inside a label", () => {
    const p = ["*-aiplatform.googleapis.com"];
    expect(matchesHost(p, "us-central1-aiplatform.googleapis.com")).toBe(true);
    expect(matchesHost(p, "aiplatform.googleapis.com")).toBe(false);
    expect(matchesHost(p, "evil.com.us-central1-aiplatform.googleapis.com")).toBe(false);
  });

  test("no false positives from the default list", () => {
    const p = DEFAULT_CACHE_HOSTS;
    expect(matchesHost(p, "api.openai.com")).toBe(true);
    expect(matchesHost(p, "api.anthropic.com")).toBe(true);
    for (const host of [
      "api.openai.com.evil.com",
      "evil.com",
      "api-openai.com",
      "apixopenai.com",
      "api.anthropic.com.attacker.net",
      "openrouter.ai.evil.com",
      "api.smith.langchain.com",
      "127.0.0.1:4000",
      "localhost",
    ]) {
      expect(matchesHost(p, host), host).toBe(false);
    }
  });

  test("dots in a pattern are literal, not regular-expression wildcards", () => {
    expect(matchesHost(["*.openai.azure.com"], "x.openaiXazure.com")).toBe(false);
    expect(matchesHost(["api.openai.com"], "apiXopenaiXcom")).toBe(false);
  });
});
