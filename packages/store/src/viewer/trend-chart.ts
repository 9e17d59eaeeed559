// Trend charts of a dataset's experiments: one small server-rendered SVG per measure (the pass rate,
// then feedback means), experiments oldest to newest along x. No script, no external assets: every
// point is an SVG link to its experiment (focusable, with a <title> tooltip), and a visually hidden
// table repeats the values for screen readers. Pure: data in, markup out (the page gathers the data).
import { type Html, fmtCount, fmtPct, fmtScore, html } from "./html.js";

/** At most this many experiments are charted: the newest. */
export const MAX_TREND_POINTS = 50;

export interface TrendExperiment {
  id: string;
  name: string;
  /** ISO start time. */
  start: string;
  /** Where its point links to. */
  href: string;
}

export interface TrendMeasure {
  /** `pass` for the pass rate, else the feedback key: the chart's `data-measure`. */
  key: string;
  /** The chart's caption. */
  label: string;
  /** One per experiment, in the experiments' order; null where the experiment has none. */
  values: (number | null)[];
  /** Values are ratios shown as percentages (the pass rate); the axis is then always 0–1. */
  percent?: boolean;
  /** Each value's 95 % interval, drawn as a whisker through its point (the pass rate's Wilson interval). */
  intervals?: (readonly [lo: number, hi: number] | null)[];
}

export interface TrendsInput {
  /** The experiments, oldest first (a longer list is cut to its newest MAX_TREND_POINTS). */
  experiments: TrendExperiment[];
  measures: TrendMeasure[];
  /** How many experiments the dataset has in all (for the note when only the newest are shown). */
  total?: number;
  /** Feedback keys left out of the charts (there is a chart per key up to a limit). */
  omittedKeys?: number;
}

// ---- geometry ----

export const CHART = { width: 320, height: 150, left: 40, right: 12, top: 12, bottom: 24 } as const;

export interface ChartPoint {
  /** Index of the experiment. */
  index: number;
  value: number;
  x: number;
  y: number;
}

export interface ChartGeometry {
  /** The y axis' range: [0, 1] when every value lies there (or for percentages), else the data's. */
  domain: [number, number];
  /** The y axis is the 0–1 one. */
  unit: boolean;
  /** x of every experiment (also those without a value). */
  xs: number[];
  /** One per experiment that has a (finite) value. */
  points: ChartPoint[];
  /** `points` attributes of the polylines: runs of consecutive experiments with values (missing ones leave gaps). */
  segments: string[];
  /** Horizontal grid lines, labelled. */
  ticks: { y: number; label: string }[];
  /** Where a value goes on the y axis (clamped to the domain). */
  yOf: (v: number) => number;
}

const r2 = (n: number) => Math.round(n * 100) / 100;

function finite(v: number | null | undefined): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

/** Where everything goes in a CHART-sized box. */
export function chartGeometry(values: readonly (number | null)[], opts: { percent?: boolean } = {}): ChartGeometry {
  const { width, height, left, right, top, bottom } = CHART;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const n = values.length;
  const known = values.filter(finite);
  const unit = opts.percent === true || known.every((v) => v >= 0 && v <= 1);
  let lo = 0;
  let hi = 1;
  if (!unit) {
    lo = Math.min(...known);
    hi = Math.max(...known);
    if (lo === hi) {
      const pad = Math.abs(lo) * 0.1 || 1;
      lo -= pad;
      hi += pad;
    }
  }
  const xs = values.map((_, i) => r2(left + (n <= 1 ? plotW / 2 : (i * plotW) / (n - 1))));
  const yOf = (v: number) => r2(top + (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * plotH);
  const points: ChartPoint[] = [];
  const segments: string[] = [];
  let run: ChartPoint[] = [];
  const close = () => {
    if (run.length >= 2) segments.push(run.map((p) => `${p.x},${p.y}`).join(" "));
    run = [];
  };
  for (const [i, v] of values.entries()) {
    if (!finite(v)) {
      close();
      continue;
    }
    const p = { index: i, value: v, x: xs[i]!, y: yOf(v) };
    points.push(p);
    run.push(p);
  }
  close();
  const label = (v: number) => (opts.percent ? `${Math.round(v * 100)}%` : String(Number(v.toPrecision(3))));
  const mid = (lo + hi) / 2;
  const ticks = [hi, mid, lo].map((v) => ({ y: yOf(v), label: label(v) }));
  return { domain: [lo, hi], unit, xs, points, segments, ticks, yOf };
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Evenly spread indices of `n` experiments to label: the first, the last, and some between. */
function pick(n: number, count: number): number[] {
  if (count <= 1) return [0];
  return [...new Set(Array.from({ length: count }, (_, i) => Math.round((i * (n - 1)) / (count - 1))))];
}

/**
 * Which experiments get an x label (the first, the last, a couple between) and its text: their dates
 * when those differ (with fewer labels if need be), else their times of day, else `#n`.
 */
export function xLabels(starts: readonly string[], max = 4): { index: number; text: string }[] {
  const n = starts.length;
  if (!n) return [];
  const date = (d: Date) => `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
  const time = (d: Date) => d.toISOString().slice(11, 16);
  const attempt = (indices: number[], f: (d: Date) => string) => {
    const texts = indices.map((i) => {
      const d = new Date(Date.parse(starts[i]!));
      return Number.isNaN(d.getTime()) ? "" : f(d);
    });
    return texts.every((t) => t !== "") && new Set(texts).size === texts.length
      ? indices.map((index, k) => ({ index, text: texts[k]! }))
      : null;
  };
  const most = Math.min(n, max);
  for (let count = most; count >= Math.min(most, 2); count--) {
    const labels = attempt(pick(n, count), date);
    if (labels) return labels;
  }
  return attempt(pick(n, most), time) ?? pick(n, most).map((index) => ({ index, text: `#${index + 1}` }));
}

// ---- markup ----

const MAX_NAME = 120;

function shortName(name: string): string {
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 1)}…` : name;
}

function dateText(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function valueText(v: number | null, percent: boolean | undefined): string {
  if (!finite(v)) return "—";
  return percent ? fmtPct(v) : fmtScore(v);
}

/** One measure's chart: a <figure> with its caption and the SVG. */
export function renderTrendChart(measure: TrendMeasure, experiments: readonly TrendExperiment[]): Html {
  const g = chartGeometry(measure.values, { percent: measure.percent });
  const { width, height, left, right, bottom } = CHART;
  const known = g.points.length;
  const latest = g.points[g.points.length - 1];
  const rangeNote = g.unit ? "" : ` (axis ${fmtScore(g.domain[0])} to ${fmtScore(g.domain[1])})`;
  const aria = `${measure.label} across ${fmtCount(experiments.length)} experiments, oldest to newest${rangeNote}; ${
    latest ? `latest ${valueText(latest.value, measure.percent)}` : "no values"
  }. Each point links to its experiment.`;
  const labels = xLabels(experiments.map((e) => e.start));
  const dot = experiments.length > 25 ? 2.5 : 3.5;
  const svg = html`<svg class="trend" data-measure="${measure.key}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" aria-label="${aria}">
  ${g.ticks.map(
    (t) => html`<line class="grid-line" x1="${left}" x2="${width - right}" y1="${t.y}" y2="${t.y}"></line>
  <text class="axis-label" x="${left - 6}" y="${t.y}" text-anchor="end" dominant-baseline="middle">${t.label}</text>`,
  )}
  ${labels.map(
    (l, k) =>
      html`<text class="axis-label" x="${g.xs[l.index]!}" y="${height - bottom + 16}" text-anchor="${
        labels.length > 1 && k === 0 ? "start" : labels.length > 1 && k === labels.length - 1 ? "end" : "middle"
      }">${l.text}</text>`,
  )}
  ${g.points.flatMap((p) => {
    const ci = measure.intervals?.[p.index];
    return ci
      ? [
          html`<line class="whisker" data-lo="${String(ci[0])}" data-hi="${String(ci[1])}" x1="${p.x}" x2="${p.x}" y1="${g.yOf(ci[0])}" y2="${g.yOf(ci[1])}"></line>`,
        ]
      : [];
  })}
  ${g.segments.map((points) => html`<polyline class="line" points="${points}"></polyline>`)}
  ${g.points.map((p) => {
    const e = experiments[p.index]!;
    const ci = measure.intervals?.[p.index];
    const range = ci ? ` [${valueText(ci[0], measure.percent)}, ${valueText(ci[1], measure.percent)}]` : "";
    const tip = `${shortName(e.name)}: ${valueText(p.value, measure.percent)}${range} (${dateText(e.start)})`;
    return html`<a class="point" data-experiment="${e.id}" data-value="${String(p.value)}" href="${e.href}" aria-label="${tip}"><title>${tip}</title><circle class="hit" cx="${p.x}" cy="${p.y}" r="9"></circle><circle class="dot" cx="${p.x}" cy="${p.y}" r="${dot}"></circle></a>`;
  })}
</svg>`;
  return html`<figure class="trend-fig">
  <figcaption><span class="trend-name" title="${measure.label}">${measure.label}</span>
    <span class="muted small">${latest ? html`latest <b>${valueText(latest.value, measure.percent)}</b>` : "no values"}${
      known < experiments.length ? ` · ${fmtCount(known)} of ${fmtCount(experiments.length)} experiments` : ""
    }</span></figcaption>
  ${svg}
</figure>`;
}

/** All of a dataset's trend charts, or a short note when there is nothing to draw. */
export function renderTrends(input: TrendsInput): Html {
  const all = input.experiments;
  const total = Math.max(input.total ?? all.length, all.length);
  if (all.length === 0) return html`<p class="muted trend-note">No experiments yet: trends appear once the dataset has two.</p>`;
  if (all.length === 1) return html`<p class="muted trend-note">One experiment so far: trends appear once the dataset has two.</p>`;
  const from = Math.max(0, all.length - MAX_TREND_POINTS);
  const experiments = all.slice(from);
  const measures = input.measures
    .map((m) => ({ ...m, values: m.values.slice(from), ...(m.intervals ? { intervals: m.intervals.slice(from) } : {}) }))
    .filter((m) => m.values.some(finite));
  if (!measures.length) return html`<p class="muted trend-note">No pass rate or numeric feedback to chart yet.</p>`;
  return html`<div class="trends">${measures.map((m) => renderTrendChart(m, experiments))}</div>
  ${
    total > experiments.length || input.omittedKeys
      ? html`<p class="muted small trend-note">${total > experiments.length ? `Showing the newest ${fmtCount(experiments.length)} of ${fmtCount(total)} experiments. ` : ""}${
          input.omittedKeys ? `${fmtCount(input.omittedKeys)} more feedback key${input.omittedKeys === 1 ? "" : "s"} not charted.` : ""
        }</p>`
      : ""
  }
  ${valuesTable(measures, experiments)}`;
}

/** The charts' values as a table, for screen readers (visually hidden). */
function valuesTable(measures: TrendMeasure[], experiments: readonly TrendExperiment[]): Html {
  return html`<div class="sr-only"><table class="trend-values"><caption>Trend values by experiment, oldest first</caption>
  <thead><tr><th scope="col">Experiment</th><th scope="col">Started</th>${measures.map((m) => html`<th scope="col">${m.label}</th>`)}</tr></thead>
  <tbody>${experiments.map(
    (e, i) =>
      html`<tr><th scope="row">${e.name}</th><td>${dateText(e.start)}</td>${measures.map((m) => html`<td>${valueText(m.values[i] ?? null, m.percent)}</td>`)}</tr>`,
  )}</tbody></table></div>`;
}
