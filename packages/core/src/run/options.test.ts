import { describe, expect, test } from "vitest";
import { resolveOptions } from "./options.js";

// The cache's options against its environment twins: an option wins, bad values stop the run before
// any test with a message naming what to fix.

describe("resolveOptions: the model-call cache", () => {
  test("off by default, the folder beside the config", () => {
    const o = resolveOptions("/proj", {}, {});
    expect(o.cache.mode).toBe("off");
    expect(o.cache.dir).toBe("/proj/.tally-cache");
  });

  test("the environment turns it on; an option wins over it", () => {
    expect(resolveOptions("/proj", {}, { TALLY_CACHE: "replay" }).cache.mode).toBe("replay");
    expect(resolveOptions("/proj", { cache: "off" }, { TALLY_CACHE: "replay" }).cache.mode).toBe("off");
    expect(resolveOptions("/proj", { cacheDir: "fixtures/cache" }, { TALLY_CACHE_DIR: "/elsewhere" }).cache.dir).toBe(
      "/proj/fixtures/cache",
    );
  });

  test("hosts: the option replaces the providers' list; the environment's base URLs join the defaults", () => {
    expect(resolveOptions("/proj", { cacheHosts: ["models.internal:8443"] }, {}).cache.hosts).toEqual(["models.internal:8443"]);
    const hosts = resolveOptions("/proj", {}, { OPENAI_BASE_URL: "http://127.0.0.1:4010/v1" }).cache.hosts;
    expect(hosts).toContain("api.openai.com");
    expect(hosts).toContain("127.0.0.1:4010");
  });

  test("the LangSmith endpoint is never cached, even when listed", () => {
    const o = resolveOptions(
      "/proj",
      { cacheHosts: ["ls.example.com", "api.openai.com"] },
      { LANGSMITH_ENDPOINT: "https://ls.example.com" },
    );
    expect(o.cache.hosts).toEqual(["api.openai.com"]);
  });

  test("bad values are errors that say what is allowed", () => {
    expect(() => resolveOptions("/proj", { cache: "sometimes" as never }, {})).toThrow(
      /cache option must be one of off, auto, record, replay; got "sometimes"/,
    );
    expect(() => resolveOptions("/proj", {}, { TALLY_CACHE: "yes" })).toThrow(/TALLY_CACHE must be one of/);
    expect(() => resolveOptions("/proj", { cacheHosts: "api.openai.com" as never }, {})).toThrow(/cacheHosts must be an array/);
    expect(() => resolveOptions("/proj", { cacheHosts: ["a b"] }, {})).toThrow(/"a b" is not a host/);
  });
});
