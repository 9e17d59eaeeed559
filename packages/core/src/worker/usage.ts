import type { ModelUsage } from "../protocol/tracked-test.js";
import type { KVMap } from "./ls-types.js";
import type { WorkerPlugin } from "./plugins.js";

// Token usage, as a worker plugin: every run any langsmith client in the worker is given passes the
// observer (client-tracker.ts), which keeps the LLM spans of the tests running, by trace (a test's
// spans carry its root run's id as their trace id). When a test ends its spans' tokens are summed per
// model into the test (the report prices them) and onto its root run as `tally_usage`, so that a
// baseline read back from the backend has them too. A span the model-call cache answered
// (`tally_cache: "hit"`, see model-cache.ts) spent nothing: its tokens count as saved.

/** The name a span's tokens go under when it names no model. */
export const UNNAMED_MODEL = "(unnamed model)";

interface SpanTokens {
  model: string;
  input: number;
  output: number;
  hit: boolean;
}

interface TestSpans {
  /** Ended LLM spans with usage, by span id (a create and a later update of one span count once). */
  ended: Map<string, SpanTokens>;
  /** LLM spans created and not ended yet. */
  open: Set<string>;
}

/** How long a test's end waits at most for LLM spans still open (langsmith ends a span just after its caller got the answer). */
const SETTLE_MS = 250;

export function usagePlugin(settleMs = SETTLE_MS): WorkerPlugin {
  let observing = false;
  // By root run id: only tests that started and have not ended.
  const tests = new Map<string, TestSpans>();

  const observe = (run: KVMap, id: unknown) => {
    // First what is cheapest and rules most runs out: the root runs and spans of no running test, and not LLM spans.
    const t = tests.get(run.trace_id as string);
    if (t === undefined || run.run_type !== "llm" || typeof id !== "string") return;
    if (run.end_time === undefined || run.end_time === null) {
      t.open.add(id);
      return;
    }
    t.open.delete(id);
    const tokens = spanTokens(run);
    if (tokens) t.ended.set(id, tokens);
  };

  return {
    name: "token-usage",
    setup(ctx) {
      if (!ctx.runtime.active || !ctx.runtime.observeRuns) return;
      ctx.runtime.observeRuns(observe);
      observing = true;
    },
    onTestStart(test) {
      if (observing && test.tracked) tests.set(test.runId, { ended: new Map(), open: new Set() });
    },
    async beforeTestEnd(test) {
      const t = tests.get(test.runId);
      if (!t) return undefined;
      if (t.open.size > 0) await settled(t, settleMs);
      tests.delete(test.runId);
      const usage = sumSpans(t.ended.values());
      return usage ? { usage, metadata: { tally_usage: usage } } : undefined;
    },
    onTestEnd(test) {
      tests.delete(test.runId);
    },
  };
}

/** Until no LLM span of the test is open, or `ms` passed: a few turns of the event loop, then short sleeps. */
async function settled(t: TestSpans, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (let turn = 0; t.open.size > 0 && Date.now() < deadline; turn++) {
    await new Promise<void>((resolve) => (turn < 3 ? setImmediate(resolve) : setTimeout(resolve, 5)));
  }
}

/** The spans' tokens per model; undefined when none reported any. */
export function sumSpans(spans: Iterable<SpanTokens>): ModelUsage | undefined {
  let usage: ModelUsage | undefined;
  for (const s of spans) {
    usage ??= {};
    const u = (usage[s.model] ??= { input: 0, output: 0 });
    if (s.hit) {
      if (s.input) u.savedInput = (u.savedInput ?? 0) + s.input;
      if (s.output) u.savedOutput = (u.savedOutput ?? 0) + s.output;
    } else {
      u.input += s.input;
      u.output += s.output;
    }
  }
  return usage;
}

const count = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);
const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const record = (v: unknown): KVMap | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as KVMap) : undefined);

/**
 * An ended LLM span's model and tokens, or undefined when it reports none. langsmith's wrappers (0.3
 * to 0.12) put `usage_metadata` in the outputs and in the metadata, and the model's name in
 * `ls_model_name`; a span traced by hand may have only the provider's own `usage` and `model`.
 */
export function spanTokens(run: KVMap): SpanTokens | undefined {
  const outputs = record(run.outputs);
  const extra = record(run.extra);
  const metadata = record(extra?.metadata);
  let input: number | undefined;
  let output: number | undefined;
  const standard = record(outputs?.usage_metadata) ?? record(metadata?.usage_metadata);
  if (standard) {
    input = count(standard.input_tokens);
    output = count(standard.output_tokens);
  } else {
    // The providers' own: OpenAI's prompt/completion tokens, Anthropic's input/output tokens.
    const raw = record(outputs?.usage);
    input = count(raw?.prompt_tokens) ?? count(raw?.input_tokens);
    output = count(raw?.completion_tokens) ?? count(raw?.output_tokens);
  }
  if (input === undefined && output === undefined) return undefined;
  const model =
    text(metadata?.ls_model_name) ??
    text(record(extra?.invocation_params)?.model) ??
    text(record(metadata?.ls_invocation_params)?.model) ??
    text(outputs?.model) ??
    UNNAMED_MODEL;
  return { model, input: input ?? 0, output: output ?? 0, hit: metadata?.tally_cache === "hit" };
}
