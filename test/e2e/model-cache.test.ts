import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { startServer } from "../../packages/store/dist/index.js";
import { type Standin, startAnthropicStandin, startOpenAiStandin } from "../support/model-standins.ts";
import { type Run, withReads } from "../support/reads.ts";
import { MATRIX, type ProcessResult, runJest, runVitest } from "../support/run-vitest.ts";
import { generateSuite, writeTallyTestFile } from "../support/suite.ts";

// The model-call cache end to end: real `openai` and `@anthropic-ai/sdk` clients, wrapped by
// langsmith's wrappers, call local stand-ins of both APIs from Vitest threads, Vitest forks and Jest
// workers, two files at once. The first run records; the second replays with the stand-ins stopped
// and gets the very same answers (each stand-in answer carries a call counter, so a fresh call would
// differ); a call the cache lacks fails its test in replay mode, naming method, URL and key. What
// the server received says which runs and LLM spans were answered from the cache, and no API key
// reaches the cache folder.

type Server = Awaited<ReturnType<typeof startServer>>;
let server: Server | undefined;
let standins: Standin[] = [];
afterEach(async () => {
  await Promise.all(standins.map((s) => s.close()));
  standins = [];
  await server?.close();
  server = undefined;
});

const OPENAI_KEY = "sk-SECRET-openai-0123456789";
const ANTHROPIC_KEY = "sk-ant-SECRET-anthropic-9876543210";

/** One file's tests: every kind of call (plain, streamed, tool call, JSON mode) on both SDKs. */
function modelFile(f: number, runner: "vitest" | "jest"): string {
  const imports =
    `import OpenAI from "openai";\nimport Anthropic from "@anthropic-ai/sdk";\n` +
    `import { wrapOpenAI } from "langsmith/wrappers/openai";\nimport { wrapAnthropic } from "langsmith/wrappers/anthropic";\n`;
  const any = runner === "jest" ? ": any" : "";
  return `${imports}
const openai = wrapOpenAI(new OpenAI({ apiKey: ${JSON.stringify(OPENAI_KEY)}, maxRetries: 0 }));
const anthropic = wrapAnthropic(new Anthropic({ apiKey: ${JSON.stringify(ANTHROPIC_KEY)}, maxRetries: 0 }));
const weather = { type: "function", function: { name: "weather", description: "Weather in a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } };

ls.describe("model-cache", () => {
  ls.test("openai plain ${f}", { inputs: { q: "plain ${f}" } }, async ({ inputs }${any}) => {
    const r = await openai.chat.completions.create({ model: "gpt-x", messages: [{ role: "user", content: inputs.q }] });
    return { answer: r.choices[0].message.content };
  });
  ls.test("openai stream ${f}", { inputs: { q: "stream ${f}" } }, async ({ inputs }${any}) => {
    const s = await openai.chat.completions.create({ model: "gpt-x", stream: true, messages: [{ role: "user", content: inputs.q }] });
    let answer = "";
    let chunks = 0;
    for await (const c of s) { answer += c.choices[0]?.delta?.content ?? ""; chunks++; }
    ls.expect(chunks).toBeGreaterThan(3);
    return { answer };
  });
  ls.test("openai tool ${f}", { inputs: { q: "tool ${f}" } }, async ({ inputs }${any}) => {
    const r = await openai.chat.completions.create({ model: "gpt-x", tools: [weather${runner === "jest" ? " as any" : ""}], messages: [{ role: "user", content: inputs.q }] });
    const call = r.choices[0].message.tool_calls[0];
    ls.expect(JSON.parse(call.function.arguments)).toEqual({ city: "Paris" });
    return { answer: call.id };
  });
  ls.test("openai json ${f}", { inputs: { q: "json ${f}" } }, async ({ inputs }${any}) => {
    const r = await openai.chat.completions.create({ model: "gpt-x", response_format: { type: "json_object" }, messages: [{ role: "user", content: inputs.q }] });
    return { answer: JSON.parse(r.choices[0].message.content) };
  });
  ls.test("anthropic plain ${f}", { inputs: { q: "a-plain ${f}" } }, async ({ inputs }${any}) => {
    const m = await anthropic.messages.create({ model: "claude-x", max_tokens: 50, messages: [{ role: "user", content: inputs.q }] });
    return { answer: m.content[0].text };
  });
  ls.test("anthropic stream ${f}", { inputs: { q: "a-stream ${f}" } }, async ({ inputs }${any}) => {
    const s = await anthropic.messages.create({ model: "claude-x", max_tokens: 50, stream: true, messages: [{ role: "user", content: inputs.q }] });
    let answer = "";
    for await (const e of s) if (e.type === "content_block_delta" && e.delta.type === "text_delta") answer += e.delta.text;
    return { answer };
  });
  ls.test("anthropic tool ${f}", { inputs: { q: "a-tool ${f}" } }, async ({ inputs }${any}) => {
    const m = await anthropic.messages.create({ model: "claude-x", max_tokens: 50, tools: [{ name: "weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }], messages: [{ role: "user", content: inputs.q }] });
    const use = m.content.find((b${any}) => b.type === "tool_use");
    ls.expect(use.input).toEqual({ city: "Paris" });
    return { answer: use.id };
  });
  // Every file asks this: workers record the same key at once.
  ls.test("shared ${f}", { inputs: { q: "shared" } }, async ({ inputs }${any}) => {
    const r = await openai.chat.completions.create({ model: "gpt-x", messages: [{ role: "user", content: inputs.q }] });
    ls.expect(r.choices[0].message.content).toMatch(/^echo: shared #\\d+$/);
    return { ok: true };
  });
});
`;
}

const FILES = 2;
const TESTS_PER_FILE = 8;
/** Model calls per file: one per test. */
const CALLS = FILES * TESTS_PER_FILE;

type Setup = { name: string; runner: "vitest" | "jest"; pkg: string; testOptions?: string; args: string[] };
const SETUPS: Setup[] = [
  { name: "Vitest threads", runner: "vitest", pkg: "vitest4", testOptions: `pool: "threads",`, args: [] },
  { name: "Vitest forks", runner: "vitest", pkg: "vitest4", testOptions: `pool: "forks",`, args: [] },
  { name: "Jest workers", runner: "jest", pkg: "jest30", args: ["--maxWorkers=2"] },
];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe.each(SETUPS)("$name: the model-call cache", (setup) => {
  test("records, replays with the providers stopped, fails a replay miss by name, and keeps keys out", async () => {
    server = await startServer({});
    const backend = withReads(server.url, async () => {});
    const openai = await startOpenAiStandin();
    const anthropic = await startAnthropicStandin();
    standins = [openai, anthropic];
    const suite = generateSuite(join(MATRIX, setup.pkg, ".suites", `model-cache-${setup.name.replace(/\W+/g, "-")}`), {
      flavour: "tally",
      runner: setup.runner,
      files: 0,
      tests: 0,
      dataset: "model-cache",
      testOptions: setup.testOptions,
      jestOptions: `workerIdleMemoryLimit: "1GB",`,
    });
    for (let f = 0; f < FILES; f++) writeTallyTestFile(suite, setup.runner, `models-${f}`, modelFile(f, setup.runner));
    const cacheDir = join(suite.dir, ".tally-cache");
    const reportFile = join(suite.dir, "report.json");
    const env = (mode: string) => ({
      LANGSMITH_API_KEY: "fake-key",
      LANGSMITH_ENDPOINT: server!.url,
      OPENAI_BASE_URL: openai.url,
      ANTHROPIC_BASE_URL: anthropic.url,
      TALLY_CACHE: mode,
      TALLY_REPORT_FILE: reportFile,
    });
    const run = (mode: string): Promise<ProcessResult> =>
      (setup.runner === "jest" ? runJest : runVitest)(setup.pkg, suite.dir, setup.args, env(mode));
    const report = () => JSON.parse(readFileSync(reportFile, "utf8")).experiments[0];
    const experimentRuns = async (name: string) => {
      const session = await backend.sessionByName(name);
      return backend.runsOf(session!.id);
    };
    const experimentName = (out: string) => out.match(/delivered to "(model-cache:[^"]+)"/)![1]!;
    const answers = (runs: Run[]) =>
      Object.fromEntries(
        runs
          .filter((r) => !r.parent_run_id && !r.name.startsWith("shared"))
          .map((r) => [r.name, JSON.stringify(r.outputs)])
          .sort(),
      );

    // 1. auto, providers up: every call goes out once and is recorded.
    const recorded = await run("auto");
    const out1 = recorded.stdout + recorded.stderr;
    expect(recorded.code, out1).toBe(0);
    // The shared call is a hit for a file that runs after another recorded it, else recorded again.
    const sharedHits = CALLS - openai.requests.length - anthropic.requests.length;
    expect(sharedHits).toBeGreaterThanOrEqual(0);
    expect(sharedHits).toBeLessThan(FILES);
    expect(out1).toContain(`tally:   model calls: ${sharedHits} from the cache, ${CALLS - sharedHits} recorded, 0 missed`);
    expect(report().cache).toEqual({ hit: sharedHits, miss: 0, recorded: CALLS - sharedHits });
    const runs1 = await experimentRuns(experimentName(out1));
    const roots1 = runs1.filter((r) => !r.parent_run_id);
    expect(roots1).toHaveLength(CALLS);
    const marks1 = roots1.map((r) => `${r.name.startsWith("shared") ? "shared" : "own"}: ${r.extra?.metadata?.tally_cache}`);
    expect(marks1.filter((m) => m === "own: recorded")).toHaveLength(CALLS - FILES);
    expect(marks1.filter((m) => m === "shared: hit")).toHaveLength(sharedHits);

    // The cache folder holds one entry per distinct call (the shared one once), whole, and no key.
    const entries = filesUnder(cacheDir).filter((p) => p.endsWith(".json"));
    expect(entries).toHaveLength(CALLS - (FILES - 1));
    const streamed = entries.map((p) => JSON.parse(readFileSync(p, "utf8"))).filter((e) => e.response.chunks);
    expect(streamed.length).toBe(2 * FILES);
    for (const e of streamed) expect(e.response.chunks.length).toBeGreaterThan(3);
    for (const p of filesUnder(cacheDir)) {
      const text = readFileSync(p, "utf8");
      expect(text, p).not.toContain("SECRET");
      expect(text, p).not.toMatch(/authorization|x-api-key/i);
    }

    // 2. replay, providers stopped: the same answers, from the cache, marked on runs and LLM spans.
    const calledBefore = openai.requests.length + anthropic.requests.length;
    await openai.close();
    await anthropic.close();
    const replayed = await run("replay");
    const out2 = replayed.stdout + replayed.stderr;
    expect(replayed.code, out2).toBe(0);
    expect(openai.requests.length + anthropic.requests.length).toBe(calledBefore);
    expect(out2).toContain(`tally:   model calls: ${CALLS} from the cache, 0 recorded, 0 missed`);
    expect(report().cache).toEqual({ hit: CALLS, miss: 0, recorded: 0 });
    expect(
      report().tests.every((t: { cache?: unknown }) => JSON.stringify(t.cache) === JSON.stringify({ hit: 1, miss: 0, recorded: 0 })),
    ).toBe(true);
    const runs2 = await experimentRuns(experimentName(out2));
    expect(answers(runs2)).toEqual(answers(runs1));
    const roots2 = runs2.filter((r) => !r.parent_run_id);
    expect(new Set(roots2.map((r) => r.extra?.metadata?.tally_cache))).toEqual(new Set(["hit"]));
    const llm = runs2.filter((r) => r.run_type === "llm");
    expect(llm).toHaveLength(CALLS);
    expect(new Set(llm.map((r) => r.extra?.metadata?.tally_cache))).toEqual(new Set(["hit"]));

    // 3. replay with a call never recorded: that test fails, by name, with method, URL and key.
    if (setup.name === "Vitest forks") return;
    writeTallyTestFile(
      suite,
      setup.runner,
      "unrecorded",
      `import OpenAI from "openai";
const openai = new OpenAI({ apiKey: "sk-x", maxRetries: 0 });
ls.describe("model-cache", () => {
  ls.test("never recorded", { inputs: { q: "new" } }, async () => {
    // Even a caller that swallows the error fails: the miss is the test's.
    await openai.chat.completions.create({ model: "gpt-x", messages: [{ role: "user", content: "never asked before" }] }).catch(() => undefined);
  });
});`,
    );
    const missed = await run("replay");
    const out3 = missed.stdout + missed.stderr;
    expect(missed.code, out3).toBe(1);
    expect(out3).toMatch(
      new RegExp(`tally cache: no cache entry for POST ${openai.url.replace(/[.]/g, "\\.")}/chat/completions \\(key [0-9a-f]{64}\\)`),
    );
    expect(out3).toContain(`tally:   model calls: ${CALLS} from the cache, 0 recorded, 1 missed`);
    const failed = report().tests.filter((t: { status: string }) => t.status === "failed");
    expect(failed.map((t: { name: string }) => t.name)).toEqual([expect.stringContaining("never recorded")]);
    expect(failed[0].cache).toEqual({ hit: 0, miss: 1, recorded: 0 });

    // 4. a truncated entry: replay fails the call naming the file; auto records it again, saying so.
    if (setup.name !== "Vitest threads") return;
    const victim = entries.find((p) => JSON.parse(readFileSync(p, "utf8")).test === "openai plain 0")!;
    writeFileSync(victim, readFileSync(victim, "utf8").slice(0, 120));
    rmSync(join(suite.dir, "evals", "unrecorded.test.mjs"));
    const corrupt = await run("replay");
    const out4 = corrupt.stdout + corrupt.stderr;
    expect(corrupt.code, out4).toBe(1);
    expect(out4).toContain(
      `cache entry ${victim} is unusable (not valid JSON (120 bytes; truncated?)); in replay mode that fails the call POST`,
    );
    standins = [await startOpenAiStandin({ port: openai.port }), await startAnthropicStandin({ port: anthropic.port })];
    const healed = await run("auto");
    const out5 = healed.stdout + healed.stderr;
    expect(healed.code, out5).toBe(0);
    expect(out5).toContain(`tally: model cache: cache entry ${victim} is unusable (not valid JSON`);
    expect(out5).toContain(`tally:   model calls: ${CALLS - 1} from the cache, 1 recorded, 0 missed`);
    expect(JSON.parse(readFileSync(victim, "utf8")).response.body).toContain("echo: plain 0");
  });
});

// Cache × trials: each trial of a test records its own answer (the trial index is part of the key),
// so a replay reproduces the trials' spread rather than one answer copied into every trial.
describe("Vitest threads: the model-call cache with trials", () => {
  test("3 trials record 3 answers; replayed with the provider stopped, each trial gets its own back", async () => {
    server = await startServer({});
    const backend = withReads(server.url, async () => {});
    const openai = await startOpenAiStandin();
    standins = [openai];
    const suite = generateSuite(join(MATRIX, "vitest4", ".suites", "model-cache-trials"), {
      flavour: "tally",
      runner: "vitest",
      files: 0,
      tests: 0,
      dataset: "model-cache-trials",
      testOptions: `pool: "threads",`,
    });
    writeTallyTestFile(
      suite,
      "vitest",
      "trials",
      `import OpenAI from "openai";
import { wrapOpenAI } from "langsmith/wrappers/openai";
const openai = wrapOpenAI(new OpenAI({ apiKey: "sk-x", maxRetries: 0 }));
ls.describe("model-cache-trials", () => {
  ls.test("same question", { inputs: { q: "same question" } }, async ({ inputs }) => {
    const r = await openai.chat.completions.create({ model: "gpt-x", messages: [{ role: "user", content: inputs.q }] });
    return { answer: r.choices[0].message.content };
  });
});`,
    );
    const env = (mode: string) => ({
      LANGSMITH_API_KEY: "fake-key",
      LANGSMITH_ENDPOINT: server!.url,
      OPENAI_BASE_URL: openai.url,
      TALLY_CACHE: mode,
      TALLY_TRIALS: "3",
    });
    /** The answer of each trial, by `metadata.tally_trial`. */
    const answersByTrial = async (out: string) => {
      const name = out.match(/delivered to "(model-cache-trials:[^"]+)"/)![1]!;
      const runs = await backend.runsOf((await backend.sessionByName(name))!.id);
      return Object.fromEntries(
        runs
          .filter((r) => !r.parent_run_id)
          .map((r) => [String(r.extra?.metadata?.tally_trial), (r.outputs as { answer: string }).answer])
          .sort(),
      );
    };

    const recorded = await runVitest("vitest4", suite.dir, [], env("record"));
    const out1 = recorded.stdout + recorded.stderr;
    expect(recorded.code, out1).toBe(0);
    expect(openai.requests).toHaveLength(3);
    const first = await answersByTrial(out1);
    expect(Object.keys(first)).toEqual(["0", "1", "2"]);
    // Three calls, three answers (the stand-in numbers each one).
    expect(new Set(Object.values(first)).size).toBe(3);
    expect(filesUnder(join(suite.dir, ".tally-cache")).filter((p) => p.endsWith(".json"))).toHaveLength(3);

    await openai.close();
    const replayed = await runVitest("vitest4", suite.dir, [], env("replay"));
    const out2 = replayed.stdout + replayed.stderr;
    expect(replayed.code, out2).toBe(0);
    expect(out2).toContain("tally:   model calls: 3 from the cache, 0 recorded, 0 missed");
    expect(openai.requests).toHaveLength(3);
    expect(await answersByTrial(out2)).toEqual(first);
  });
});
