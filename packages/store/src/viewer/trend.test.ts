// Trends on the dataset page: the chart module's geometry and escaping on their own, then the page
// over HTTP, with experiments recorded through the real langsmith SDK (and, for the cap at 50, straight
// into the store with start times out of creation order).
import { Client } from "langsmith";
import { RunTree } from "langsmith/run_trees";
import { describe, expect, it } from "vitest";
import { uuid4 } from "@tally/core/wire";
import type { Store } from "../db/store.js";
import type { RunningServer } from "../server/app.js";
import { seededUi } from "./seeded-ui.test.fixture.js";
import { CHART, MAX_TREND_POINTS, chartGeometry, renderTrendChart, renderTrends, xLabels } from "./trend-chart.js";

const XSS = `<script>alert("xss")</script>`;
const LONG = `${"very-long-experiment-name-".repeat(8)}${XSS}`;

// x of the i-th of n experiments, and y of a value on the 0–1 axis, in the CHART box.
const plotW = CHART.width - CHART.left - CHART.right;
const plotH = CHART.height - CHART.top - CHART.bottom;
const xOf = (i: number, n: number) => Math.round((CHART.left + (i * plotW) / (n - 1)) * 100) / 100;
const yOf = (v: number, lo = 0, hi = 1) => Math.round((CHART.top + (1 - (v - lo) / (hi - lo)) * plotH) * 100) / 100;

describe("trend chart geometry", () => {
  it("spreads experiments evenly along x and puts 0–1 values on a 0–1 axis", () => {
    const g = chartGeometry([0, 0.5, 1]);
    expect(g.unit).toBe(true);
    expect(g.domain).toEqual([0, 1]);
    expect(g.xs).toEqual([CHART.left, CHART.left + plotW / 2, CHART.width - CHART.right]);
    expect(g.points.map((p) => p.y)).toEqual([CHART.height - CHART.bottom, CHART.top + plotH / 2, CHART.top]);
    expect(g.segments).toEqual([g.points.map((p) => `${p.x},${p.y}`).join(" ")]);
    expect(g.ticks.map((t) => t.label)).toEqual(["1", "0.5", "0"]);
    expect(chartGeometry([0.2, 0.4], { percent: true }).ticks.map((t) => t.label)).toEqual(["100%", "50%", "0%"]);
  });

  it("uses the data's range when values leave [0, 1], and widens a flat one", () => {
    const g = chartGeometry([80, 120, 100]);
    expect(g.unit).toBe(false);
    expect(g.domain).toEqual([80, 120]);
    expect(g.points.map((p) => p.y)).toEqual([CHART.height - CHART.bottom, CHART.top, CHART.top + plotH / 2]);
    expect(g.ticks.map((t) => t.label)).toEqual(["120", "100", "80"]);
    expect(chartGeometry([5, 5]).domain).toEqual([4.5, 5.5]);
    expect(chartGeometry([5, 5]).ticks.map((t) => t.label)).toEqual(["5.5", "5", "4.5"]);
    expect(chartGeometry([1 / 3, 7]).ticks.map((t) => t.label)).toEqual(["7", "3.67", "0.333"]);
    expect(chartGeometry([0, 0, -1]).domain).toEqual([-1, 0]);
    // A percentage stays on 0–1 whatever the values.
    expect(chartGeometry([0.2, 1.5], { percent: true }).domain).toEqual([0, 1]);
  });

  it("leaves gaps where values are missing (or not finite)", () => {
    const g = chartGeometry([0.2, null, 0.4, 0.6, Number.NaN, 0.8, Number.POSITIVE_INFINITY]);
    expect(g.points.map((p) => p.index)).toEqual([0, 2, 3, 5]);
    expect(g.xs).toHaveLength(7);
    expect(g.segments).toEqual([`${g.xs[2]},${yOf(0.4)} ${g.xs[3]},${yOf(0.6)}`]);
    expect(chartGeometry([null, null]).points).toEqual([]);
    // A single experiment sits in the middle.
    expect(chartGeometry([0.3]).xs).toEqual([CHART.left + plotW / 2]);
  });

  it("labels a few experiments, by date, by time of day, else by number", () => {
    expect(xLabels(["2025-06-01T10:00:00Z", "2025-06-03T10:00:00Z", "2025-07-09T10:00:00Z"])).toEqual([
      { index: 0, text: "Jun 1" },
      { index: 1, text: "Jun 3" },
      { index: 2, text: "Jul 9" },
    ]);
    expect(xLabels(["2025-06-01T10:00:00Z", "2025-06-01T10:05:00Z"])).toEqual([
      { index: 0, text: "10:00" },
      { index: 1, text: "10:05" },
    ]);
    expect(xLabels(["2025-06-01T10:00:01Z", "2025-06-01T10:00:02Z"]).map((l) => l.text)).toEqual(["#1", "#2"]);
    const many = xLabels(Array.from({ length: 50 }, (_, i) => new Date(Date.UTC(2025, 0, 1 + i)).toISOString()));
    expect(many).toEqual([
      { index: 0, text: "Jan 1" },
      { index: 16, text: "Jan 17" },
      { index: 33, text: "Feb 3" },
      { index: 49, text: "Feb 19" },
    ]);
    // Hourly over three days: four labels would repeat a date, three do not.
    const hourly = xLabels(Array.from({ length: 50 }, (_, i) => new Date(Date.UTC(2025, 2, 1, 10 + i)).toISOString()));
    expect(hourly).toEqual([
      { index: 0, text: "Mar 1" },
      { index: 25, text: "Mar 2" },
      { index: 49, text: "Mar 3" },
    ]);
    expect(xLabels([])).toEqual([]);
  });
});

describe("trend chart markup", () => {
  const experiments = [
    { id: "e-1", name: `one ${XSS}`, start: "2025-06-01T10:00:00.000000Z", href: "/experiments/e-1" },
    { id: "e-2", name: LONG, start: "2025-06-02T10:00:00.000000Z", href: "/experiments/e-2" },
    { id: "e-3", name: "three", start: "2025-06-03T10:00:00.000000Z", href: "/experiments/e-3" },
  ];

  it("makes each point a titled, labelled link to its experiment, and escapes every name", () => {
    const out = renderTrendChart({ key: `k"><img src=x>`, label: `k"><img src=x>`, values: [0.25, null, 1] }, experiments).value;
    expect(out).not.toContain("<script>");
    expect(out).not.toContain("<img");
    expect(out).toContain('<svg class="trend" data-measure="k&quot;&gt;&lt;img src=x&gt;"');
    expect(out).toMatch(/<svg [^>]*aria-label="k&quot;&gt;&lt;img src=x&gt; across 3 experiments, oldest to newest; latest 1\./);
    expect(out).not.toContain('role="img"');
    const points = [
      ...out.matchAll(
        /<a class="point" data-experiment="([^"]+)" data-value="([^"]+)" href="([^"]+)" aria-label="([^"]+)"><title>([^<]+)<\/title>/g,
      ),
    ];
    expect(points.map((m) => [m[1], m[2], m[3]])).toEqual([
      ["e-1", "0.25", "/experiments/e-1"],
      ["e-3", "1", "/experiments/e-3"],
    ]);
    expect(points[0]![5]).toBe("one &lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;: 0.25 (2025-06-01 10:00 UTC)");
    expect(points[0]![4]).toBe(points[0]![5]);
    // Points where the geometry says.
    expect(out).toContain(`<circle class="dot" cx="${xOf(0, 3)}" cy="${yOf(0.25)}" r="3.5">`);
    expect(out).toContain(`<circle class="dot" cx="${xOf(2, 3)}" cy="${yOf(1)}" r="3.5">`);
    // The gap: no line through the missing value.
    expect(out).not.toContain("<polyline");
    expect(out).toContain("2 of 3 experiments");
  });

  it("cuts long names in tooltips", () => {
    const out = renderTrendChart({ key: "q", label: "q", values: [0.5, 0.5, 0.5] }, experiments).value;
    const tip = /<a class="point" data-experiment="e-2"[^>]*><title>([^<]*)<\/title>/.exec(out)![1]!;
    expect(tip.startsWith("very-long-experiment-name-very")).toBe(true);
    expect(tip).toContain("…: 0.50 (2025-06-02 10:00 UTC)");
    expect(tip.length).toBeLessThan(200);
  });

  it("says why there is no chart for no or one experiment, and keeps the newest 50 of many", () => {
    expect(renderTrends({ experiments: [], measures: [] }).value).toContain("No experiments yet");
    const one = renderTrends({
      experiments: experiments.slice(0, 1),
      measures: [{ key: "pass", label: "Pass rate", values: [1], percent: true }],
    });
    expect(one.value).toContain("One experiment so far");
    expect(one.value).not.toContain("<svg");
    expect(renderTrends({ experiments, measures: [{ key: "pass", label: "Pass rate", values: [null, null, null] }] }).value).toContain(
      "No pass rate or numeric feedback",
    );

    const many = Array.from({ length: 70 }, (_, i) => ({
      id: `x-${i}`,
      name: `x ${i}`,
      start: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(),
      href: `/experiments/x-${i}`,
    }));
    const out = renderTrends({
      experiments: many,
      measures: [{ key: "pass", label: "Pass rate", values: many.map((_, i) => i / 100), percent: true }],
      total: 75,
      omittedKeys: 1,
    }).value;
    const ids = [...out.matchAll(/data-experiment="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toHaveLength(MAX_TREND_POINTS);
    expect(ids[0]).toBe("x-20");
    expect(ids[49]).toBe("x-69");
    expect(out).toContain('data-experiment="x-20" data-value="0.2"');
    expect(out).toContain("Showing the newest 50 of 75 experiments. 1 more feedback key not charted.");
    // The values again, as a table for screen readers.
    expect(out).toContain('<div class="sr-only"><table class="trend-values">');
    expect(out.match(/<tr><th scope="row">/g)).toHaveLength(50);
  });
});

// ---- the dataset page ----

const ids = { dataset: "", one: "", none: "", many: "", exps: [] as string[], oneExp: "", manyByStart: [] as string[] };

interface Result {
  pass: boolean;
  quality?: number;
  latency?: number;
}

async function seedWithSdk(srv: RunningServer): Promise<void> {
  const client = new Client({ apiUrl: srv.url, apiKey: "test-key" });
  const dataset = await client.createDataset("trend-ds", { description: "Trends" });
  ids.dataset = dataset.id;
  const examples = await client.createExamples({
    datasetId: dataset.id,
    inputs: [{ q: "a" }, { q: "b" }],
    outputs: [{ a: "A" }, { a: "B" }],
  });
  const experiment = async (datasetId: string, name: string, results: Result[]) => {
    const project = await client.createProject({ projectName: name, referenceDatasetId: datasetId });
    const roots: RunTree[] = [];
    for (const [i, r] of results.entries()) {
      const root = new RunTree({
        name: `case ${i}`,
        run_type: "chain",
        inputs: examples[i]!.inputs,
        project_name: name,
        reference_example_id: examples[i]!.id,
        client,
      });
      await root.postRun();
      await root.end({ ok: r.pass });
      await root.patchRun();
      roots.push(root);
    }
    await client.awaitPendingTraceBatches();
    for (const [i, r] of results.entries()) {
      const runId = roots[i]!.id;
      await client.createFeedback(runId, "pass", { score: r.pass, sessionId: project.id });
      if (r.quality !== undefined) await client.createFeedback(runId, "quality", { score: r.quality, sessionId: project.id });
      if (r.latency !== undefined) await client.createFeedback(runId, "latency_ms", { score: r.latency, sessionId: project.id });
    }
    return project.id;
  };
  // Created (so started) in this order; their names sort otherwise.
  ids.exps.push(
    await experiment(dataset.id, "trend-ds:first", [
      { pass: true, quality: 0.9, latency: 100 },
      { pass: true, quality: 0.7, latency: 140 },
    ]),
  );
  ids.exps.push(
    await experiment(dataset.id, LONG, [
      { pass: true, quality: 0.5, latency: 80 },
      { pass: false, quality: 0.5, latency: 80 },
    ]),
  );
  ids.exps.push(
    await experiment(dataset.id, "trend-ds:third", [
      { pass: false, latency: 100 },
      { pass: false, latency: 100 },
    ]),
  );
  ids.exps.push(
    await experiment(dataset.id, "trend-ds:fourth", [
      { pass: true, quality: 1, latency: 90 },
      { pass: true, quality: 0.8, latency: 110 },
    ]),
  );
  await client.awaitPendingTraceBatches();

  const one = await client.createDataset("one-experiment");
  ids.one = one.id;
  ids.oneExp = await experiment(one.id, "one-experiment:only", [{ pass: true }]);
  ids.none = (await client.createDataset("no-experiments")).id;
  await client.awaitPendingTraceBatches();
}

/** 60 experiments whose start times are not in creation order, with pass feedback and eight keys. */
function seedMany(store: Store): void {
  const ds = store.datasets.create({ name: "many-experiments" });
  ids.many = ds.id;
  const base = Date.parse("2025-03-01T00:00:00Z");
  const byStart: string[] = [];
  for (let i = 0; i < 60; i++) {
    const rank = (i * 37) % 60; // a permutation of 0..59: the start order
    const session = store.sessions.create({
      name: `many:${String(i).padStart(2, "0")}`,
      reference_dataset_id: ds.id,
      start_time: new Date(base + rank * 3_600_000).toISOString(),
    }).session;
    byStart[rank] = session.id;
    const fb = (key: string, score: number | boolean) => store.feedback.upsert({ id: uuid4(), session_id: session.id, key, score });
    fb("pass", rank % 2 === 0);
    for (const key of ["zeta", "yak", "k1", "k2", "k3", "k4"]) fb(key, rank / 100);
    if (rank === 59) {
      fb("alpha", 0.5);
      fb("beta", 0.5);
    }
  }
  ids.manyByStart = byStart;
}

/** A chart of the page: its svg and its points in order. */
function chart(text: string, measure: string) {
  const m = new RegExp(`<svg class="trend" data-measure="${measure}"[\\s\\S]*?</svg>`).exec(text);
  expect(m, `chart ${measure}`).not.toBeNull();
  const svg = m![0];
  const points = [
    ...svg.matchAll(
      /<a class="point" data-experiment="([^"]+)" data-value="([^"]+)" href="([^"]+)" aria-label="[^"]*"><title>([^<]*)<\/title><circle class="hit" cx="([\d.]+)" cy="([\d.]+)"/g,
    ),
  ].map((p) => ({ id: p[1]!, value: Number(p[2]), href: p[3]!, title: p[4]!, x: Number(p[5]), y: Number(p[6]) }));
  return { svg, points };
}

const { get } = seededUi("tally-ui-trend-", async (srv) => {
  await seedWithSdk(srv);
  seedMany(srv.store);
});

describe("the dataset page's trends", () => {
  it("charts the pass rate over the experiments in start order, each point linking to its experiment", async () => {
    const { status, text } = await get(`/datasets/${ids.dataset}`);
    expect(status).toBe(200);
    expect(text).toContain('<h2 id="trends-title">Trends');
    const pass = chart(text, "pass");
    expect(pass.points.map((p) => p.id)).toEqual(ids.exps);
    expect(pass.points.map((p) => p.href)).toEqual(ids.exps.map((id) => `/experiments/${id}`));
    expect(pass.points.map((p) => p.value)).toEqual([1, 0.5, 0, 1]);
    expect(pass.points.map((p) => p.x)).toEqual([0, 1, 2, 3].map((i) => xOf(i, 4)));
    expect(pass.points.map((p) => p.y)).toEqual([1, 0.5, 0, 1].map((v) => yOf(v)));
    // Each point's tooltip has its value and its 95 % interval.
    expect(pass.points[1]!.title).toMatch(
      /^very-long-experiment-name-.*…: 50\.0% \[\d+(\.\d)?%, \d+(\.\d)?%\] \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/,
    );
    expect(pass.points[0]!.title).toMatch(/^trend-ds:first: 100% \[\d+(\.\d)?%, 100%\] \(/);
    expect(pass.svg.match(/<polyline /g)).toHaveLength(1);
    // Pass rate first, then the keys; a figure with its caption for each.
    expect(text.indexOf('data-measure="pass"')).toBeLessThan(text.indexOf('data-measure="latency_ms"'));
    expect(text).toMatch(/<figure class="trend-fig">\s*<figcaption><span class="trend-name" title="Pass rate">Pass rate<\/span>/);
  });

  it("draws the pass rate's Wilson interval as a whisker through each point, and none on the keys' charts", async () => {
    const { text } = await get(`/datasets/${ids.dataset}`);
    const pass = chart(text, "pass");
    const whiskers = [
      ...pass.svg.matchAll(
        /<line class="whisker" data-lo="([^"]+)" data-hi="([^"]+)" x1="([\d.]+)" x2="([\d.]+)" y1="([\d.]+)" y2="([\d.]+)">/g,
      ),
    ].map((w) => ({ lo: Number(w[1]), hi: Number(w[2]), x: Number(w[3]), y1: Number(w[5]), y2: Number(w[6]) }));
    expect(whiskers.map((w) => w.x)).toEqual(pass.points.map((p) => p.x));
    for (const [i, w] of whiskers.entries()) {
      const v = pass.points[i]!.value;
      expect(w.lo).toBeLessThanOrEqual(v);
      expect(w.hi).toBeGreaterThanOrEqual(v);
      expect(w.hi - w.lo).toBeGreaterThan(0);
      expect([w.y1, w.y2]).toEqual([yOf(w.lo), yOf(w.hi)]);
    }
    // 0 of n and n of n: the interval touches the end it sits at.
    expect(whiskers[2]!.lo).toBe(0);
    expect(whiskers[0]!.hi).toBe(1);
    expect(chart(text, "quality").svg).not.toContain('class="whisker"');
  });

  it("charts each feedback key's mean, with gaps where an experiment has none", async () => {
    const { text } = await get(`/datasets/${ids.dataset}`);
    const quality = chart(text, "quality");
    expect(quality.points.map((p) => p.id)).toEqual([ids.exps[0], ids.exps[1], ids.exps[3]]);
    expect(quality.points.map((p) => p.value)).toEqual([0.8, 0.5, 0.9].map((v) => expect.closeTo(v, 10)));
    expect(quality.points.map((p) => p.x)).toEqual([0, 1, 3].map((i) => xOf(i, 4)));
    // One line (first to second); the fourth stands alone past the gap.
    expect(quality.svg.match(/<polyline /g)).toHaveLength(1);
    expect(quality.svg).toContain(`points="${xOf(0, 4)},${yOf(0.8)} ${xOf(1, 4)},${yOf(0.5)}"`);
    expect(quality.svg).toContain(">1</text>"); // the 0–1 axis
    expect(text).toContain("3 of 4 experiments");
  });

  it("uses the data's range, labelled, for keys outside [0, 1]", async () => {
    const { text } = await get(`/datasets/${ids.dataset}`);
    const latency = chart(text, "latency_ms");
    expect(latency.points.map((p) => p.value)).toEqual([120, 80, 100, 100]);
    expect(latency.points.map((p) => p.y)).toEqual([120, 80, 100, 100].map((v) => yOf(v, 80, 120)));
    expect(latency.svg).toMatch(/text-anchor="end" dominant-baseline="middle">120<\/text>/);
    expect(latency.svg).toMatch(/text-anchor="end" dominant-baseline="middle">80<\/text>/);
    expect(latency.svg).toContain("(axis 80 to 120)");
  });

  it("escapes experiment names in the charts and the table of values", async () => {
    const { text } = await get(`/datasets/${ids.dataset}`);
    expect(text).not.toContain("<script>alert");
    const table = /<div class="sr-only"><table class="trend-values">[\s\S]*?<\/table>/.exec(text)![0];
    expect(table).toContain(
      `<th scope="row">${LONG.replace("<script>", "&lt;script&gt;").replace('"xss"', "&quot;xss&quot;").replace("</script>", "&lt;/script&gt;")}</th>`,
    );
    expect(table).toMatch(/<th scope="row">trend-ds:third<\/th><td>[^<]+<\/td><td>0%<\/td><td>100<\/td><td>—<\/td>/);
  });

  it("says so instead of drawing for a dataset with one experiment or none", async () => {
    const one = await get(`/datasets/${ids.one}`);
    expect(one.text).toContain("One experiment so far");
    expect(one.text).not.toContain('<svg class="trend"');
    expect(one.text).toContain(`href="/experiments/${ids.oneExp}"`); // still listed below
    const none = await get(`/datasets/${ids.none}`);
    expect(none.status).toBe(200);
    expect(none.text).toContain("No experiments yet: trends appear");
    expect(none.text).not.toContain('<svg class="trend"');
  });

  it("charts the newest 50 of many experiments in start order, and the keys most of them have", async () => {
    const { text } = await get(`/datasets/${ids.many}`);
    const pass = chart(text, "pass");
    expect(pass.points.map((p) => p.id)).toEqual(ids.manyByStart.slice(10));
    expect(pass.points.map((p) => p.value)).toEqual(ids.manyByStart.slice(10).map((_, k) => ((k + 10) % 2 === 0 ? 1 : 0)));
    expect(text).toContain("Showing the newest 50 of 60 experiments. 2 more feedback keys not charted.");
    const measures = [...text.matchAll(/<svg class="trend" data-measure="([^"]+)"/g)].map((m) => m[1]);
    expect(measures).toEqual(["pass", "k1", "k2", "k3", "k4", "yak", "zeta"]);
    const zeta = chart(text, "zeta");
    expect(zeta.points[0]!.value).toBeCloseTo(0.1, 10);
    expect(zeta.points[49]!.value).toBeCloseTo(0.59, 10);
  });
});
