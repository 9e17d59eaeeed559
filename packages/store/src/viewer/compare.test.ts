// The compare page (`/datasets/:id/compare?selectedSessions=a,b[,…]`) and the experiment page's
// "Compare with previous" link, over a store recorded through the real langsmith SDK.
import { Client } from "langsmith";
import { RunTree } from "langsmith/run_trees";
import { describe, expect, it } from "vitest";
import { uuid4 } from "@tally/core/wire";
import { LOCAL_TENANT_ID } from "../db/db.js";
import type { RunningServer } from "../server/app.js";
import { seededUi } from "./seeded-ui.test.fixture.js";

const XSS = `<script>alert("xss")</script>`;
const XSS_ESCAPED = "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;";

const ids = {
  dataset: "",
  otherDataset: "",
  examples: [] as string[],
  /** The examples in the dataset's order (created_at, id). */
  order: [] as string[],
  /** Experiments, in the order they were created (start times ascend). */
  a: "",
  b: "",
  /** Started after b, never ended: not anyone's "previous". */
  abandoned: "",
  c: "",
  /** An experiment of another dataset: foreign to this one's compare page. */
  foreign: "",
  runs: {} as Record<string, Record<number, string>>,
};

interface Test {
  example: number;
  pass: boolean;
  correctness?: number;
  output?: unknown;
  error?: string;
}

async function record(client: Client, datasetId: string, name: string, tests: Test[], end: boolean): Promise<string> {
  const project = await client.createProject({ projectName: name, referenceDatasetId: datasetId });
  const runs: Record<number, string> = {};
  const t0 = Date.now();
  const roots: RunTree[] = [];
  for (const [i, t] of tests.entries()) {
    const root = new RunTree({
      name: `test ${t.example}`,
      run_type: "chain",
      inputs: { i: t.example },
      project_name: name,
      reference_example_id: ids.examples[t.example]!,
      start_time: t0 + i * 100,
      client,
    });
    await root.postRun();
    await root.end(
      t.error ? undefined : ((t.output as Record<string, unknown>) ?? { answer: `answer ${t.example}` }),
      t.error,
      t0 + i * 100 + 50,
    );
    await root.patchRun();
    roots.push(root);
    runs[t.example] = root.id;
  }
  await client.awaitPendingTraceBatches();
  for (const [i, t] of tests.entries()) {
    await client.createFeedback(roots[i]!.id, "pass", { score: t.pass, sessionId: project.id });
    if (t.correctness !== undefined)
      await client.createFeedback(roots[i]!.id, "correctness", { score: t.correctness, sessionId: project.id });
  }
  if (end) await client.updateProject(project.id, { endTime: new Date().toISOString() });
  ids.runs[project.id] = runs;
  return project.id;
}

async function seed(srv: RunningServer): Promise<void> {
  const client = new Client({ apiUrl: srv.url, apiKey: "test-key" });
  const dataset = await client.createDataset("cmp-qa");
  ids.dataset = dataset.id;
  const examples = await client.createExamples({
    datasetId: dataset.id,
    inputs: [{ q: "one" }, { q: "two" }, { q: XSS }, { q: "four" }],
    outputs: [{ answer: "1" }, { answer: "2" }, { answer: XSS }, { answer: "4" }],
  });
  // createExamples answers in its own order; the dataset's order is creation order.
  ids.order = srv.store.examples.idsOf(dataset.id);
  ids.examples = [...ids.order];
  expect(ids.examples).toHaveLength(examples.length);
  const q = (id: string) => srv.store.examples.get(id)!.inputs.q;
  ids.examples.sort((x, y) => ["one", "two", XSS, "four"].indexOf(q(x) as string) - ["one", "two", XSS, "four"].indexOf(q(y) as string));

  // a: the baseline. 0 pass 1.0, 1 pass 0.8, 2 errored (fail) 0.5; 3 not run.
  ids.a = await record(
    client,
    dataset.id,
    "cmp-qa:a",
    [
      { example: 0, pass: true, correctness: 1 },
      { example: 1, pass: true, correctness: 0.8 },
      { example: 2, pass: false, correctness: 0.5, error: "Boom: it failed" },
    ],
    true,
  );
  // b: 0 unchanged, 1 regressed (pass 1 → 0, 0.8 → 0.6), 2 improved (0 → 1, 0.5 → 0.9, its output an XSS), 3 new.
  ids.b = await record(
    client,
    dataset.id,
    "cmp-qa:b",
    [
      { example: 0, pass: true, correctness: 1 },
      { example: 1, pass: false, correctness: 0.6 },
      { example: 2, pass: true, correctness: 0.9, output: { answer: XSS } },
      { example: 3, pass: true, correctness: 1 },
    ],
    true,
  );
  ids.abandoned = await record(client, dataset.id, "cmp-qa:abandoned", [{ example: 0, pass: false, correctness: 0 }], false);
  // c (still running): 0 passes again but scores lower (0.9), 1 as in a; 2 not run.
  ids.c = await record(
    client,
    dataset.id,
    "cmp-qa:c",
    [
      { example: 0, pass: true, correctness: 0.9 },
      { example: 1, pass: true, correctness: 0.8 },
    ],
    false,
  );
  const other = await client.createDataset("cmp-other");
  ids.otherDataset = other.id;
  const [otherExample] = await client.createExamples({ datasetId: other.id, inputs: [{ q: "x" }], outputs: [{ a: "y" }] });
  const foreign = await client.createProject({ projectName: "cmp-other:x", referenceDatasetId: other.id });
  ids.foreign = foreign.id;
  const run = new RunTree({
    name: "x",
    run_type: "chain",
    inputs: {},
    project_name: foreign.name,
    reference_example_id: otherExample!.id,
    client,
  });
  await run.postRun();
  await run.end({ a: "y" });
  await run.patchRun();
  await client.awaitPendingTraceBatches();
  await client.updateProject(foreign.id, { endTime: new Date().toISOString() });
}

const compare = (...sessions: string[]) => `/o/${LOCAL_TENANT_ID}/datasets/${ids.dataset}/compare?selectedSessions=${sessions.join(",")}`;

/** The `<tr>` of one example (up to the next row). */
function row(text: string, example: number): string {
  const at = text.indexOf(`data-example="${ids.examples[example]}"`);
  if (at < 0) return "";
  const start = text.lastIndexOf("<tr", at);
  return text.slice(start, text.indexOf("</tr>", at) + 5);
}

/** The experiment cells of a row, in column order. */
function cells(rowHtml: string): string[] {
  return rowHtml
    .split(/(?=<td class="exp-cell)/)
    .slice(1)
    .map((c) => c.slice(0, c.indexOf("</td>") + 5));
}

/** The experiment column headers: [session id, markup]. */
function heads(text: string): [string, string][] {
  return [...text.matchAll(/<th class="exp" data-session="([^"]+)">([\s\S]*?)<\/th>/g)].map((m) => [m[1]!, m[2]!]);
}

const { get } = seededUi("tally-ui-compare-", seed);

describe("compare two experiments", () => {
  it("shows one row per example either ran, with Δ against the first, regressions and improvements marked", async () => {
    const { status, text } = await get(compare(ids.a, ids.b));
    expect(status).toBe(200);
    expect(text).toContain('<table class="grid compare">');
    expect(text).toContain("<h1>Compare 2 experiments</h1>");
    // Every example either ran, in the dataset's order.
    const at = ids.order.map((id) => text.indexOf(`data-example="${id}"`));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
    expect(text.match(/<tr data-example=/g)).toHaveLength(4);

    // Unchanged: neither class.
    expect(row(text, 0)).toMatch(/class=""/);
    // Regressed: pass 1 → 0 and correctness −0.20, highlighted.
    const regressed = row(text, 1);
    expect(regressed).toMatch(/class="regressed"/);
    expect(regressed).toContain('<span class="delta down" title="pass, against the first experiment">1 → 0</span>');
    expect(regressed).toMatch(/<span class="delta down"[^>]*>−0\.20<\/span>/);
    // Improved: 0 → 1 (the baseline errored) and +0.40.
    const improved = row(text, 2);
    expect(improved).toMatch(/class="improved"/);
    expect(improved).toContain(">0 → 1</span>");
    expect(improved).toMatch(/<span class="delta up"[^>]*>\+0\.40<\/span>/);
    expect(improved).toContain("Boom: it failed"); // the baseline's error, in its cell
    expect(improved).toContain("✗ fail");
    // Example 3 only b ran: a's cell says so, and the row counts as changed.
    const partial = row(text, 3);
    expect(partial).toContain('<td class="exp-cell not-run">not run</td>');
    expect(partial).toMatch(/class="partial"/);
    expect(partial).not.toMatch(/delta (up|down)/);
  });

  it("puts each experiment's run, output and scores in its own column", async () => {
    const { text } = await get(compare(ids.a, ids.b));
    const first = cells(row(text, 0));
    expect(first).toHaveLength(2);
    expect(first[0]).toContain(`href="/runs/${ids.runs[ids.a]![0]}"`);
    expect(first[1]).toContain(`href="/runs/${ids.runs[ids.b]![0]}"`);
    expect(first[0]).toContain("answer 0");
    expect(first[1]).toMatch(/<span class="delta same"[^>]*>±0<\/span>/);
    expect(first[0]).not.toContain("delta"); // the baseline has no Δ
    // Scores on both sides of a regressed row, in order.
    const regressed = cells(row(text, 1));
    expect(regressed[0]).toMatch(/correctness <b class="score good">0\.80<\/b><\/span>/);
    expect(regressed[1]).toMatch(/correctness <b class="score mid">0\.60<\/b>/);
    expect(regressed[1]).toContain("✗ fail");
    // The example's inputs and reference outputs.
    expect(row(text, 1)).toContain("q: two");
    expect(row(text, 1)).toContain("expected: answer: 2");
  });

  it("heads each column with the experiment, its pass rate and means, and their Δ vs the first", async () => {
    const { text } = await get(compare(ids.a, ids.b));
    const h = heads(text);
    expect(h.map(([id]) => id)).toEqual([ids.a, ids.b]);
    const [a, b] = h.map(([, markup]) => markup);
    expect(a).toContain(`<a href="/experiments/${ids.a}">cmp-qa:a</a>`);
    expect(a).toContain("baseline");
    expect(a).toContain(">66.7%<"); // 2 of 3
    // (1 + 0.8 + 0.5) / 3 with its bootstrap interval, no Δ
    expect(a).toMatch(/correctness <b class="score mid">0\.77<\/b><span class="ci"[^>]*>\[0\.50, 1\]<\/span><\/span>/);
    // The pass rate's Wilson interval, 2 of 3: [0.208, 0.939].
    expect(a).toMatch(/pass rate <b class="score mid">66\.7%<\/b><span class="ci"[^>]*>\[20\.8%, 93\.9%\]<\/span>/);
    expect(b).toContain(`<a href="/experiments/${ids.b}">cmp-qa:b</a>`);
    expect(b).toContain(">75.0%<"); // 3 of 4
    expect(b).toMatch(/<span class="delta up"[^>]*>\+8\.3 pts<\/span>/);
    expect(b).toMatch(/correctness <b class="score good">0\.88<\/b>/); // (1 + 0.6 + 0.9 + 1) / 4
    // Δ of the mean over the examples both scored: (1 + 0.6 + 0.9)/3 − (1 + 0.8 + 0.5)/3 = +0.07
    expect(b).toMatch(/title="correctness over the 3 examples both scored: 0\.77 → 0\.83">\+0\.07<\/span>/);
  });

  it("filters to changed examples without JavaScript", async () => {
    const all = await get(compare(ids.a, ids.b));
    const toggle = /<a id="only-changed" class="([^"]*)" href="([^"]+)">Only changed 3<\/a>/.exec(all.text);
    expect(toggle).not.toBeNull();
    expect(toggle![1]).toBe("");
    const href = toggle![2]!.replace(/&amp;/g, "&");
    expect(href).toContain("changed=1");
    expect(href).toContain(`selectedSessions=${encodeURIComponent(`${ids.a},${ids.b}`)}`);
    const changed = await get(href);
    expect(changed.status).toBe(200);
    expect(row(changed.text, 0)).toBe("");
    expect(row(changed.text, 1)).not.toBe("");
    expect(row(changed.text, 2)).not.toBe("");
    expect(row(changed.text, 3)).not.toBe("");
    const back = /<a id="only-changed" class="on" href="([^"]+)">/.exec(changed.text);
    expect(back).not.toBeNull();
    expect(back![1]).not.toContain("changed=");
  });

  it("escapes inputs and outputs", async () => {
    const { text } = await get(compare(ids.a, ids.b));
    expect(text).not.toContain("<script>alert");
    expect(text).not.toContain(XSS);
    expect(row(text, 2)).toContain(`q: ${XSS_ESCAPED}`);
    expect(row(text, 2)).toContain(`answer: ${XSS_ESCAPED}`);
    expect(text.match(/<script/g)).toHaveLength(1); // the layout's own, nonce'd
  });

  it("names unknown and foreign ids, and still compares the rest", async () => {
    const unknown = uuid4();
    const { status, text } = await get(compare(ids.a, unknown, ids.b, ids.foreign, "not-a-uuid"));
    expect(status).toBe(200);
    expect(text).toMatch(
      new RegExp(
        `data-notice="unknown">Not in this store, left out: <span class="mono">${unknown}</span>, <span class="mono">not-a-uuid</span>`,
      ),
    );
    expect(text).toMatch(
      /data-notice="foreign">Not experiments of this dataset, left out: <a href="\/experiments\/[^"]+">cmp-other:x<\/a>/,
    );
    expect(text).toContain(ids.foreign);
    expect(heads(text).map(([id]) => id)).toEqual([ids.a, ids.b]);
  });

  it("answers 404 with the ids when none of them can be compared", async () => {
    const x = uuid4();
    const y = uuid4();
    const { status, text } = await get(compare(x, y));
    expect(status).toBe(404);
    expect(text).toContain("Nothing to compare");
    expect(text).toContain(x);
    expect(text).toContain(y);
  });

  it("keeps one selected experiment (the link Tally prints) on the experiment page", async () => {
    for (const path of [compare(ids.b), compare(ids.b, ids.b)]) {
      const { status, text } = await get(path);
      expect(status).toBe(200);
      expect(text).toContain("<h1>cmp-qa:b");
      expect(text).toContain("Test runs");
      expect(text).not.toContain("grid compare");
    }
  });
});

describe("compare three experiments", () => {
  it("adds a column per experiment, each against the first", async () => {
    const { status, text } = await get(compare(ids.a, ids.b, ids.c));
    expect(status).toBe(200);
    expect(text).toContain("<h1>Compare 3 experiments</h1>");
    const h = heads(text);
    expect(h.map(([id]) => id)).toEqual([ids.a, ids.b, ids.c]);
    // c is still running: its header says so.
    expect(h[2]![1]).toContain("chip running");
    expect(h[0]![1]).not.toContain("chip running");
    // A score that fell is a regression even when the test still passes.
    const r0 = cells(row(text, 0));
    expect(row(text, 0)).toMatch(/class="regressed"/);
    expect(r0[1]).toMatch(/<span class="delta same"[^>]*>±0<\/span>/);
    expect(r0[2]).toMatch(/<span class="delta down" title="correctness: 1 → 0\.90">−0\.10<\/span>/);
    expect(r0[2]).not.toContain("1 → 0</span>");
    const r1 = cells(row(text, 1));
    expect(r1).toHaveLength(3);
    expect(r1[1]).toContain("1 → 0"); // b regressed
    expect(r1[2]).not.toMatch(/delta (up|down)/); // c as the baseline
    expect(r1[2]).toMatch(/<span class="delta same"[^>]*>±0<\/span>/);
    expect(row(text, 1)).toMatch(/class="regressed"/);
    // c did not run example 2, a did not run example 3.
    expect(cells(row(text, 2))[2]).toBe('<td class="exp-cell not-run">not run</td>');
    expect(cells(row(text, 3))[0]).toBe('<td class="exp-cell not-run">not run</td>');
    expect(cells(row(text, 3))[2]).toBe('<td class="exp-cell not-run">not run</td>');
    expect(cells(row(text, 3))[1]).toContain(`href="/runs/${ids.runs[ids.b]![3]}"`);
    expect(row(text, 2)).toMatch(/class="improved partial"/);
  });

  it("reads Δ from whichever experiment is listed first", async () => {
    const { text } = await get(compare(ids.b, ids.a));
    const r1 = row(text, 1);
    expect(r1).toMatch(/class="improved"/);
    expect(r1).toContain(">0 → 1</span>");
    expect(r1).toMatch(/<span class="delta up"[^>]*>\+0\.20<\/span>/);
    expect(row(text, 2)).toMatch(/class="regressed"/);
  });
});

describe("compare with previous", () => {
  const link = (text: string) => /<a id="compare-previous" href="([^"]+)"/.exec(text)?.[1];

  it("links an experiment to the newest earlier finished one of its dataset, previous first", async () => {
    const b = await get(`/experiments/${ids.b}`);
    expect(link(b.text)).toBe(`/datasets/${ids.dataset}/compare?selectedSessions=${ids.a},${ids.b}`);
    expect(b.text).toContain("(cmp-qa:a)");
    // c started after b and the abandoned one; the abandoned one never ended, so b it is.
    const c = await get(`/experiments/${ids.c}`);
    expect(link(c.text)).toBe(`/datasets/${ids.dataset}/compare?selectedSessions=${ids.b},${ids.c}`);
    const followed = await get(link(c.text)!);
    expect(followed.status).toBe(200);
    expect(heads(followed.text).map(([id]) => id)).toEqual([ids.b, ids.c]);
  });

  it("is absent without an earlier finished experiment, and on tracing projects", async () => {
    expect(link((await get(`/experiments/${ids.a}`)).text)).toBeUndefined();
    // The only experiment of its dataset.
    expect(link((await get(`/experiments/${ids.foreign}`)).text)).toBeUndefined();
  });
});
