// The run page's waterfall, over a store filled through the real langsmith SDK (nested spans with
// known times, token usage in its three shapes, model-cache marks, an error, a span left running,
// clock skew, hostile strings), read over HTTP from the viewer.
import { Client } from "langsmith";
import { RunTree } from "langsmith/run_trees";
import { describe, expect, it } from "vitest";
import { uuid7 } from "@tally/core/wire";
import type { Run } from "../db/runs.js";
import type { Store } from "../db/store.js";
import type { RunningServer } from "../server/app.js";
import { seededUi } from "./seeded-ui.test.fixture.js";
import { barBox, cacheCounts, spanUsage, timeline, treeRows } from "./waterfall.js";

const XSS = `<script>alert("xss")</script>`;
const T0 = Date.parse("2025-07-01T12:00:00.000Z");

const ids: Record<string, string> = {};

/** root (0–2000 ms) with skewed, retrieve › embed, chat, failing tool, chat-2, and a span never ended. */
async function seed(srv: RunningServer): Promise<void> {
  const client = new Client({ apiUrl: srv.url, apiKey: "test-key" });
  const root = new RunTree({
    name: `agent ${XSS}`,
    run_type: "chain",
    inputs: { question: XSS, nested: { list: [1, 2], flag: true } },
    project_name: "waterfall-app",
    start_time: T0,
    client,
  });
  await root.postRun();
  const child = async (
    parent: RunTree,
    name: string,
    runType: string,
    from: number,
    to: number | null,
    end: { outputs?: Record<string, unknown>; error?: string; metadata?: Record<string, unknown> } = {},
  ) => {
    const run = parent.createChild({ name, run_type: runType, inputs: { step: name }, start_time: T0 + from });
    await run.postRun();
    if (to !== null) {
      await run.end(end.outputs ?? { ok: true }, end.error, T0 + to, end.metadata);
      await run.patchRun();
    }
    return run;
  };
  const skewed = await child(root, "skewed", "chain", -50, 50);
  const retrieve = await child(root, "retrieve", "retriever", 100, 500);
  const embed = await child(retrieve, "embed", "llm", 150, 300, {
    outputs: { vector: [0.1], usage: { prompt_tokens: 10, completion_tokens: 0, total_tokens: 10 } },
    metadata: { tally_cache: "hit" },
  });
  const chat = await child(root, "ChatModel", "llm", 500, 1500, {
    outputs: { content: `answer ${XSS}`, usage_metadata: { input_tokens: 100, output_tokens: 20, total_tokens: 120 } },
    metadata: { tally_cache: "recorded" },
  });
  const tool = await child(root, "lookup", "tool", 1500, 1800, { outputs: {}, error: `ToolError: <b>boom</b> ${XSS}` });
  const chat2 = await child(root, "ChatModel-2", "llm", 1800, 1950, {
    outputs: { content: "done" },
    metadata: { tally_cache: "miss", usage_metadata: { input_tokens: 5, output_tokens: 7, total_tokens: 12 } },
  });
  const open = await child(root, "never-ended", "chain", 1900, null);
  // As Tally does: the test's own mark (the sum of its calls) is set as it ends. (Set earlier, the SDK
  // would copy it into every child created after.)
  await root.end({ answer: "42" }, undefined, T0 + 2000, { tally_cache: "miss" });
  await root.patchRun();
  Object.assign(ids, {
    root: root.id,
    skewed: skewed.id,
    retrieve: retrieve.id,
    embed: embed.id,
    chat: chat.id,
    tool: tool.id,
    chat2: chat2.id,
    open: open.id,
  });

  // A trace still running: its root has no end, its child neither.
  const now = Date.now();
  const live = new RunTree({
    name: "live-root",
    run_type: "chain",
    inputs: {},
    project_name: "waterfall-app",
    start_time: now - 4000,
    client,
  });
  await live.postRun();
  const liveChild = live.createChild({ name: "live-child", run_type: "llm", inputs: {}, start_time: now - 2000 });
  await liveChild.postRun();
  ids.live = live.id;
  ids.liveChild = liveChild.id;

  await client.awaitPendingTraceBatches();
  const sessionId = (await client.readProject({ projectName: "waterfall-app" })).id;
  await client.createFeedback(root.id, "helpfulness", { score: 0.75, comment: `fine ${XSS}`, sessionId });
  await client.createFeedback(chat.id, "faithful", { score: 1, sessionId });
  await client.awaitPendingTraceBatches();
}

/** A trace of 320 spans: a chain 60 deep, and 259 siblings under the root. Straight into the store. */
function seedBig(store: Store): void {
  const traceId = uuid7();
  const start = Date.parse("2025-07-02T00:00:00.000Z");
  const iso = (ms: number) => new Date(ms).toISOString().replace("Z", "000Z");
  const dotted = (ms: number, id: string) => `${iso(ms).replace(/[-:.]/g, "")}${id}`;
  const ops: { kind: "create"; run: Record<string, unknown> & { id: string } }[] = [];
  const add = (id: string, parent: { id: string; dotted: string } | null, ms: number, name: string) => {
    const d = parent ? `${parent.dotted}.${dotted(ms, id)}` : dotted(ms, id);
    ops.push({
      kind: "create",
      run: {
        id,
        name,
        run_type: "chain",
        session_name: "big-traces",
        trace_id: traceId,
        parent_run_id: parent?.id,
        dotted_order: d,
        start_time: iso(ms),
        end_time: iso(ms + 10),
        inputs: { name },
        outputs: { ok: true },
      },
    });
    return { id, dotted: d };
  };
  const root = add(traceId, null, start, "big-root");
  ops[0]!.run.end_time = iso(start + 1000);
  let parent = root;
  for (let depth = 1; depth <= 60; depth++) parent = add(uuid7(), parent, start + depth, `deep-${depth}`);
  for (let i = 0; i < 259; i++) add(uuid7(), root, start + 100 + i, `wide-${String(i).padStart(3, "0")}`);
  store.runs.apply(ops as never);
  ids.big = traceId;
}

interface RowInfo {
  run: string;
  depth: number;
  parent: string | null;
  classes: string[];
  left: number;
  width: number;
  barClasses: string[];
  html: string;
}

/** The waterfall's rows as the page lists them. */
function rowsOf(text: string): RowInfo[] {
  const parts = text.split(/(?=<div class="span-row)/).slice(1);
  return parts.map((part) => {
    const head = /^<div class="([^"]*)"[^>]*data-run="([^"]+)" data-depth="(\d+)"(?: data-parent="([^"]+)")?/.exec(part);
    const bar = /<span class="(bar[^"]*)" style="left:([\d.]+)%;width:([\d.]+)%"><\/span>/.exec(part);
    expect(head, part.slice(0, 200)).not.toBeNull();
    expect(bar, part.slice(0, 400)).not.toBeNull();
    return {
      classes: head![1]!.split(" "),
      run: head![2]!,
      depth: Number(head![3]),
      parent: head![4] ?? null,
      barClasses: bar![1]!.split(" "),
      left: Number(bar![2]),
      width: Number(bar![3]),
      html: part,
    };
  });
}

const { get } = seededUi("tally-ui-trace-", async (srv) => {
  await seed(srv);
  seedBig(srv.store);
});

describe("the run page's waterfall", () => {
  it("lists every span once, in tree order, indented by depth", async () => {
    const { status, text } = await get(`/runs/${ids.root}`);
    expect(status).toBe(200);
    expect(text).toContain('<div class="waterfall"');
    const rows = rowsOf(text);
    expect(rows.map((r) => r.run)).toEqual([ids.root, ids.skewed, ids.retrieve, ids.embed, ids.chat, ids.tool, ids.chat2, ids.open]);
    expect(rows.map((r) => r.depth)).toEqual([0, 1, 1, 2, 1, 1, 1, 1]);
    expect(rows.map((r) => r.parent)).toEqual([null, ids.root, ids.root, ids.retrieve, ids.root, ids.root, ids.root, ids.root]);
    // Indentation follows the depth.
    expect(rows[3]!.html).toContain('style="padding-left:28px"');
    expect(rows[2]!.html).toContain('style="padding-left:14px"');
    expect(rows[0]!.html).toContain('style="padding-left:0px"');
    expect(text.match(/class="bar[ "]/g)).toHaveLength(8);
  });

  it("places each bar by its start offset from the root's start and sizes it by its duration", async () => {
    const rows = rowsOf((await get(`/runs/${ids.root}`)).text);
    const box = (id: string) => rows.find((r) => r.run === id)!;
    const expectBar = (id: string, left: number, width: number) => {
      expect(box(id).left, `left of ${id}`).toBeCloseTo(left, 2);
      expect(box(id).width, `width of ${id}`).toBeCloseTo(width, 2);
    };
    expectBar(ids.root!, 0, 100);
    expectBar(ids.retrieve!, 5, 20); // 100–500 ms of 2000
    expectBar(ids.embed!, 7.5, 7.5); // 150–300
    expectBar(ids.chat!, 25, 50); // 500–1500
    expectBar(ids.tool!, 75, 15); // 1500–1800
    expectBar(ids.chat2!, 90, 7.5); // 1800–1950
    // Clock skew: it starts 50 ms before the root; the offset clamps to 0, the bar keeps its end.
    expectBar(ids.skewed!, 0, 2.5);
    // Never ended: drawn to the root's end, and marked running.
    expectBar(ids.open!, 95, 5);
    expect(box(ids.open!).classes).toContain("running");
    expect(box(ids.open!).barClasses).toContain("running");
    expect(box(ids.open!).html).toContain('<span class="chip running">running</span>');
    expect(box(ids.chat!).classes).not.toContain("running");
    // Durations as text.
    expect(box(ids.chat!).html).toMatch(/<span class="dur">1\.00 s<\/span>/);
    expect(box(ids.retrieve!).html).toMatch(/<span class="dur">400 ms<\/span>/);
    expect(box(ids.root!).html).toMatch(/<span class="dur">2\.00 s<\/span>/);
  });

  it("marks the span with an error and shows it, escaped", async () => {
    const { text } = await get(`/runs/${ids.root}`);
    const rows = rowsOf(text);
    const tool = rows.find((r) => r.run === ids.tool)!;
    expect(tool.classes).toContain("error");
    expect(tool.barClasses).toContain("error");
    expect(rows.filter((r) => r.classes.includes("error")).map((r) => r.run)).toEqual([ids.tool]);
    const shown = "ToolError: &lt;b&gt;boom&lt;/b&gt; &lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;";
    expect(tool.html).toContain(`<span class="span-error" style="padding-left:14px" title="${shown}">${shown}</span>`);
    expect(tool.html).toContain(`<pre class="json error">${shown}</pre>`);
    expect(text).toContain("1 with errors");
  });

  it("escapes names, inputs, outputs and comments", async () => {
    const { text } = await get(`/runs/${ids.root}`);
    expect(text).not.toContain("<script>alert");
    expect(text).not.toContain("<b>boom");
    expect(text).toContain("<h1>agent &lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;");
    expect(text).toContain('title="agent &lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;"');
    expect(text).toContain('<span class="j-str">&quot;&lt;script&gt;alert(\\&quot;xss\\&quot;)&lt;/script&gt;&quot;</span>'); // the input
    expect(text).toContain("answer &lt;script&gt;"); // the chat's output
    expect(text).toContain("fine &lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;"); // the feedback comment
  });

  it("shows inputs and outputs pretty-printed in <details>, the root's open", async () => {
    const rows = rowsOf((await get(`/runs/${ids.root}`)).text);
    const opening = (r: RowInfo) => /<details class="io"( open)?>/.exec(r.html)![1] === " open";
    expect(rows.map(opening)).toEqual([true, false, false, false, false, false, false, false]);
    const root = rows[0]!.html;
    // Indented JSON, nested values on lines of their own.
    expect(root).toContain(
      '<span class="j-key">&quot;nested&quot;</span>: {\n    <span class="j-key">&quot;list&quot;</span>: [\n      <span class="j-num">1</span>,',
    );
    expect(root).toContain('<span class="j-key">&quot;answer&quot;</span>: <span class="j-str">&quot;42&quot;</span>');
    const chat = rows.find((r) => r.run === ids.chat)!.html;
    expect(chat).toMatch(/<h3>Inputs<\/h3><pre class="json">[\s\S]*&quot;step&quot;[\s\S]*&quot;ChatModel&quot;/);
    expect(chat).toMatch(/<h3>Outputs<\/h3><pre class="json">[\s\S]*&quot;input_tokens&quot;<\/span>: <span class="j-num">100<\/span>/);
    // The span left running has no outputs yet.
    expect(rows.find((r) => r.run === ids.open)!.html).toContain("Still running.");
  });

  it("sums token usage over the spans, from all three shapes, and shows each span's", async () => {
    const { text } = await get(`/runs/${ids.root}`);
    const rows = rowsOf(text);
    const tokens = (id: string) => /<span class="tokens" title="([^"]+)">([^<]+)<\/span>/.exec(rows.find((r) => r.run === id)!.html);
    expect(tokens(ids.embed!)?.slice(1)).toEqual(["10 input · 0 output · 10 total", "10 tokens"]); // OpenAI's outputs.usage
    expect(tokens(ids.chat!)?.slice(1)).toEqual(["100 input · 20 output · 120 total", "120 tokens"]); // outputs.usage_metadata
    expect(tokens(ids.chat2!)?.slice(1)).toEqual(["5 input · 7 output · 12 total", "12 tokens"]); // extra.metadata.usage_metadata
    expect(tokens(ids.root!)).toBeNull();
    expect(tokens(ids.tool!)).toBeNull();
    expect(text).toContain(
      '<div class="trace-tokens"><dt>Tokens</dt><dd title="115 input · 27 output · 142 total">142 tokens <span class="muted small">(115 in · 27 out)</span></dd></div>',
    );
  });

  it("marks model-cache hits, recordings and misses on their spans and counts them", async () => {
    const { text } = await get(`/runs/${ids.root}`);
    const rows = rowsOf(text);
    const chip = (id: string) => /<span class="chip cache cache-(\w+)/.exec(rows.find((r) => r.run === id)!.html)?.[1] ?? null;
    expect(rows.map((r) => chip(r.run))).toEqual(["miss", null, null, "hit", "recorded", null, "miss", null]);
    // The root's mark sums its test up: the count is of the spans below it.
    const summary = /<div class="trace-cache">([\s\S]*?)<\/div>/.exec(text)![1]!;
    expect(summary).toContain(">1 hit</span>");
    expect(summary).toContain(">1 recorded</span>");
    expect(summary).toContain(">1 miss</span>");
  });

  it("shows the run's feedback, and a span's own on its row", async () => {
    const { text } = await get(`/runs/${ids.root}`);
    expect(text).toContain("<h2>Feedback</h2>");
    expect(text).toMatch(/<b>helpfulness<\/b><\/td>\s*<td class="num"><span class="score mid">0\.75<\/span>/);
    expect(text).toContain(`<a href="#run-${ids.chat}">ChatModel</a>`);
    const chat = rowsOf(text).find((r) => r.run === ids.chat)!.html;
    expect(chat).toContain('<span class="kv"><b>faithful</b> 1</span>');
  });

  it("sends a span's link to its trace, opened at the span", async () => {
    const r = await get(`/runs/${ids.embed}`);
    expect(r.status).toBe(302);
    expect(r.headers.get("location")).toBe(`/runs/${ids.root}#run-${ids.embed}`);
    expect((await get(`/runs/${ids.root}`)).text).toContain(`id="run-${ids.embed}"`);
  });

  it("draws a trace still running up to now", async () => {
    const { text } = await get(`/runs/${ids.live}`);
    const rows = rowsOf(text);
    expect(rows.map((r) => r.run)).toEqual([ids.live, ids.liveChild]);
    expect(rows.every((r) => r.classes.includes("running") && r.barClasses.includes("running"))).toBe(true);
    expect(rows[0]!.left).toBe(0);
    expect(rows[0]!.width).toBeCloseTo(100, 2);
    // Started 2 s after the root, 2 s (and the page's own time) before now: halfway or a little after.
    expect(rows[1]!.left).toBeGreaterThan(40);
    expect(rows[1]!.left).toBeLessThanOrEqual(50.001);
    expect(rows[1]!.left + rows[1]!.width).toBeCloseTo(100, 2);
    expect(rows[0]!.html).toMatch(/<span class="dur">running<\/span>/);
  });

  it("handles hundreds of spans and deep trees", async () => {
    const { status, text } = await get(`/runs/${ids.big}`);
    expect(status).toBe(200);
    const rows = rowsOf(text);
    expect(rows).toHaveLength(320);
    expect(rows.slice(0, 61).map((r) => r.depth)).toEqual(Array.from({ length: 61 }, (_, i) => i));
    expect(rows.slice(61).every((r) => r.depth === 1)).toBe(true);
    expect(rows[61]!.html).toContain(">wide-000<");
    expect(rows[319]!.html).toContain(">wide-258<");
    // Indentation stops growing; the depth is still said.
    expect(rows[60]!.html).toContain('style="padding-left:224px"');
    expect(rows[60]!.html).toContain('title="depth 60">↳60</span>');
    expect(text).toContain("320 spans");
  });
});

describe("waterfall pieces", () => {
  const run = (over: Partial<Run>): Run =>
    ({
      id: uuid7(),
      name: "r",
      run_type: "chain",
      trace_id: "t",
      dotted_order: "",
      parent_run_id: null,
      reference_example_id: null,
      inputs: {},
      outputs: null,
      error: null,
      extra: {},
      events: [],
      tags: [],
      session_id: null,
      tenant_id: "x",
      status: "success",
      start_time: null,
      end_time: null,
      parent_run_ids: [],
      feedback_stats: null,
      app_path: "",
      ...over,
    }) as Run;

  it("orders a tree depth first, hangs orphans and cycles under the root, and survives 5000 levels", () => {
    const root = run({ id: "root", start_time: "2025-01-01T00:00:00.000000Z" });
    const a = run({ id: "a", parent_run_id: "root", start_time: "2025-01-01T00:00:02.000000Z" });
    const b = run({ id: "b", parent_run_id: "root", start_time: "2025-01-01T00:00:01.000000Z" });
    const a1 = run({ id: "a1", parent_run_id: "a", start_time: "2025-01-01T00:00:03.000000Z" });
    const orphan = run({ id: "o", parent_run_id: "gone", start_time: "2025-01-01T00:00:04.000000Z" });
    const orphanKid = run({ id: "ok", parent_run_id: "o", start_time: "2025-01-01T00:00:05.000000Z" });
    const c1 = run({ id: "c1", parent_run_id: "c2" });
    const c2 = run({ id: "c2", parent_run_id: "c1" });
    const rows = treeRows([orphanKid, a1, a, orphan, root, b, c1, c2], "root");
    expect(rows.map((r) => `${r.run.id}@${r.depth}`)).toEqual(["root@0", "b@1", "a@1", "a1@2", "o@1", "ok@2", "c1@1", "c2@2"]);
    expect(treeRows([a], "root")).toEqual([]);

    const chain = [run({ id: "n0" })];
    for (let i = 1; i < 5000; i++) chain.push(run({ id: `n${i}`, parent_run_id: `n${i - 1}` }));
    const deep = treeRows(chain.reverse(), "n0");
    expect(deep).toHaveLength(5000);
    expect(deep[4999]!.depth).toBe(4999);
  });

  it("clamps bars to the axis and draws open spans to the root's end, or to now", () => {
    const root = run({ start_time: "2025-01-01T00:00:01.000000Z", end_time: "2025-01-01T00:00:03.000000Z" });
    const t = timeline([root], root, Date.parse("2030-01-01T00:00:00Z"))!;
    expect(t).toEqual({ t0: Date.parse("2025-01-01T00:00:01Z"), span: 2000, openEnd: Date.parse("2025-01-01T00:00:03Z") });
    const early = run({ start_time: "2025-01-01T00:00:00.000000Z", end_time: "2025-01-01T00:00:02.000000Z" });
    expect(barBox(early, t)).toEqual({ left: 0, width: 50, running: false, ms: 2000 });
    const open = run({ start_time: "2025-01-01T00:00:02.000000Z", status: "pending" });
    expect(barBox(open, t)).toEqual({ left: 50, width: 50, running: true, ms: null });
    const failedOpen = run({ start_time: "2025-01-01T00:00:02.000000Z", status: "error", error: "x" });
    expect(barBox(failedOpen, t)?.running).toBe(false);
    expect(barBox(run({}), t)).toBeNull();
    // Microseconds count: 1.5 ms of 2 s.
    const tiny = run({ start_time: "2025-01-01T00:00:01.000500Z", end_time: "2025-01-01T00:00:01.002000Z" });
    expect(barBox(tiny, t)!.width).toBeCloseTo(0.075, 6);
    // A root still running: the axis runs to now.
    const liveRoot = run({ start_time: "2025-01-01T00:00:00.000000Z" });
    const now = Date.parse("2025-01-01T00:00:10Z");
    expect(timeline([liveRoot], liveRoot, now)).toEqual({ t0: now - 10_000, span: 10_000, openEnd: now });
    expect(timeline([run({})], run({}), now)).toBeNull();
  });

  it("reads token usage from outputs.usage_metadata, outputs.usage or the metadata, never two at once", () => {
    expect(spanUsage(run({ outputs: { usage_metadata: { input_tokens: 3, output_tokens: 4 } } }))).toEqual({
      input: 3,
      output: 4,
      total: 7,
    });
    expect(
      spanUsage(
        run({
          outputs: {
            usage_metadata: { input_tokens: 3, output_tokens: 4, total_tokens: 7 },
            usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
          },
        }),
      ),
    ).toEqual({ input: 3, output: 4, total: 7 });
    expect(spanUsage(run({ outputs: { usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 9 } } }))).toEqual({
      input: 1,
      output: 2,
      total: 9,
    });
    expect(spanUsage(run({ extra: { metadata: { usage_metadata: { total_tokens: 5 } } } }))).toEqual({ input: 0, output: 0, total: 5 });
    expect(spanUsage(run({ outputs: { usage: { prompt_tokens: "many" } } }))).toBeNull();
    expect(spanUsage(run({ outputs: "text" }))).toBeNull();
  });

  it("counts cache marks below the root, or the root's alone", () => {
    const mark = (m: unknown, id = uuid7()) => ({ run: run({ id, extra: { metadata: { tally_cache: m } } }), depth: 1, parentId: "r" });
    const rootRow = { ...mark("miss", "r"), depth: 0, parentId: null };
    expect(cacheCounts([rootRow, mark("hit"), mark("hit"), mark("bogus")])).toEqual({ hit: 2, recorded: 0, miss: 0 });
    expect(cacheCounts([rootRow, mark(undefined)])).toEqual({ hit: 0, recorded: 0, miss: 1 });
    expect(cacheCounts([{ ...mark(undefined), depth: 0 }])).toBeNull();
  });
});
