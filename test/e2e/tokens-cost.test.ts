import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { startServer } from "../../packages/store/dist/index.js";
import { type Standin, startAnthropicStandin, startOpenAiStandin } from "../support/model-standins.ts";
import { type Run, withReads } from "../support/reads.ts";
import { validateReport } from "../support/report-schema.ts";
import { MATRIX, type ProcessResult, runJest, runVitest } from "../support/run-vitest.ts";
import { generateSuite, writeTallyTestFile } from "../support/suite.ts";

// Tokens and cost end to end: real `openai` and `@anthropic-ai/sdk` clients wrapped by langsmith's
// wrappers call local stand-ins of both APIs from Vitest and Jest workers. Each test returns the
// usage its SDK parsed from the provider's answer; the report's tokens and cost must match those
// (summed per test and experiment, priced per million tokens), and so must the `tally_usage` the
// server got on each root run. Four runs: recorded by the model-call cache (spent), replayed (all
// saved, Δ against the first run read back from the server), a maxCostUsd gate that fails the run,
// and a model without a price (cost unknown, never $0, the gate naming the model).

type Server = Awaited<ReturnType<typeof startServer>>;
let server: Server | undefined;
let standins: Standin[] = [];
afterEach(async () => {
  await Promise.all(standins.map((s) => s.close()));
  standins = [];
  await server?.close();
  server = undefined;
});

const PRICES = { "gpt-x": { input: 2.5, output: 10 }, "claude-x": { input: 3, output: 15 } };
const FILES = 2;

/** One file: OpenAI once and twice, Anthropic plain and streamed, and a test that calls no model. */
function modelFile(f: number, runner: "vitest" | "jest"): string {
  const any = runner === "jest" ? ": any" : "";
  return `import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { wrapOpenAI } from "langsmith/wrappers/openai";
import { wrapAnthropic } from "langsmith/wrappers/anthropic";
const openai = wrapOpenAI(new OpenAI({ apiKey: "sk-test-openai", maxRetries: 0 }));
const anthropic = wrapAnthropic(new Anthropic({ apiKey: "sk-ant-test", maxRetries: 0 }));
const claude = process.env.CLAUDE_MODEL ?? "claude-x";
// What the SDK parsed of the provider's usage: the test's outputs carry it, for the e2e to check against.
const asked = async (q${any}) => {
  const r = await openai.chat.completions.create({ model: "gpt-x", messages: [{ role: "user", content: q }] });
  return { model: "gpt-x", input: r.usage.prompt_tokens, output: r.usage.completion_tokens };
};

ls.describe("tokens", () => {
  ls.test("openai ${f}", { inputs: { q: "question ${f}" } }, async ({ inputs }${any}) => ({ calls: [await asked(inputs.q)] }));
  ls.test("openai twice ${f}", { inputs: { q: "twice ${f}" } }, async ({ inputs }${any}) => ({
    calls: [await asked(inputs.q), await asked(inputs.q + " again, with a longer question this time")],
  }));
  ls.test("anthropic ${f}", { inputs: { q: "claude ${f}" } }, async ({ inputs }${any}) => {
    const m = await anthropic.messages.create({ model: claude, max_tokens: 50, messages: [{ role: "user", content: inputs.q }] });
    return { calls: [{ model: claude, input: m.usage.input_tokens, output: m.usage.output_tokens }] };
  });
  ls.test("anthropic stream ${f}", { inputs: { q: "stream ${f}" } }, async ({ inputs }${any}) => {
    const s = await anthropic.messages.create({ model: claude, max_tokens: 50, stream: true, messages: [{ role: "user", content: inputs.q }] });
    let input = 0;
    let output = 0;
    for await (const e of s${runner === "jest" ? " as any" : ""}) {
      if (e.type === "message_start") input = e.message.usage.input_tokens;
      if (e.type === "message_delta") output = e.usage.output_tokens;
    }
    return { calls: [{ model: claude, input, output }] };
  });
  ls.test("no model ${f}", { inputs: { q: "none ${f}" } }, async () => ({ calls: [] }));
});
`;
}

type Call = { model: string; input: number; output: number };
type Tokens = { input: number; output: number; total: number; saved: number };

/** What the tests' SDKs reported, from their root runs' outputs: per test name, and in all. */
function expectedOf(roots: Run[]) {
  const byTest = new Map<string, Call[]>();
  for (const r of roots) byTest.set(r.name, (r.outputs?.calls as Call[] | undefined) ?? []);
  const all = [...byTest.values()].flat();
  const input = all.reduce((n, c) => n + c.input, 0);
  const output = all.reduce((n, c) => n + c.output, 0);
  return { byTest, input, output, total: input + output, calls: all };
}

/** USD at PRICES, or null when a call's model has none. */
function priced(calls: Call[]): number | null {
  let usd = 0;
  for (const c of calls) {
    const p = PRICES[c.model as keyof typeof PRICES];
    if (!p) return null;
    usd += (c.input * p.input + c.output * p.output) / 1e6;
  }
  return usd;
}

const SETUPS = [
  { name: "Vitest", runner: "vitest" as const, pkg: "vitest4", args: [] as string[] },
  { name: "Jest", runner: "jest" as const, pkg: "jest30", args: ["--maxWorkers=2"] },
];

describe.each(SETUPS)("$name: tokens and cost", (setup) => {
  test("summed per test and experiment, priced, Δ against the baseline, cache hits saved, gates on cost", async () => {
    server = await startServer({});
    const backend = withReads(server.url, async () => {});
    const openai = await startOpenAiStandin();
    const anthropic = await startAnthropicStandin();
    standins = [openai, anthropic];
    // The options come from the environment when the config is read, so each run can have its own gates.
    const options = `JSON.parse(process.env.TALLY_E2E_OPTIONS ?? "{}")`;
    const suite = generateSuite(join(MATRIX, setup.pkg, ".suites", "tokens-cost"), {
      flavour: "tally",
      runner: setup.runner,
      files: 0,
      tests: 0,
      dataset: "tokens",
      ...(setup.runner === "jest"
        ? { jestOptions: `workerIdleMemoryLimit: "1GB", reporters: ["default", ["@tally/jest-preset/reporter", ${options}]],` }
        : { pluginOptions: options, testOptions: `pool: "threads",` }),
    });
    for (let f = 0; f < FILES; f++) writeTallyTestFile(suite, setup.runner, `tokens-${f}`, modelFile(f, setup.runner));
    const reportFile = join(suite.dir, "report.json");
    const run = async (mode: string, opts: object, env: Record<string, string> = {}) => {
      const r: ProcessResult = await (setup.runner === "jest" ? runJest : runVitest)(setup.pkg, suite.dir, setup.args, {
        LANGSMITH_API_KEY: "fake-key",
        LANGSMITH_ENDPOINT: server!.url,
        OPENAI_BASE_URL: openai.url,
        ANTHROPIC_BASE_URL: anthropic.url,
        TALLY_CACHE: mode,
        TALLY_REPORT_FILE: reportFile,
        TALLY_E2E_OPTIONS: JSON.stringify({ prices: PRICES, ...opts }),
        ...env,
      });
      const report = JSON.parse(readFileSync(reportFile, "utf8"));
      expect(validateReport(report)).toEqual([]);
      const exp = report.experiments[0];
      const session = await backend.sessionByName(exp.name);
      const roots = (await backend.runsOf(session!.id)).filter((r: Run) => !r.parent_run_id);
      return { code: r.code, out: r.stdout + r.stderr, report, exp, roots, expected: expectedOf(roots) };
    };
    const testsWithCalls = 4 * FILES;

    // 1. Recorded: every call goes to the stand-ins and is spent.
    const first = await run("record", {});
    expect(first.code, first.out).toBe(0);
    const e1 = first.expected;
    expect(e1.calls).toHaveLength(5 * FILES);
    expect(e1.total).toBeGreaterThan(0);
    expect(first.exp.tokens).toEqual({ input: e1.input, output: e1.output, total: e1.total, saved: 0 });
    const usd1 = priced(e1.calls)!;
    expect(first.exp.cost.usd).toBeCloseTo(usd1, 9);
    expect(first.exp.cost.unknownModels).toEqual([]);
    expect(Object.keys(first.exp.models).sort()).toEqual(["claude-x", "gpt-x"]);
    // Per test, as its SDK reported; a test that called no model has no tokens.
    for (const t of first.exp.tests as Array<{ name: string; runId: string; tokens?: Tokens; costUsd?: number }>) {
      const calls = first.expected.byTest.get(first.roots.find((r) => r.id === t.runId)!.name)!;
      if (calls.length === 0) {
        expect(t.tokens, t.name).toBeUndefined();
        continue;
      }
      const input = calls.reduce((n, c) => n + c.input, 0);
      const output = calls.reduce((n, c) => n + c.output, 0);
      expect(t.tokens, t.name).toEqual({ input, output, total: input + output, saved: 0 });
      expect(t.costUsd, t.name).toBeCloseTo(priced(calls)!, 9);
    }
    // Each root run carries its usage for a later run to compare with.
    const marked = first.roots.filter((r) => r.extra?.metadata?.tally_usage);
    expect(marked).toHaveLength(testsWithCalls);
    const usageOf = (r: Run) => r.extra?.metadata?.tally_usage as Record<string, { input: number; output: number }>;
    expect(marked.reduce((n, r) => n + Object.values(usageOf(r)).reduce((m, u) => m + u.input + u.output, 0), 0)).toBe(e1.total);
    const int = (n: number) => n.toLocaleString("en-US");
    expect(first.out).toContain(`tally:   tokens ${int(e1.total)} (in ${int(e1.input)} · out ${int(e1.output)}) · cost $`);
    expect(first.exp.baseline).toBeNull();

    // 2. Replayed with the stand-ins stopped: nothing spent, everything saved; Δ against the first run.
    const calledBefore = openai.requests.length + anthropic.requests.length;
    await openai.close();
    await anthropic.close();
    const second = await run("replay", {});
    expect(second.code, second.out).toBe(0);
    expect(openai.requests.length + anthropic.requests.length).toBe(calledBefore);
    expect(second.exp.tokens).toEqual({ input: 0, output: 0, total: 0, saved: e1.total });
    expect(second.exp.cost.usd).toBe(0);
    expect(second.exp.cost.savedUsd).toBeCloseTo(usd1, 9);
    expect(second.exp.baseline).toMatchObject({
      name: first.exp.name,
      tokens: { input: e1.input, output: e1.output, total: e1.total, saved: 0 },
    });
    expect(second.exp.baseline.costUsd).toBeCloseTo(usd1, 9);
    expect(second.out).toContain(`tally:   tokens 0 (in 0 · out 0) · cost $0 · Δ −${int(e1.total)} tokens, −$`);
    expect(second.out).toContain(` vs baseline · saved ${int(e1.total)} tokens by the cache ($`);

    // 3. Fresh calls with a budget they exceed: the gate fails the run, naming the cost.
    standins = [await startOpenAiStandin({ port: openai.port }), await startAnthropicStandin({ port: anthropic.port })];
    const third = await run("off", { gates: { maxCostUsd: 0.000001, maxTokens: 1_000_000 } });
    expect(third.code, third.out).toBe(1);
    const usd3 = priced(third.expected.calls)!;
    expect(third.exp.cost.usd).toBeCloseTo(usd3, 9);
    expect(third.report.gates.map((g: { name: string; ok: boolean }) => [g.name, g.ok])).toEqual([
      ["maxTokens", true],
      ["maxCostUsd", false],
    ]);
    expect(third.report.gates[1].message).toMatch(new RegExp(`^cost \\$0\\.\\d+ > \\$0\\.000001 \\(${third.exp.name}\\)$`));
    expect(third.out).toContain(third.report.gates[1].message);

    // 4. A model without a price: the cost is unknown (null, never $0), and the gate says which model.
    const fourth = await run("off", { gates: { maxCostUsd: 100 } }, { CLAUDE_MODEL: "claude-unpriced" });
    expect(fourth.code, fourth.out).toBe(1);
    expect(fourth.exp.cost).toEqual({ usd: null, savedUsd: 0, unknownModels: ["claude-unpriced"] });
    expect(fourth.exp.models["claude-unpriced"].costUsd).toBeNull();
    expect(fourth.exp.models["gpt-x"].costUsd).toBeGreaterThan(0);
    expect(fourth.exp.tokens.total).toBe(fourth.expected.total);
    const claudeTests = (fourth.exp.tests as Array<{ name: string; costUsd?: number | null }>).filter((t) => t.name.includes("anthropic"));
    expect(claudeTests.map((t) => t.costUsd)).toEqual(Array(2 * FILES).fill(null));
    const failed = fourth.report.gates.find((g: { name: string }) => g.name === "maxCostUsd");
    expect(failed).toEqual({
      name: "maxCostUsd",
      ok: false,
      message: `cost unknown: no price for "claude-unpriced" (set the prices option), need ≤ $100 (${fourth.exp.name})`,
    });
    expect(fourth.out).toContain(`cost unknown (no price for "claude-unpriced")`);
  });
});
