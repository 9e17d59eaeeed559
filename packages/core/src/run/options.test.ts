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

// Trials, the significance level and prices: resolved (option over environment), and every bad value
// an error before any test runs, naming the option or variable and what it allows.

describe("resolveOptions: trials", () => {
  test("1 by default; the environment sets it; the option wins", () => {
    expect(resolveOptions("/proj", {}, {}).trials).toBe(1);
    expect(resolveOptions("/proj", {}, { TALLY_TRIALS: "3" }).trials).toBe(3);
    expect(resolveOptions("/proj", {}, { TALLY_TRIALS: " " }).trials).toBe(1);
    expect(resolveOptions("/proj", { trials: 5 }, { TALLY_TRIALS: "3" }).trials).toBe(5);
  });

  test("below 1, not an integer or not a number: an error naming the option or variable", () => {
    for (const trials of [0, -1, 2.5, Number.NaN, "3" as never]) {
      expect(() => resolveOptions("/proj", { trials }, {})).toThrow(/^tally: the trials option must be an integer ≥ 1, got /);
    }
    expect(() => resolveOptions("/proj", { trials: 0 }, {})).toThrow("tally: the trials option must be an integer ≥ 1, got 0");
    for (const TALLY_TRIALS of ["0", "-2", "1.5", "three"]) {
      expect(() => resolveOptions("/proj", {}, { TALLY_TRIALS })).toThrow(
        `tally: TALLY_TRIALS must be an integer ≥ 1, got "${TALLY_TRIALS}"`,
      );
    }
  });
});

describe("resolveOptions: alpha", () => {
  test("0.05 by default; the environment sets it; the option wins", () => {
    expect(resolveOptions("/proj", {}, {}).alpha).toBe(0.05);
    expect(resolveOptions("/proj", {}, { TALLY_ALPHA: "0.01" }).alpha).toBe(0.01);
    expect(resolveOptions("/proj", { alpha: 0.1 }, { TALLY_ALPHA: "0.01" }).alpha).toBe(0.1);
  });

  test("outside (0, 1): an error saying what is allowed", () => {
    for (const alpha of [0, 1, -0.1, 5, Number.NaN, "0.05" as never]) {
      expect(() => resolveOptions("/proj", { alpha }, {})).toThrow(
        /^tally: the alpha option must be a number between 0 and 1 \(exclusive\), got /,
      );
    }
    for (const TALLY_ALPHA of ["0", "1", "5%", "-0.5"]) {
      expect(() => resolveOptions("/proj", {}, { TALLY_ALPHA })).toThrow(
        `tally: TALLY_ALPHA must be a number between 0 and 1 (exclusive), got "${TALLY_ALPHA}"`,
      );
    }
  });
});

describe("resolveOptions: prices", () => {
  test("none by default; kept as given when well-formed", () => {
    expect(resolveOptions("/proj", {}, {}).prices).toEqual({});
    const prices = { "gpt-4o": { input: 2.5, output: 10 }, "local-model": { input: 0, output: 0 } };
    expect(resolveOptions("/proj", { prices }, {}).prices).toEqual(prices);
  });

  test("malformed: an error naming the model and the field", () => {
    const bad = (prices: unknown) => () => resolveOptions("/proj", { prices: prices as never }, {});
    expect(bad([])).toThrow(
      /^tally: prices must be an object of \{ input, output \} per model name \(USD per million tokens, numbers ≥ 0\), got \[\]/,
    );
    expect(bad("cheap")).toThrow(/^tally: prices must be an object/);
    expect(bad({ "gpt-4o": 2.5 })).toThrow(
      'tally: prices["gpt-4o"] must be { input, output } (USD per million tokens, numbers ≥ 0), got 2.5',
    );
    expect(bad({ "gpt-4o": { input: 2.5 } })).toThrow(
      'tally: prices["gpt-4o"].output must be a number ≥ 0 (USD per million tokens), got undefined',
    );
    expect(bad({ "gpt-4o": { input: -1, output: 10 } })).toThrow('tally: prices["gpt-4o"].input must be a number ≥ 0');
    expect(bad({ "gpt-4o": { input: "2.5", output: 10 } })).toThrow(
      'prices["gpt-4o"].input must be a number ≥ 0 (USD per million tokens), got "2.5"',
    );
    expect(bad({ "gpt-4o": { input: 1, output: 2, cached: 0.5 } })).toThrow(
      'tally: prices["gpt-4o"] has unknown key "cached" (allowed: input, output)',
    );
  });

  test("trials, alpha and prices are known options", () => {
    expect(() => resolveOptions("/proj", { trials: 2, alpha: 0.1, prices: {} }, {})).not.toThrow();
    expect(() => resolveOptions("/proj", { trial: 2 } as never, {})).toThrow(/unknown option "trial" \(known: .*trials, alpha, prices/);
  });
});

describe("resolveOptions: the names of LangSmith's pytest plugin", () => {
  test("LANGSMITH_TEST_SUITE is the fallback dataset; it never replaces the dataset option or TALLY_DATASET", () => {
    const o = resolveOptions("/proj", {}, { LANGSMITH_TEST_SUITE: "suite-a" });
    expect(o.dataset).toBeUndefined();
    expect(o.fallbackDataset).toBe("suite-a");
    expect(resolveOptions("/proj", {}, { TALLY_DATASET: "d", LANGSMITH_TEST_SUITE: "suite-a" }).dataset).toBe("d");
    expect(resolveOptions("/proj", {}, {}).fallbackDataset).toBeUndefined();
  });

  test("LANGSMITH_EXPERIMENT is the experiment name prefix below TALLY_EXPERIMENT_PREFIX and the option", () => {
    expect(resolveOptions("/proj", {}, { LANGSMITH_EXPERIMENT: "nightly" }).experimentPrefix).toBe("nightly");
    expect(resolveOptions("/proj", {}, { LANGSMITH_EXPERIMENT: "nightly", TALLY_EXPERIMENT_PREFIX: "t" }).experimentPrefix).toBe("t");
    expect(resolveOptions("/proj", { experimentPrefix: "o" }, { LANGSMITH_EXPERIMENT: "nightly" }).experimentPrefix).toBe("o");
  });

  test("LANGSMITH_EXPERIMENT_METADATA is merged into the metadata; the option's keys win", () => {
    const env = { LANGSMITH_EXPERIMENT_METADATA: '{"model": "gpt-4o", "temperature": 0}' };
    expect(resolveOptions("/proj", {}, env).metadata).toEqual({ model: "gpt-4o", temperature: 0 });
    expect(resolveOptions("/proj", { metadata: { model: "claude", team: "qa" } }, env).metadata).toEqual({
      model: "claude",
      temperature: 0,
      team: "qa",
    });
    expect(resolveOptions("/proj", {}, { LANGSMITH_EXPERIMENT_METADATA: "" }).metadata).toEqual({});
  });

  test("LANGSMITH_EXPERIMENT_METADATA that is not JSON, or not an object, is an error", () => {
    expect(() => resolveOptions("/proj", {}, { LANGSMITH_EXPERIMENT_METADATA: "model=gpt-4o" })).toThrow(
      /^tally: LANGSMITH_EXPERIMENT_METADATA must be a JSON object \(such as \{"model": "gpt-4o"\}\); it is not JSON \(/,
    );
    for (const [raw, got] of [
      ["[1, 2]", "[1,2]"],
      ['"gpt-4o"', '"gpt-4o"'],
      ["null", "null"],
      ["3", "3"],
    ]) {
      expect(() => resolveOptions("/proj", {}, { LANGSMITH_EXPERIMENT_METADATA: raw })).toThrow(
        `tally: LANGSMITH_EXPERIMENT_METADATA must be a JSON object (such as {"model": "gpt-4o"}), got ${got}`,
      );
    }
  });
});
