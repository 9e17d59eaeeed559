import { describe, expect, test } from "vitest";
import { uuid7 } from "../wire/ids.js";
import { ClientTracker } from "./client-tracker.js";
import type { LangsmithModules } from "./langsmith-types.js";
import type { KVMap } from "./ls-types.js";
import type { WorkerPluginContext, WorkerTest } from "./plugins.js";
import { spanTokens, UNNAMED_MODEL, usagePlugin } from "./usage.js";

// The token-usage plugin: what it reads of the LLM spans a test's langsmith client is given (through
// the client tracker's observer), summed per model, hits of the model-call cache as saved, each span
// once, and a span still open when the test ends waited for (within bounds).

type Observer = (run: KVMap, id: unknown) => void;

function setUp(settleMs = 100) {
  let observer: Observer | undefined;
  const plugin = usagePlugin(settleMs);
  const ctx = {
    runtime: { active: true, runKey: "rk", noteProblem() {}, annotateCurrentSpan() {}, observeRuns: (o: Observer) => (observer = o) },
    currentTest: () => undefined,
  } as unknown as WorkerPluginContext;
  plugin.setup!(ctx);
  const start = (name: string, tracked = true) => {
    const t = { name, fullName: name, runId: uuid7(), tracked } as WorkerTest;
    plugin.onTestStart!(t);
    return t;
  };
  const end = (t: WorkerTest) => plugin.beforeTestEnd!(t, { passed: true });
  return { plugin, start, end, observe: (run: KVMap, id: string) => observer!(run, id), observer: () => observer };
}

const llm = (trace: string, more: KVMap = {}): KVMap => ({ trace_id: trace, run_type: "llm", end_time: 2, ...more });
const usage = (input: number, output: number) => ({
  outputs: { usage_metadata: { input_tokens: input, output_tokens: output, total_tokens: input + output } },
});
const model = (name: string, more: KVMap = {}) => ({ extra: { metadata: { ls_model_name: name, ...more } } });

describe("the token-usage plugin", () => {
  test("sums a test's LLM spans per model; cache hits are saved; other runs and tests are not counted", async () => {
    const { start, end, observe } = setUp();
    const a = start("a");
    const b = start("b");
    observe(llm(a.runId, { ...usage(100, 20), ...model("gpt-x") }), "s1");
    observe(llm(a.runId, { ...usage(7, 3), ...model("gpt-x") }), "s2");
    observe(llm(a.runId, { ...usage(50, 5), ...model("claude-x") }), "s3");
    observe(llm(a.runId, { ...usage(40, 10), ...model("gpt-x", { tally_cache: "hit" }) }), "s4");
    // Not LLM spans (a chain returning the model's answer would count twice), another test's, no test's.
    observe({ ...llm(a.runId, usage(1000, 1000)), run_type: "chain" }, "s5");
    observe(llm(b.runId, { ...usage(1, 1), ...model("gpt-x") }), "s6");
    observe(llm(uuid7(), { ...usage(1000, 1000), ...model("gpt-x") }), "s7");
    const finish = await end(a);
    const expected = { "gpt-x": { input: 107, output: 23, savedInput: 40, savedOutput: 10 }, "claude-x": { input: 50, output: 5 } };
    expect(finish).toEqual({ usage: expected, metadata: { tally_usage: expected } });
    expect((await end(b))?.usage).toEqual({ "gpt-x": { input: 1, output: 1 } });
  });

  test("a span's create and update count once; a test without model calls gets nothing; untracked tests are not watched", async () => {
    const { start, end, observe } = setUp();
    const a = start("a");
    observe(llm(a.runId, { ...usage(10, 2), ...model("m") }), "s1");
    observe(llm(a.runId, { ...usage(10, 2), ...model("m") }), "s1");
    expect((await end(a))?.usage).toEqual({ m: { input: 10, output: 2 } });
    expect(await end(start("none"))).toBeUndefined();
    const u = start("untracked", false);
    observe(llm(u.runId, { ...usage(10, 2), ...model("m") }), "s2");
    expect(await end(u)).toBeUndefined();
  });

  test("waits for an LLM span still open when the test ends (langsmith ends it just after its caller got the answer)", async () => {
    const { start, end, observe } = setUp(1000);
    const a = start("a");
    observe(llm(a.runId, { end_time: undefined, ...model("m") }), "s1");
    setTimeout(() => observe(llm(a.runId, { ...usage(3, 4), ...model("m") }), "s1"), 30);
    expect((await end(a))?.usage).toEqual({ m: { input: 3, output: 4 } });
  });

  test("a span that never ends holds the test no longer than the bound, and counts nowhere", async () => {
    const { start, end, observe } = setUp(60);
    const a = start("a");
    observe(llm(a.runId, { end_time: undefined, ...model("m") }), "s1");
    const t0 = Date.now();
    expect(await end(a)).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  test("without a collector (no observeRuns) it does nothing", async () => {
    const plugin = usagePlugin();
    plugin.setup!({ runtime: { active: true }, currentTest: () => undefined } as unknown as WorkerPluginContext);
    const t = { runId: uuid7(), tracked: true } as WorkerTest;
    plugin.onTestStart!(t);
    expect(await plugin.beforeTestEnd!(t, { passed: true })).toBeUndefined();
  });
});

describe("a span's model and tokens", () => {
  test("usage_metadata in the outputs or (older wrappers' runs) in the metadata; the provider's own usage else", () => {
    expect(spanTokens({ ...usage(5, 6), ...model("gpt-x") })).toEqual({ model: "gpt-x", input: 5, output: 6, hit: false });
    expect(spanTokens({ extra: { metadata: { ls_model_name: "a", usage_metadata: { input_tokens: 1, output_tokens: 2 } } } })).toEqual({
      model: "a",
      input: 1,
      output: 2,
      hit: false,
    });
    // OpenAI's and Anthropic's own, in a span traced by hand; the model from the answer.
    expect(spanTokens({ outputs: { model: "gpt-4o-2024", usage: { prompt_tokens: 9, completion_tokens: 1 } } })).toEqual({
      model: "gpt-4o-2024",
      input: 9,
      output: 1,
      hit: false,
    });
    expect(
      spanTokens({ outputs: { usage: { input_tokens: 4, output_tokens: 2 } }, extra: { invocation_params: { model: "claude-x" } } }),
    ).toEqual({
      model: "claude-x",
      input: 4,
      output: 2,
      hit: false,
    });
    expect(spanTokens({ outputs: { usage_metadata: { input_tokens: 1, output_tokens: 0 } } })?.model).toBe(UNNAMED_MODEL);
    expect(spanTokens({ outputs: { answer: "no usage" }, ...model("m") })).toBeUndefined();
    expect(spanTokens({ outputs: { usage_metadata: { input_tokens: "12", output_tokens: -1 } } })).toBeUndefined();
    expect(spanTokens({ error: "boom" })).toBeUndefined();
  });
});

describe("with the real langsmith client and traceable", () => {
  test("the runs a test's spans are queued with reach the plugin through the client tracker", async () => {
    const langsmith = await import("langsmith");
    const { traceable, getCurrentRunTree } = await import("langsmith/traceable");
    const { RunTree } = await import("langsmith/run_trees");
    const url = "http://127.0.0.1:9";
    const tracker = new ClientTracker(url, "token");
    tracker.install({ Client: langsmith.Client } as unknown as LangsmithModules);
    const { plugin, start } = setUp();
    // The runtime's observeRuns hands the observer to the tracker.
    const ctx = {
      runtime: { active: true, observeRuns: (o: Observer) => (tracker.runObserver = o) },
      currentTest: () => undefined,
    } as unknown as WorkerPluginContext;
    plugin.setup!(ctx);
    const client = new langsmith.Client({ apiUrl: url, apiKey: "token", manualFlushMode: true });
    const t = start("real");
    const root = new RunTree({ name: "real", id: t.runId, client, tracingEnabled: true, project_name: "p" });
    await root.postRun();
    const model = (cached: boolean) =>
      traceable(
        async (q: string) => {
          // As the cache plugin marks the span it answered (runtime.annotateCurrentSpan).
          if (cached) {
            const span = getCurrentRunTree();
            span.extra = { ...span.extra, metadata: { ...span.extra?.metadata, tally_cache: "hit" } };
          }
          return { answer: q, usage_metadata: { input_tokens: 12, output_tokens: 3, total_tokens: 15 } };
        },
        { name: "ChatOpenAI", run_type: "llm", metadata: { ls_model_name: "gpt-x", ls_provider: "openai" }, client, tracingEnabled: true },
      );
    await model(false)(root as never, "one");
    await model(false)(root as never, "two");
    await model(true)(root as never, "three");
    const finish = await plugin.beforeTestEnd!(t, { passed: true });
    expect(finish?.usage).toEqual({ "gpt-x": { input: 24, output: 6, savedInput: 12, savedOutput: 3 } });
    tracker.runObserver = undefined;
  });
});
