// The spread on the experiment page: the pass rate with its Wilson interval, each key's mean with its
// bootstrap interval, trials with pass@k and pass^k, and each example's trials, over an experiment of
// four examples × three trials recorded through the real langsmith SDK.
import { type ReportTest, spreadOf } from "@tally/core";
import { Client } from "langsmith";
import { RunTree } from "langsmith/run_trees";
import { describe, expect, it } from "vitest";
import type { RunningServer } from "../server/app.js";
import { seededUi } from "./seeded-ui.test.fixture.js";

const XSS_KEY = `<img src=x onerror=alert(1)>`;

/** Per example, its three trials' verdicts: all pass, 2 of 3, 1 of 3, none. */
const VERDICTS = [
  [true, true, true],
  [true, false, true],
  [false, false, true],
  [false, false, false],
];

const ids = { experiment: "", single: "", examples: [] as string[] };

/** The tests as the run's JSON report would have them (same names, statuses, examples, scores). */
const tests: ReportTest[] = [];

function quality(example: number, trial: number): number {
  return Math.round((0.2 + 0.17 * example + 0.05 * trial + 0.013 * ((example * 7 + trial * 3) % 5)) * 1000) / 1000;
}

async function seed(srv: RunningServer): Promise<void> {
  const client = new Client({ apiUrl: srv.url, apiKey: "test-key" });
  const dataset = await client.createDataset("spread-qa");
  const examples = await client.createExamples({ datasetId: dataset.id, inputs: VERDICTS.map((_, i) => ({ q: `question ${i}` })) });
  ids.examples = examples.map((e) => e.id);
  const project = await client.createProject({ projectName: "spread-qa:trials", referenceDatasetId: dataset.id });
  ids.experiment = project.id;
  const t0 = Date.parse("2025-06-01T10:00:00.000Z");
  const roots: { run: RunTree; pass: boolean; example: number; trial: number }[] = [];
  for (const [e, verdicts] of VERDICTS.entries()) {
    for (const [t, pass] of verdicts.entries()) {
      const name = `answers question ${e}${t ? `, run ${t + 1}` : ""}`;
      const run = new RunTree({
        name,
        run_type: "chain",
        inputs: { q: `question ${e}` },
        project_name: project.name,
        reference_example_id: ids.examples[e]!,
        start_time: t0 + (e * 3 + t) * 1000,
        extra: { metadata: { tally_trial: t + 1 } },
        client,
      });
      await run.postRun();
      await run.end({ a: "x" }, pass ? undefined : "AssertionError: wrong", t0 + (e * 3 + t) * 1000 + 500);
      await run.patchRun();
      roots.push({ run, pass, example: e, trial: t });
      tests.push({
        name,
        file: "",
        status: pass ? "passed" : "failed",
        exampleId: ids.examples[e]!,
        runId: run.id,
        scores: { quality: quality(e, t), [XSS_KEY]: pass ? 1 : 0.25 },
      });
    }
  }
  await client.awaitPendingTraceBatches();
  for (const r of roots) {
    await client.createFeedback(r.run.id, "pass", { score: r.pass, sessionId: project.id });
    await client.createFeedback(r.run.id, "quality", { score: quality(r.example, r.trial), sessionId: project.id });
    await client.createFeedback(r.run.id, XSS_KEY, { score: r.pass ? 1 : 0.25, sessionId: project.id });
  }
  await client.updateProject(project.id, { endTime: new Date().toISOString() });

  // One trial per example: no trials card, no trials table.
  const single = await client.createProject({ projectName: "spread-qa:single", referenceDatasetId: dataset.id });
  ids.single = single.id;
  const run = new RunTree({
    name: "answers question 0",
    run_type: "chain",
    inputs: {},
    project_name: single.name,
    reference_example_id: ids.examples[0]!,
    client,
  });
  await run.postRun();
  await run.end({ a: "x" });
  await run.patchRun();
  await client.awaitPendingTraceBatches();
  await client.createFeedback(run.id, "pass", { score: true, sessionId: single.id });
  await client.updateProject(single.id, { endTime: new Date().toISOString() });
}

const { get } = seededUi("tally-ui-spread-", seed);

/** The stat card labelled `label`. */
function card(text: string, label: string): string {
  const at = text.indexOf(`<div class="label" title="${label}">`);
  if (at < 0) return "";
  const start = text.lastIndexOf('<div class="stat">', at);
  return text.slice(start, text.indexOf('<div class="stat">', at + 1));
}

function ciOf(markup: string): [number, number] | null {
  const m = /<span class="ci" data-lo="([^"]+)" data-hi="([^"]+)"/.exec(markup);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

describe("the experiment page's spread", () => {
  it("shows the pass rate with its Wilson interval: 6 of 12 passed, [25.4%, 74.6%]", async () => {
    const { text } = await get(`/experiments/${ids.experiment}`);
    const pass = card(text, "Pass rate");
    expect(pass).toContain(">50.0%</span>");
    expect(pass).toMatch(/<span class="ci"[^>]*>\[25\.4%, 74\.6%\]<\/span>/);
    // Wilson's interval of 6 of 12 (z = 1.959964): 0.5 ± 0.246222.
    const [lo, hi] = ciOf(pass)!;
    expect(lo).toBeCloseTo(0.253778, 5);
    expect(hi).toBeCloseTo(0.746222, 5);
  });

  it("shows each key's mean with the interval the JSON report has, seeded with the experiment's name", async () => {
    const { text } = await get(`/experiments/${ids.experiment}`);
    const expected = spreadOf("spread-qa:trials", tests);
    const q = card(text, "quality");
    expect(q).toContain(`data-value="${expected.scores.quality!.mean}"`);
    expect(ciOf(q)).toEqual(expected.scores.quality!.ci);
    const [lo, hi] = ciOf(q)!;
    expect(lo).toBeLessThan(expected.scores.quality!.mean);
    expect(hi).toBeGreaterThan(expected.scores.quality!.mean);
    expect(q).toMatch(/<span class="ci"[^>]*>\[0\.\d\d, 0\.\d\d\]<\/span>/);
    // A key named like markup is escaped, in its card as everywhere.
    expect(text).not.toContain(XSS_KEY);
    expect(ciOf(card(text, "&lt;img src=x onerror=alert(1)&gt;"))).toEqual(expected.scores[XSS_KEY]!.ci);
  });

  it("shows the trials with pass@3 and pass^3: 3 of 4 examples passed once, 1 of 4 every time", async () => {
    const { text } = await get(`/experiments/${ids.experiment}`);
    const trials = card(text, "Trials");
    expect(trials).toContain('<div class="value">3</div>');
    expect(trials).toContain("pass@3 75.0%");
    expect(trials).toContain("pass^3 25.0%");
  });

  it("lists each example's trials, the lowest pass rate first, with its interval", async () => {
    const { text } = await get(`/experiments/${ids.experiment}`);
    const table = text.slice(
      text.indexOf('<table class="grid trials">'),
      text.indexOf("</table>", text.indexOf('<table class="grid trials">')),
    );
    const rows = [...table.matchAll(/<tr data-example="([^"]+)">([\s\S]*?)<\/tr>/g)];
    expect(rows.map((r) => r[1])).toEqual([3, 2, 1, 0].map((e) => ids.examples[e]));
    // Example 1: 2 of 3, [20.8%, 93.9%], pass@3 100%, pass^3 0%.
    const two = rows[2]![2]!;
    expect(two).toContain("answers question 1 "); // the name without ", run n"
    expect(two).toMatch(/>66\.7% <span class="ci"[^>]*>\[20\.8%, 93\.9%\]<\/span>/);
    expect(two).toMatch(/<td class="num">100%<\/td>\s*<td class="num">0%<\/td>/);
  });

  it("has no trials card nor table with one trial per example, and still the pass rate's interval", async () => {
    const { text } = await get(`/experiments/${ids.single}`);
    expect(card(text, "Trials")).toBe("");
    expect(text).not.toContain('<table class="grid trials">');
    // 1 of 1: Wilson [0.207, 1].
    expect(card(text, "Pass rate")).toMatch(/\[20\.7%, 100%\]/);
  });
});
