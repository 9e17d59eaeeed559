import { describe, expect, test } from "vitest";
import { judgeGates, validateGates } from "../compare/gates.js";
import { outcomesOf } from "../compare/outcomes.js";
import type { ModelUsage } from "../protocol/tracked-test.js";
import { validateReport } from "../../../../test/support/report-schema.js";
import { buildReport } from "./ci/build-report.js";
import { jobSummaryMarkdown } from "./ci/markdown.js";
import { mergeReports } from "./ci/merge.js";
import type { ReportedTest } from "./reconcile.js";
import { renderReport } from "./render.js";
import { costOf, fmtUsd, mergeUsageFields, tokensOf, totalUsage, usageSentence } from "./usage.js";

// Tokens and cost in the report: summed per test and experiment, priced per million tokens, an
// unpriced model unknown (null, named), never 0; cache hits saved, not spent; Δ against the baseline;
// the maxCostUsd and maxTokens gates; the schema; and the merge of shards.

const PRICES = { "gpt-x": { input: 2.5, output: 10 }, "claude-x": { input: 3, output: 15 } };
const EXP = "usage-suite:run-1";

function tested(name: string, usage?: ModelUsage, state: ReportedTest["state"] = "passed"): ReportedTest {
  return {
    name,
    file: "evals/usage.eval.ts",
    state,
    runId: `run-${name}`,
    dataset: "usage-suite",
    experimentName: EXP,
    experimentId: "exp-1",
    feedback: [{ key: "pass", score: state === "passed" }],
    ...(usage ? { usage } : {}),
  };
}

function report(
  tests: ReportedTest[],
  more: { prices?: typeof PRICES | Record<string, never>; baselineUsage?: ModelUsage; gates?: object } = {},
) {
  return buildReport({
    summary: {
      experiments: [
        {
          dataset: "usage-suite",
          name: EXP,
          tests,
          expected: tests.length,
          delivered: tests.length,
          spans: tests.length,
          feedback: 0,
          missing: [],
        },
      ],
      otherRuns: { delivered: 0, received: 0, byProject: {} },
      waiting: 0,
      waitingTests: 0,
      problems: [],
    },
    compared: [
      {
        name: EXP,
        id: "exp-1",
        baseline: more.baselineUsage ? { name: "usage-suite:run-0", id: "exp-0", url: null, passRate: 1, scores: {} } : null,
        comparison: null,
        exampleOf: new Map(),
        ...(more.baselineUsage ? { baselineUsage: more.baselineUsage } : {}),
      },
    ],
    run: { key: "k1", startedAt: "2026-01-01T00:00:00.000Z", endedAt: "2026-01-01T00:01:00.000Z", git: null },
    gates: validateGates(more.gates ?? {}),
    prices: more.prices ?? PRICES,
  });
}

describe("pricing", () => {
  test("cost per million tokens, per model, summed; float dust rounded away", () => {
    const usage: ModelUsage = { "gpt-x": { input: 1000, output: 200 }, "claude-x": { input: 3, output: 7 } };
    // 1000 × 2.5 + 200 × 10 = 4500 µ$; 3 × 3 + 7 × 15 = 114 µ$.
    expect(costOf(usage, PRICES)).toEqual({ usd: 0.004614, savedUsd: 0, unknownModels: [] });
    expect(tokensOf(usage)).toEqual({ input: 1003, output: 207, total: 1210, saved: 0 });
  });

  test("a model without a price makes the cost unknown (null) and is named, never counted as 0", () => {
    const usage: ModelUsage = { "gpt-x": { input: 10, output: 10 }, "mystery-1": { input: 5, output: 0 } };
    expect(costOf(usage, PRICES)).toEqual({ usd: null, savedUsd: 0, unknownModels: ["mystery-1"] });
    expect(costOf(usage, {})).toEqual({ usd: null, savedUsd: 0, unknownModels: ["gpt-x", "mystery-1"] });
    // A price named like an Object.prototype member is not a price.
    expect(costOf({ constructor: { input: 1, output: 1 } }, PRICES).usd).toBeNull();
  });

  test("tokens the cache answered are saved, not spent, and priced as saved", () => {
    const usage: ModelUsage = { "gpt-x": { input: 100, output: 0, savedInput: 4000, savedOutput: 1000 } };
    expect(tokensOf(usage)).toEqual({ input: 100, output: 0, total: 100, saved: 5000 });
    expect(costOf(usage, PRICES)).toEqual({ usd: 0.00025, savedUsd: 0.02, unknownModels: [] });
    // Only saved tokens of an unpriced model: nothing unknown was spent.
    expect(costOf({ m: { input: 0, output: 0, savedInput: 5 } }, {})).toEqual({ usd: 0, savedUsd: null, unknownModels: ["m"] });
  });

  test("totals add model by model, saved counts only where there are some", () => {
    const total = totalUsage([
      { usage: { "gpt-x": { input: 1, output: 2 } } },
      {},
      { usage: { "gpt-x": { input: 3, output: 4, savedInput: 5 }, "claude-x": { input: 6, output: 7 } } },
    ]);
    expect(total).toEqual({ "gpt-x": { input: 4, output: 6, savedInput: 5 }, "claude-x": { input: 6, output: 7 } });
    expect(totalUsage([{}, {}])).toBeUndefined();
  });

  test("amounts as people read them", () => {
    expect([0, 0.0412, 0.00004321, 12.3456, -0.003].map(fmtUsd)).toEqual(["$0", "$0.0412", "$0.000043", "$12.35", "−$0.0030"]);
  });
});

describe("the report", () => {
  test("per test and per experiment: tokens, cost, per model; a test without model calls has none", () => {
    const r = report([
      tested("a", { "gpt-x": { input: 1000, output: 200 } }),
      tested("b", { "gpt-x": { input: 500, output: 100, savedInput: 300, savedOutput: 50 }, "claude-x": { input: 10, output: 2 } }),
      tested("c"),
    ]);
    expect(validateReport(r)).toEqual([]);
    const e = r.experiments[0]!;
    expect(e.tests.map((t) => [t.tokens, t.costUsd])).toEqual([
      [{ input: 1000, output: 200, total: 1200, saved: 0 }, 0.0045],
      [{ input: 510, output: 102, total: 612, saved: 350 }, 0.00231],
      [undefined, undefined],
    ]);
    expect(e.tokens).toEqual({ input: 1510, output: 302, total: 1812, saved: 350 });
    expect(e.cost).toEqual({ usd: 0.00681, savedUsd: 0.00125, unknownModels: [] });
    expect(e.models).toEqual({
      "claude-x": { input: 10, output: 2, total: 12, saved: 0, costUsd: 0.00006 },
      "gpt-x": { input: 1500, output: 300, total: 1800, saved: 350, costUsd: 0.00675 },
    });
    expect(usageSentence(e)).toBe("tokens 1,812 (in 1,510 · out 302) · cost $0.0068 · saved 350 tokens by the cache ($0.0013)");
  });

  test("no model calls: no tokens, no cost, no line", () => {
    const r = report([tested("a"), tested("b")]);
    const e = r.experiments[0]!;
    expect([e.tokens, e.cost, e.models]).toEqual([undefined, undefined, undefined]);
    expect(usageSentence(e)).toBeUndefined();
    expect(jobSummaryMarkdown(r)).not.toContain("Model calls");
  });

  test("an unpriced model: the cost is null in the JSON, and 'unknown' with the model named in the text", () => {
    const r = report([tested("a", { "gpt-x": { input: 10, output: 1 } }), tested("b", { "new-model": { input: 10, output: 1 } })]);
    expect(validateReport(r)).toEqual([]);
    const e = r.experiments[0]!;
    expect(e.cost).toEqual({ usd: null, savedUsd: 0, unknownModels: ["new-model"] });
    expect(e.tests.map((t) => t.costUsd)).toEqual([0.000035, null]);
    expect(e.models!["new-model"]!.costUsd).toBeNull();
    expect(usageSentence(e)).toBe('tokens 22 (in 20 · out 2) · cost unknown (no price for "new-model")');
  });

  test("Δ against the baseline's tokens and cost, priced at this run's prices", () => {
    const r = report([tested("a", { "gpt-x": { input: 1000, output: 200 } })], { baselineUsage: { "gpt-x": { input: 800, output: 100 } } });
    expect(validateReport(r)).toEqual([]);
    const e = r.experiments[0]!;
    expect(e.baseline).toMatchObject({ tokens: { input: 800, output: 100, total: 900, saved: 0 }, costUsd: 0.003 });
    expect(usageSentence(e)).toBe("tokens 1,200 (in 1,000 · out 200) · cost $0.0045 · Δ +300 tokens, +$0.0015 vs baseline");
    expect(jobSummaryMarkdown(r)).toContain(
      "Model calls: tokens 1,200 (in 1,000 · out 200) · cost $0.0045 · Δ +300 tokens, +$0.0015 vs baseline",
    );
    // A baseline of an unpriced model: the token Δ only.
    const unknown = report([tested("a", { "gpt-x": { input: 10, output: 0 } })], {
      baselineUsage: { "old-model": { input: 20, output: 0 } },
    });
    expect(unknown.experiments[0]!.baseline!.costUsd).toBeNull();
    expect(usageSentence(unknown.experiments[0]!)).toBe("tokens 10 (in 10 · out 0) · cost $0.000025 · Δ −10 tokens vs baseline");
  });

  test("the terminal prints the line under the experiment's delivery line", () => {
    const tests = [tested("a", { "gpt-x": { input: 10, output: 1 } })];
    const r = report(tests);
    const summary = {
      experiments: [{ dataset: "usage-suite", name: EXP, tests, expected: 1, delivered: 1, spans: 1, feedback: 0, missing: [] }],
      otherRuns: { delivered: 0, received: 0, byProject: {} },
      waiting: 0,
      waitingTests: 0,
      problems: [],
    };
    const lines = renderReport(summary, { tables: false, usage: new Map([[EXP, usageSentence(r.experiments[0]!)!]]) });
    expect(lines[1]).toBe("tally:   tokens 11 (in 10 · out 1) · cost $0.000035");
  });

  test("the baseline's usage is read from its root runs' tally_usage metadata", () => {
    const outcomes = outcomesOf({
      experiment: { id: "exp-0", name: "usage-suite:run-0" } as never,
      runs: [
        {
          id: "r1",
          name: "a",
          reference_example_id: "e1",
          extra: { metadata: { tally_usage: { "gpt-x": { input: 5, output: 2, savedInput: 1 } } } },
        },
        { id: "r2", name: "b", reference_example_id: "e2", extra: { metadata: { tally_usage: "garbage" } } },
        { id: "r3", name: "c", reference_example_id: "e3" },
      ] as never,
      feedback: [],
    });
    expect(outcomes.map((o) => o.usage)).toEqual([{ "gpt-x": { input: 5, output: 2, savedInput: 1 } }, undefined, undefined]);
    expect(totalUsage(outcomes)).toEqual({ "gpt-x": { input: 5, output: 2, savedInput: 1 } });
  });
});

describe("gates", () => {
  test("maxCostUsd and maxTokens are validated like the other gates", () => {
    expect(validateGates({ maxCostUsd: 0.5, maxTokens: 1000 })).toEqual({ maxCostUsd: 0.5, maxTokens: 1000 });
    expect(() => validateGates({ maxCostUsd: -1 })).toThrow('gate "maxCostUsd" must be a number of USD ≥ 0, got -1');
    expect(() => validateGates({ maxCostUsd: "1" })).toThrow('gate "maxCostUsd" must be a number of USD ≥ 0, got "1"');
    expect(() => validateGates({ maxTokens: 1.5 })).toThrow('gate "maxTokens" must be a whole number ≥ 0, got 1.5');
  });

  test("judged per experiment on what was spent (saved tokens are free)", () => {
    const usage = { "gpt-x": { input: 1000, output: 200, savedInput: 1_000_000 } };
    const pass = report([tested("a", usage)], { gates: { maxCostUsd: 0.005, maxTokens: 1200 } }).gates;
    expect(pass).toEqual([
      { name: "maxTokens", ok: true, message: `tokens 1,200 ≤ 1,200 (${EXP})` },
      { name: "maxCostUsd", ok: true, message: `cost $0.0045 ≤ $0.005 (${EXP})` },
    ]);
    const fail = report([tested("a", usage)], { gates: { maxCostUsd: 0.004, maxTokens: 1000 } }).gates;
    expect(fail).toEqual([
      { name: "maxTokens", ok: false, message: `tokens 1,200 > 1,000 (${EXP})` },
      { name: "maxCostUsd", ok: false, message: `cost $0.0045 > $0.004 (${EXP})` },
    ]);
  });

  test("an unknown cost fails maxCostUsd, naming the unpriced models; no model calls cost $0", () => {
    const gates = report([tested("a", { "gpt-x": { input: 1, output: 1 } }), tested("b", { "new-model": { input: 1, output: 1 } })], {
      gates: { maxCostUsd: 100 },
    }).gates;
    expect(gates).toEqual([
      { name: "maxCostUsd", ok: false, message: `cost unknown: no price for "new-model" (set the prices option), need ≤ $100 (${EXP})` },
    ]);
    expect(
      judgeGates({ maxCostUsd: 0, maxTokens: 0 }, [
        { name: "e", passRate: 1, scores: {}, regressions: 0, delivered: { runs: 1, expected: 1 } },
      ]),
    ).toEqual([
      { name: "maxTokens", ok: true, message: "tokens 0 ≤ 0 (e)" },
      { name: "maxCostUsd", ok: true, message: "cost $0 ≤ $0 (e)" },
    ]);
  });
});

describe("tally report merge", () => {
  test("adds the shards' tokens and costs; unknown in one shard is unknown in the whole", () => {
    const shard = (name: string, usage: ModelUsage, key = "k1") => {
      const r = report([tested(name, usage)], { baselineUsage: { "gpt-x": { input: 1, output: 1 } } });
      return { file: `${name}.json`, report: { ...r, run: { ...r.run, key } } };
    };
    const merged = mergeReports(
      [shard("a", { "gpt-x": { input: 1000, output: 0 } }), shard("b", { "gpt-x": { input: 0, output: 100, savedOutput: 7 } })],
      {
        maxTokens: 1000,
      },
    );
    expect(validateReport(merged)).toEqual([]);
    const e = merged.experiments[0]!;
    expect(e.tokens).toEqual({ input: 1000, output: 100, total: 1100, saved: 7 });
    expect(e.cost).toEqual({ usd: 0.0035, savedUsd: 0.00007, unknownModels: [] });
    expect(e.models).toEqual({ "gpt-x": { input: 1000, output: 100, total: 1100, saved: 7, costUsd: 0.0035 } });
    expect(e.baseline).toMatchObject({ tokens: { total: 2 }, costUsd: 0.0000125 });
    expect(merged.gates).toEqual([{ name: "maxTokens", ok: false, message: `tokens 1,100 > 1,000 (${EXP})` }]);

    const withUnknown = mergeUsageFields([
      { tokens: { input: 1, output: 0, total: 1, saved: 0 }, cost: { usd: 1, savedUsd: 0, unknownModels: [] } },
      { tokens: { input: 1, output: 0, total: 1, saved: 0 }, cost: { usd: null, savedUsd: 0, unknownModels: ["z"] } },
      {},
    ]);
    expect(withUnknown.cost).toEqual({ usd: null, savedUsd: 0, unknownModels: ["z"] });
    expect(mergeUsageFields([{}, {}])).toEqual({});
  });
});
