// `/` (datasets, each with its latest experiments) and `/datasets/:id` (all experiments of one).
import { passRateCiOf } from "@tally/core";
import type { Dataset } from "../../db/datasets.js";
import type { Session } from "../../db/sessions.js";
import { type Html, fmtCount, fmtLatency, fmtTime, html, scoreClass } from "../html.js";
import { crumbs } from "../layout.js";
import { MAX_TREND_POINTS, type TrendMeasure, renderTrends } from "../trend-chart.js";
import {
  type PageContext,
  type UiResponse,
  averageCell,
  feedbackKeys,
  links,
  metadataOf,
  notFound,
  pageParam,
  pager,
  passRateText,
  render,
  shortSha,
} from "./common.js";

const LATEST_PER_DATASET = 10;
const DATASETS_PER_PAGE = 30;
const EXPERIMENTS_PER_PAGE = 50;
/** Feedback keys charted on a dataset's page (after the pass rate). */
const TREND_KEYS = 6;

/** A table of experiments with their run counts, pass rates and feedback averages. */
export function experimentsTable(ctx: PageContext, sessions: Session[]): Html {
  if (!sessions.length) return html`<div class="tablewrap"><div class="empty">No experiments yet.</div></div>`;
  const ids = sessions.map((s) => s.id);
  const counts = ctx.store.runs.rootCounts(ids);
  const averages = ctx.store.feedback.averagesBySession(ids);
  const keys = feedbackKeys(
    ids.map((id) => averages.get(id)),
    6,
  );
  const rows = sessions.map((s) => {
    const c = counts.get(s.id) ?? { runs: 0, errors: 0, pending: 0, lastStart: null };
    const avg = averages.get(s.id) ?? {};
    const meta = metadataOf(s);
    const start = Date.parse(s.start_time);
    const end = s.end_time ? Date.parse(s.end_time) : NaN;
    const pass = avg.pass;
    return html`<tr>
      <td class="name"><a href="${links.experiment(s.id)}">${s.name}</a>${
        meta.branch || meta.commit
          ? html`<div class="muted small mono">${typeof meta.branch === "string" ? meta.branch : ""} ${shortSha(meta.commit)}${meta.dirty === true ? "*" : ""}</div>`
          : ""
      }</td>
      <td class="nowrap">${fmtTime(s.start_time)}</td>
      <td class="nowrap">${s.end_time ? fmtLatency(end - start) : html`<span class="chip running">running</span>`}</td>
      <td class="num">${fmtCount(c.runs)}</td>
      <td class="num">${pass && pass.avg !== null ? html`<span class="score ${scoreClass(pass.avg)}">${passRateText(pass)}</span>` : html`<span class="muted">—</span>`}</td>
      <td class="num">${c.errors ? html`<span class="score bad">${fmtCount(c.errors)}</span>` : html`<span class="muted">0</span>`}</td>
      ${keys.map((k) => averageCell(avg[k]))}
    </tr>`;
  });
  return html`<div class="tablewrap"><table class="grid">
    <thead><tr><th>Experiment</th><th>Started</th><th>Duration</th><th class="num">Runs</th><th class="num">Pass rate</th><th class="num">Errors</th>
      ${keys.map((k) => html`<th class="num" title="${k}">${k}</th>`)}</tr></thead>
    <tbody>${rows}</tbody></table></div>`;
}

/** Datasets with experiments by their latest experiment, newest first; then the others by creation. */
function byActivity(a: Dataset, b: Dataset): number {
  const ka = a.last_session_start_time ? `1${a.last_session_start_time}` : `0${a.created_at}`;
  const kb = b.last_session_start_time ? `1${b.last_session_start_time}` : `0${b.created_at}`;
  return ka < kb ? 1 : ka > kb ? -1 : 0;
}

export function homePage(ctx: PageContext): UiResponse {
  const { store, url } = ctx;
  const all = store.datasets.list({ limit: 100_000 }).sort(byActivity);
  const datasets = all.filter((d) => d.session_count > 0);
  const unused = all.filter((d) => d.session_count === 0);
  const pageNo = pageParam(url);
  const shown = datasets.slice((pageNo - 1) * DATASETS_PER_PAGE, pageNo * DATASETS_PER_PAGE);
  const cards = shown.map((d) => {
    const total = store.sessions.experimentCount(d.id);
    const sessions = store.sessions.list({ referenceDatasets: [d.id], limit: LATEST_PER_DATASET });
    return html`<section class="card">
      <div class="card-head"><h2><a href="${links.dataset(d.id)}">${d.name}</a></h2>
        <span class="muted small">${fmtCount(d.example_count)} examples · ${fmtCount(total)} experiments</span>
        ${total > sessions.length ? html`<a class="right small" href="${links.dataset(d.id)}">All ${fmtCount(total)} experiments →</a>` : ""}</div>
      ${d.description ? html`<p class="desc">${d.description}</p>` : ""}
      ${experimentsTable(ctx, sessions)}
    </section>`;
  });
  const orphans = pageNo === 1 ? store.sessions.orphanExperiments(LATEST_PER_DATASET) : [];
  const projects = store.sessions.projectCount();
  const body = html`
    <h1>Experiments</h1>
    <p class="desc">Datasets and their experiments, most recent first.${
      projects
        ? html` Plain traces are under <a href="/projects">${fmtCount(projects)} tracing project${projects === 1 ? "" : "s"}</a>.`
        : ""
    }</p>
    ${
      datasets.length === 0 && orphans.length === 0
        ? html`<div class="card empty">No experiments yet. Run your evals without <code>LANGSMITH_API_KEY</code> and they are recorded here.</div>`
        : ""
    }
    ${cards}
    ${
      unused.length && pageNo === 1
        ? html`<p class="muted small">Datasets without experiments: ${unused.slice(0, 50).map((d, i) => html`${i ? ", " : ""}<a href="${links.dataset(d.id)}">${d.name}</a>`)}${unused.length > 50 ? ` and ${fmtCount(unused.length - 50)} more` : ""}</p>`
        : ""
    }
    ${orphans.length ? html`<section class="card"><div class="card-head"><h2>Experiments without a stored dataset</h2></div>${experimentsTable(ctx, orphans)}</section>` : ""}
    ${datasets.length > DATASETS_PER_PAGE ? pager(url, pageNo, DATASETS_PER_PAGE, datasets.length, "datasets") : ""}`;
  return render(ctx, "Experiments", "experiments", body);
}

export function datasetPage(ctx: PageContext, datasetId: string): UiResponse {
  const { store, url } = ctx;
  const d = store.datasets.get(datasetId);
  if (!d) return notFound(ctx, `No dataset with id ${datasetId} in this store.`);
  const pageNo = pageParam(url);
  const total = store.sessions.experimentCount(d.id);
  const sessions = store.sessions.list({
    referenceDatasets: [d.id],
    limit: EXPERIMENTS_PER_PAGE,
    offset: (pageNo - 1) * EXPERIMENTS_PER_PAGE,
  });
  const body = html`
    ${crumbs([{ label: "Experiments", href: "/" }])}
    <h1>${d.name}</h1>
    ${d.description ? html`<p class="desc">${d.description}</p>` : ""}
    <dl class="meta">
      <div><dt>Examples</dt><dd>${fmtCount(d.example_count)}</dd></div>
      <div><dt>Experiments</dt><dd>${fmtCount(total)}</dd></div>
      <div><dt>Created</dt><dd>${fmtTime(d.created_at)}</dd></div>
      <div><dt>Last modified</dt><dd>${fmtTime(d.modified_at)}</dd></div>
      <div><dt>Dataset id</dt><dd class="mono small" title="${d.id}">${d.id}</dd></div>
    </dl>
    <section class="trends-section" aria-labelledby="trends-title">
      <h2 id="trends-title">Trends <span class="muted">oldest to newest</span></h2>
      ${datasetTrends(ctx, d.id, total)}
    </section>
    <h2>Experiments <span class="muted">newest first</span></h2>
    ${experimentsTable(ctx, sessions)}
    ${pager(url, pageNo, EXPERIMENTS_PER_PAGE, total, "experiments")}`;
  return render(ctx, d.name, "experiments", body);
}

/**
 * The dataset's trend charts: the pass rate, then the means of the feedback keys most experiments
 * have, over its newest experiments in start order.
 */
function datasetTrends(ctx: PageContext, datasetId: string, total: number): Html {
  const sessions = ctx.store.sessions.list({ referenceDatasets: [datasetId], limit: MAX_TREND_POINTS }).reverse();
  const averages = ctx.store.feedback.averagesBySession(sessions.map((s) => s.id));
  const coverage = new Map<string, number>();
  for (const s of sessions) {
    for (const [key, avg] of Object.entries(averages.get(s.id) ?? {})) {
      if (key !== "pass" && avg.avg !== null) coverage.set(key, (coverage.get(key) ?? 0) + 1);
    }
  }
  const keys = [...coverage.keys()].sort((a, b) => coverage.get(b)! - coverage.get(a)! || a.localeCompare(b));
  const valuesOf = (key: string) => sessions.map((s) => averages.get(s.id)?.[key]?.avg ?? null);
  const measures: TrendMeasure[] = [
    {
      key: "pass",
      label: "Pass rate",
      values: valuesOf("pass"),
      percent: true,
      // The Wilson interval of each experiment's passes over its `pass` feedback (one per test).
      intervals: sessions.map((s) => {
        const p = averages.get(s.id)?.pass;
        return p && p.avg !== null && p.n > 0 ? passRateCiOf(Math.round(p.avg * p.n), p.n) : null;
      }),
    },
    ...keys.slice(0, TREND_KEYS).map((key) => ({ key, label: key, values: valuesOf(key) })),
  ];
  return renderTrends({
    experiments: sessions.map((s) => ({ id: s.id, name: s.name, start: s.start_time, href: links.experiment(s.id) })),
    measures,
    total,
    omittedKeys: Math.max(0, keys.length - TREND_KEYS),
  });
}
