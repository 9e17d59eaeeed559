// `/datasets/:id/compare?selectedSessions=a,b[,…]` with two or more experiments: LangSmith's compare
// view, side by side. One row per example any of them ran (root runs matched by
// `reference_example_id`), each experiment's output, verdict and scores, with Δ against the FIRST
// selected experiment (so a "previous,this" link reads "this vs previous"). A query or two per
// experiment, never one per row.
import type { ExampleContent } from "../../db/examples.js";
import type { FeedbackStats } from "../../db/feedback.js";
import type { RootOutcome } from "../../db/runs.js";
import type { Session } from "../../db/sessions.js";
import { type Html, errorText, fmtCount, fmtPct, fmtScore, fmtTime, html, jsonBlock, preview, raw, scoreClass } from "../html.js";
import { crumbs } from "../layout.js";
import { PASS_CI_TITLE, SCORE_CI_TITLE, type Spread, ciSpan, spreadOfRuns } from "../spread.js";
import { type PageContext, type Status, type UiResponse, links, render, statusChip, withParams } from "./common.js";

/** More columns than this are unreadable; the rest are named in a notice. */
export const MAX_COMPARED = 8;
const MAX_KEYS = 8;
/** Sums of doubles in another order can differ in the last bits: not a change. */
const EPSILON = 1e-9;
const FULL_OUTPUT_CHARS = 20_000;

/** The comparison's own styles (the shared sheet is the layout's); CSP allows inline styles. */
const CSS = `
table.grid.compare td { vertical-align: top; }
table.grid.compare th.exp { text-transform: none; letter-spacing: 0; font-size: 13px; color: var(--fg); white-space: normal; min-width: 220px; vertical-align: top; }
table.grid.compare th.exp .sub { font-weight: 400; font-size: 12px; color: var(--muted); }
table.grid.compare th.exp .base { font-weight: 500; font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
table.grid.compare td.example { min-width: 200px; max-width: 320px; word-break: break-word; font-size: 12px; }
table.grid.compare td.example .ref { color: var(--muted); margin-top: 4px; }
table.grid.compare td.exp-cell { min-width: 220px; max-width: 360px; word-break: break-word; font-size: 12px; }
table.grid.compare td.exp-cell .out { margin-top: 4px; overflow: hidden; display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; }
table.grid.compare td.exp-cell .err { color: var(--bad); }
table.grid.compare td.not-run { color: var(--muted); font-style: italic; background: var(--soft); }
table.grid.compare tr.regressed > td:first-child { box-shadow: inset 3px 0 var(--bad); }
table.grid.compare tr.improved > td:first-child { box-shadow: inset 3px 0 var(--good); }
table.grid.compare tr.regressed.improved > td:first-child { box-shadow: inset 3px 0 var(--mid); }
table.grid.compare details.io > summary { font-size: 11px; }
.delta { font-size: 11px; font-weight: 600; font-variant-numeric: tabular-nums; margin-left: 4px; white-space: nowrap; }
.delta.down { color: var(--bad); } .delta.up { color: var(--good); } .delta.same { color: var(--muted); font-weight: 400; }
.scores { margin-top: 4px; }
`;

/** One experiment's tests of one example, folded over repetitions as Tally's comparison does. */
interface Folded {
  runs: RootOutcome[];
  status: Status;
  /** 1 passed, 0 failed, null no verdict yet (still running). */
  passed: 0 | 1 | null;
  scores: Record<string, number>;
}

interface Side {
  session: Session;
  byExample: Map<string, Folded>;
  /** Root runs that reference no example: they cannot be lined up. */
  unmatched: number;
  /** Per key, over the examples that have it. */
  means: Record<string, number>;
  /** The JSON report's pass rate and means (over the tests) with their intervals: what the header shows. */
  spread: Spread;
}

/** A change as Tally's report shows it: `+0.12`, `−0.60`, `±0` (rounded to what is shown). */
export function signed(v: number): string {
  const r = Math.round(v * 100) / 100;
  const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
  return r > 0 ? `+${fmt(r)}` : r < 0 ? `−${fmt(-r)}` : "±0";
}

function signedPoints(v: number): string {
  const r = Math.round(v * 1000) / 10;
  return r > 0 ? `+${r.toFixed(1)} pts` : r < 0 ? `−${(-r).toFixed(1)} pts` : "±0 pts";
}

function deltaSpan(text: string, d: number, title: string): Html {
  const cls = d > EPSILON ? "up" : d < -EPSILON ? "down" : "same";
  return html`<span class="delta ${cls}" title="${title}">${text}</span>`;
}

/** A run's verdict: its `pass` feedback when it has one, else error / pending / ok (the experiment page's rule). */
function statusOf(run: RootOutcome, fb: FeedbackStats | undefined): Status {
  const pass = fb?.pass;
  if (pass && pass.avg !== null) return pass.avg >= 1 ? "pass" : "fail";
  if (run.status === "error") return "error";
  if (run.status === "pending") return "pending";
  return "ok";
}

function fold(runs: RootOutcome[], stats: Map<string, FeedbackStats>): Folded {
  const statuses = runs.map((r) => statusOf(r, stats.get(r.id)));
  const status: Status =
    statuses.find((s) => s === "fail" || s === "error") ??
    (statuses.includes("pending") ? "pending" : statuses.every((s) => s === "pass") ? "pass" : "ok");
  const sums = new Map<string, { sum: number; n: number }>();
  for (const r of runs) {
    for (const [key, s] of Object.entries(stats.get(r.id) ?? {})) {
      if (key === "pass" || s.avg === null) continue;
      const acc = sums.get(key) ?? { sum: 0, n: 0 };
      acc.sum += s.avg;
      acc.n++;
      sums.set(key, acc);
    }
  }
  const scores: Record<string, number> = {};
  for (const [key, acc] of sums) scores[key] = acc.sum / acc.n;
  return { runs, status, passed: status === "pending" ? null : status === "pass" || status === "ok" ? 1 : 0, scores };
}

function readSide(ctx: PageContext, session: Session): Side {
  const roots = ctx.store.runs.rootOutcomes(session.id);
  const stats = ctx.store.feedback.statsForRuns(roots.map((r) => r.id));
  const grouped = new Map<string, RootOutcome[]>();
  let unmatched = 0;
  for (const r of roots) {
    if (!r.reference_example_id) {
      unmatched++;
      continue;
    }
    const list = grouped.get(r.reference_example_id);
    if (list) list.push(r);
    else grouped.set(r.reference_example_id, [r]);
  }
  const byExample = new Map<string, Folded>();
  for (const [exampleId, runs] of grouped) byExample.set(exampleId, fold(runs, stats));
  const sums = new Map<string, { sum: number; n: number }>();
  for (const f of byExample.values()) {
    for (const [key, v] of Object.entries(f.scores)) {
      const acc = sums.get(key) ?? { sum: 0, n: 0 };
      acc.sum += v;
      acc.n++;
      sums.set(key, acc);
    }
  }
  const means: Record<string, number> = {};
  for (const [key, acc] of sums) means[key] = acc.sum / acc.n;
  return { session, byExample, unmatched, means, spread: spreadOfRuns(session, roots, stats) };
}

/** Mean of `key` on both sides over the examples both scored (what a Δ of means compares). */
function matchedMeans(base: Side, side: Side, key: string): { before: number; after: number; n: number } | null {
  let before = 0;
  let after = 0;
  let n = 0;
  for (const [exampleId, f] of side.byExample) {
    const b = base.byExample.get(exampleId)?.scores[key];
    const a = f.scores[key];
    if (a === undefined || b === undefined) continue;
    before += b;
    after += a;
    n++;
  }
  return n ? { before: before / n, after: after / n, n } : null;
}

/** How one example of one experiment moved against the first experiment. */
interface Movement {
  regressed: boolean;
  improved: boolean;
}

function movement(base: Folded | undefined, f: Folded | undefined, keys: string[]): Movement {
  const m = { regressed: false, improved: false };
  if (!base || !f) return m;
  if (base.passed !== null && f.passed !== null && base.passed !== f.passed) {
    if (f.passed < base.passed) m.regressed = true;
    else m.improved = true;
  }
  for (const key of keys) {
    const b = base.scores[key];
    const a = f.scores[key];
    if (a === undefined || b === undefined) continue;
    if (a < b - EPSILON) m.regressed = true;
    else if (a > b + EPSILON) m.improved = true;
  }
  return m;
}

function compactJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return String(value);
  }
}

function outputBlock(run: RootOutcome): Html {
  const err = errorText(run.error);
  if (err) return html`<div class="out err" title="${err.slice(0, 2000)}">${err.slice(0, 300)}</div>`;
  if (run.outputs === null || run.outputs === undefined) return html`<div class="out muted">no output</div>`;
  const short = preview(run.outputs);
  const long = compactJson(run.outputs).length > 160;
  return html`<div class="out" title="${preview(run.outputs, 2000)}">${short}</div>${
    long ? html`<details class="io"><summary>Full output</summary>${jsonBlock(run.outputs, FULL_OUTPUT_CHARS)}</details>` : ""
  }`;
}

function experimentCell(f: Folded | undefined, base: Folded | undefined, isBase: boolean, keys: string[]): Html {
  if (!f) return html`<td class="exp-cell not-run">not run</td>`;
  const first = f.runs[0]!;
  const passDelta =
    !isBase && base && base.passed !== null && f.passed !== null && base.passed !== f.passed
      ? deltaSpan(`${base.passed} → ${f.passed}`, f.passed - base.passed, "pass, against the first experiment")
      : "";
  const reps =
    f.runs.length > 1
      ? html` <span class="muted small" title="repetitions">×${f.runs.length}: ${f.runs.map((r, i) => html`${i ? " " : ""}<a href="${links.run(r.id)}">${i + 1}</a>`)}</span>`
      : "";
  const scores = keys.flatMap((key) => {
    const v = f.scores[key];
    if (v === undefined) return [];
    const b = base?.scores[key];
    const d = !isBase && b !== undefined ? deltaSpan(signed(v - b), v - b, `${key}: ${fmtScore(b)} → ${fmtScore(v)}`) : "";
    return [html`<span class="kv">${key} <b class="score ${scoreClass(v)}">${fmtScore(v)}</b>${d}</span>`];
  });
  return html`<td class="exp-cell"><div><a href="${links.run(first.id)}" title="Open the run">${statusChip(f.status)}</a>${passDelta}${reps}</div>${
    scores.length ? html`<div class="scores">${scores}</div>` : ""
  }${outputBlock(first)}</td>`;
}

function headerCell(side: Side, base: Side, isBase: boolean, keys: string[]): Html {
  const s = side.session;
  // The header counts as the JSON report does (over the tests, with its intervals); with one test an
  // example that is the rows' count too.
  const rate = side.spread.passRate ?? null;
  const baseRate = base.spread.passRate ?? null;
  const passDelta =
    !isBase && rate !== null && baseRate !== null
      ? deltaSpan(signedPoints(rate - baseRate), rate - baseRate, "pass rate, against the first experiment")
      : "";
  const means = keys.flatMap((key) => {
    const v = side.spread.scores[key]?.mean ?? side.means[key];
    if (v === undefined) return [];
    const m = isBase ? null : matchedMeans(base, side, key);
    const d = m
      ? deltaSpan(
          signed(m.after - m.before),
          m.after - m.before,
          `${key} over the ${m.n} example${m.n === 1 ? "" : "s"} both scored: ${fmtScore(m.before)} → ${fmtScore(m.after)}`,
        )
      : "";
    return [
      html`<span class="kv" data-measure="${key}" data-value="${String(v)}">${key} <b class="score ${scoreClass(v)}">${fmtScore(v)}</b>${ciSpan(side.spread.scores[key]?.ci, "score", SCORE_CI_TITLE)}${d}</span>`,
    ];
  });
  return html`<th class="exp" data-session="${s.id}">${isBase ? html`<div class="base">baseline</div>` : ""}<a href="${links.experiment(s.id)}">${s.name}</a>
    ${s.end_time ? "" : html` <span class="chip running">running</span>`}
    <div class="sub">${fmtTime(s.start_time)} · ${fmtCount(side.byExample.size)} examples</div>
    <div class="sub" data-measure="pass" data-value="${rate === null ? "" : String(rate)}">pass rate <b class="score ${scoreClass(rate)}">${rate === null ? "—" : fmtPct(rate)}</b>${ciSpan(side.spread.passRateCi, "pct", PASS_CI_TITLE)}${passDelta}</div>
    ${means.length ? html`<div class="sub">${means}</div>` : ""}</th>`;
}

/** The compare page for `selected` (two or more ids, as the link lists them). */
export function comparePage(ctx: PageContext, datasetId: string, selected: string[]): UiResponse {
  const { store, url } = ctx;
  const ids = [...new Set(selected)];
  const unknown: string[] = [];
  const foreign: Session[] = [];
  const sessions: Session[] = [];
  for (const id of ids) {
    const s = store.sessions.get(id, false);
    if (!s) unknown.push(id);
    else if (s.reference_dataset_id !== datasetId) foreign.push(s);
    else sessions.push(s);
  }
  const dataset = store.datasets.get(datasetId);
  const problems: Html[] = [];
  if (unknown.length)
    problems.push(
      html`<div class="note" data-notice="unknown">Not in this store, left out: ${unknown.map((id, i) => html`${i ? ", " : ""}<span class="mono">${id}</span>`)}</div>`,
    );
  if (foreign.length)
    problems.push(
      html`<div class="note" data-notice="foreign">Not experiments of this dataset, left out: ${foreign.map((s, i) => html`${i ? ", " : ""}<a href="${links.session(s)}">${s.name}</a> <span class="mono small">(${s.id})</span>`)}</div>`,
    );
  const extra = sessions.slice(MAX_COMPARED);
  if (extra.length)
    problems.push(
      html`<div class="note" data-notice="too-many">Showing the first ${MAX_COMPARED} experiments; also selected: ${extra.map((s, i) => html`${i ? ", " : ""}<a href="${links.experiment(s.id)}">${s.name}</a>`)}</div>`,
    );
  if (!sessions.length) {
    return render(
      ctx,
      "Not found",
      "experiments",
      html`${crumbs([{ label: "Experiments", href: "/" }, ...(dataset ? [{ label: dataset.name, href: links.dataset(dataset.id) }] : [])])}
      <h1>Nothing to compare</h1>${problems}<p class="muted">None of the selected experiments is an experiment of ${dataset ? html`<a href="${links.dataset(dataset.id)}">${dataset.name}</a>` : html`dataset <span class="mono">${datasetId}</span>`} in this store.</p>`,
      404,
    );
  }

  const sides = sessions.slice(0, MAX_COMPARED).map((s) => readSide(ctx, s));
  const base = sides[0]!;
  const keySet = new Set<string>();
  for (const side of sides) for (const k of Object.keys(side.means)) keySet.add(k);
  const keys = [...keySet].sort().slice(0, MAX_KEYS);

  // Rows: the examples any experiment ran, in the dataset's order; examples no longer stored last.
  const exampleIds = new Set<string>();
  for (const side of sides) for (const id of side.byExample.keys()) exampleIds.add(id);
  const contents = store.examples.contents([...exampleIds]);
  const stored = new Set(contents.map((e) => e.id));
  const rows: { id: string; example?: ExampleContent }[] = [
    ...contents.map((e) => ({ id: e.id, example: e })),
    ...[...exampleIds].filter((id) => !stored.has(id)).map((id) => ({ id })),
  ];

  const onlyChanged = url.searchParams.get("changed") === "1";
  let changedCount = 0;
  let regressedCount = 0;
  let improvedCount = 0;
  const body: Html[] = [];
  for (const [i, row] of rows.entries()) {
    const cells = sides.map((side) => side.byExample.get(row.id));
    const baseCell = cells[0];
    let regressed = false;
    let improved = false;
    for (const cell of cells.slice(1)) {
      const m = movement(baseCell, cell, keys);
      regressed ||= m.regressed;
      improved ||= m.improved;
    }
    const ranByAll = cells.every((c) => c !== undefined);
    const changed = regressed || improved || !ranByAll;
    if (changed) changedCount++;
    if (regressed) regressedCount++;
    if (improved) improvedCount++;
    if (onlyChanged && !changed) continue;
    const cls = [regressed ? "regressed" : "", improved ? "improved" : "", !ranByAll ? "partial" : ""].filter(Boolean).join(" ");
    const e = row.example;
    body.push(html`<tr data-example="${row.id}" class="${cls}">
      <td class="num muted">${fmtCount(i + 1)}</td>
      <td class="example">${
        e
          ? html`<div title="${preview(e.inputs, 2000)}">${preview(e.inputs) || html`<span class="muted">(no inputs)</span>`}</div>${
              e.outputs ? html`<div class="ref" title="${preview(e.outputs, 2000)}">expected: ${preview(e.outputs, 120)}</div>` : ""
            }`
          : html`<span class="muted">example not in this store</span>`
      }<div class="muted small mono" title="example id">${row.id.slice(0, 8)}</div></td>
      ${cells.map((c, j) => experimentCell(c, baseCell, j === 0, keys))}
    </tr>`);
  }

  const colspan = 2 + sides.length;
  const unmatched = sides.filter((s) => s.unmatched > 0);
  const title = `Compare ${sides.length} experiments`;
  const page = html`<style>${raw(CSS)}</style>
    ${crumbs([
      { label: "Experiments", href: "/" },
      dataset ? { label: dataset.name, href: links.dataset(dataset.id) } : { label: "(deleted dataset)" },
      { label: "Compare" },
    ])}
    <h1>${title}</h1>
    <p class="desc">Δ is against the first experiment, <a href="${links.experiment(base.session.id)}">${base.session.name}</a>. ${fmtCount(rows.length)} examples;
      ${fmtCount(regressedCount)} regressed, ${fmtCount(improvedCount)} improved, ${fmtCount(changedCount)} changed (including examples not every experiment ran).</p>
    ${problems}
    ${
      unmatched.length
        ? html`<div class="note" data-notice="unmatched">Runs without a dataset example cannot be lined up and are not shown: ${unmatched.map((s, i) => html`${i ? ", " : ""}${fmtCount(s.unmatched)} in <a href="${links.experiment(s.session.id)}">${s.session.name}</a>`)}</div>`
        : ""
    }
    <div class="toolbar"><h2>Examples</h2><div class="seg">
      <a class="${onlyChanged ? "" : "on"}" href="${withParams(url, { changed: null })}">All ${fmtCount(rows.length)}</a>
      <a id="only-changed" class="${onlyChanged ? "on" : ""}" href="${withParams(url, { changed: onlyChanged ? null : "1" })}">Only changed ${fmtCount(changedCount)}</a>
    </div></div>
    <div class="tablewrap"><table class="grid compare">
      <thead><tr><th class="num">#</th><th>Example</th>${sides.map((s, j) => headerCell(s, base, j === 0, keys))}</tr></thead>
      <tbody>${
        body.length
          ? body
          : html`<tr><td colspan="${colspan}" class="empty">${onlyChanged ? "No example changed between these experiments." : "These experiments ran no dataset examples yet."}</td></tr>`
      }</tbody>
    </table></div>`;
  return render(ctx, title, "experiments", page);
}
