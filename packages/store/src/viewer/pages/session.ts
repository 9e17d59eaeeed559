// One session: an experiment (`/experiments/:id`, and LangSmith's compare link with one experiment) or
// a tracing project (`/projects/:id`). Summary, metadata, then a paged, filterable table of its root
// runs. An experiment links to the compare page with its previous one, and is live while it records.
import type { StatusFilter } from "../../db/runs.js";
import type { Session } from "../../db/sessions.js";
import {
  type Html,
  errorText,
  fmtCount,
  fmtLatency,
  fmtPct,
  fmtScore,
  fmtSeconds,
  fmtTime,
  html,
  jsonBlock,
  latencyMs,
  preview,
  scoreClass,
} from "../html.js";
import { crumbs } from "../layout.js";
import { liveScript, liveStatus, liveVersion } from "../live.js";
import { PASS_CI_TITLE, SCORE_CI_TITLE, atKText, ciSpan, sessionSpread, trialsTable } from "../spread.js";
import {
  type PageContext,
  type UiResponse,
  averageCell,
  feedbackCell,
  feedbackKeys,
  links,
  metadataOf,
  notFound,
  pageParam,
  pager,
  render,
  runStatus,
  sessionCrumbs,
  shortSha,
  statusChip,
  withParams,
} from "./common.js";

const RUNS_PER_PAGE = 100;
const MAX_KEY_COLUMNS = 10;

/** Metadata Tally itself stamps on experiments, shown with friendly labels first. */
const KNOWN_METADATA = ["tally_run_key", "commit", "branch", "dirty", "dataset_version", "__ls_runner"];

function metaItem(label: string, value: Html | string, title?: string): Html {
  return html`<div><dt>${label}</dt><dd title="${title ?? (typeof value === "string" ? value : "")}">${value}</dd></div>`;
}

function compact(v: unknown): string {
  if (typeof v === "string") return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function metadataGrid(session: Session, datasetLink: Html | null): Html {
  const meta = metadataOf(session);
  const items: Html[] = [];
  if (datasetLink) items.push(metaItem("Dataset", datasetLink));
  const isExperiment = !!session.reference_dataset_id;
  items.push(metaItem(isExperiment ? "Started" : "Created", fmtTime(session.start_time)));
  if (session.end_time || isExperiment) {
    items.push(
      metaItem(
        "Ended",
        session.end_time
          ? html`${fmtTime(session.end_time)} <span class="muted small">(${fmtLatency(latencyMs(session.start_time, session.end_time))})</span>`
          : html`<span class="chip running">running</span>`,
      ),
    );
  }
  if (meta.tally_run_key !== undefined)
    items.push(metaItem("Run key", html`<span class="mono">${compact(meta.tally_run_key)}</span>`, compact(meta.tally_run_key)));
  if (typeof meta.commit === "string") {
    items.push(
      metaItem(
        "Git commit",
        html`<span class="mono">${shortSha(meta.commit)}</span>${meta.dirty === true ? html` <span class="chip mid">dirty</span>` : ""}`,
        meta.commit,
      ),
    );
  }
  if (meta.branch !== undefined)
    items.push(metaItem("Git branch", html`<span class="mono">${compact(meta.branch)}</span>`, compact(meta.branch)));
  if (typeof meta.dataset_version === "string")
    items.push(metaItem("Dataset version", fmtTime(meta.dataset_version), meta.dataset_version));
  if (meta.__ls_runner !== undefined) items.push(metaItem("Runner", compact(meta.__ls_runner)));
  for (const [k, v] of Object.entries(meta)) {
    if (KNOWN_METADATA.includes(k)) continue;
    items.push(metaItem(k, compact(v)));
  }
  return html`<dl class="meta">${items}</dl>`;
}

function statCard(label: string, value: Html | string, sub?: Html | string): Html {
  return html`<div class="stat"><div class="label" title="${label}">${label}</div><div class="value">${value || html`<span class="muted">—</span>`}</div>${sub ? html`<div class="sub">${sub}</div>` : ""}</div>`;
}

export function sessionPage(ctx: PageContext, sessionId: string): UiResponse {
  const { store, url } = ctx;
  const session = store.sessions.get(sessionId, false);
  if (!session) return notFound(ctx, `No experiment or project with id ${sessionId} in this store.`);
  const isExperiment = !!session.reference_dataset_id;
  // Live while an experiment records: the version first, so a write landing during this render only
  // makes the page look older than it is (the script then fetches it once more), never newer.
  const live = isExperiment && !session.end_time;
  const version = live ? liveVersion(store, session.id) : undefined;
  const stats = store.sessions.stats(session.id);
  const dataset = session.reference_dataset_id ? store.datasets.get(session.reference_dataset_id) : undefined;
  const fb = stats.feedback_stats;
  const pass = fb.pass;
  const keys = feedbackKeys([fb], MAX_KEY_COLUMNS);
  // The JSON report's numbers with their intervals, from the experiment's tests (not a tracing project's).
  const spread = isExperiment ? sessionSpread(store, session) : undefined;

  const statusParam = url.searchParams.get("status");
  const status: StatusFilter = statusParam === "passed" || statusParam === "failed" ? statusParam : "all";
  const search = (url.searchParams.get("q") ?? "").trim().slice(0, 200);
  const pageNo = pageParam(url);
  const { runs, total } = store.runs.rootPage({
    sessionId: session.id,
    status,
    search,
    order: isExperiment ? "asc" : "desc",
    limit: RUNS_PER_PAGE,
    offset: (pageNo - 1) * RUNS_PER_PAGE,
  });
  const comments = commentsByRunAndKey(
    ctx,
    runs.map((r) => r.id),
  );

  // ---- summary ----
  const errors = stats.error_rate !== null ? Math.round(stats.error_rate * stats.run_count) : 0;
  const passed = pass && pass.avg !== null ? Math.round(pass.avg * pass.n) : null;
  const pending = store.runs.rootCounts([session.id]).get(session.id)?.pending ?? 0;
  const cards: Html[] = [
    statCard(
      isExperiment ? "Runs" : "Traces",
      fmtCount(stats.run_count),
      isExperiment
        ? pending
          ? `${fmtCount(pending)} still running`
          : undefined
        : stats.last_run_start_time
          ? html`last ${fmtTime(stats.last_run_start_time)}`
          : undefined,
    ),
  ];
  if (pass) {
    const rate = spread?.passRate ?? pass.avg;
    cards.push(
      statCard(
        "Pass rate",
        html`<span class="score ${scoreClass(rate)}" data-measure="pass" data-value="${String(rate)}">${fmtPct(rate)}</span>${ciSpan(spread?.passRateCi, "pct", PASS_CI_TITLE)}`,
        `${fmtCount(passed ?? 0)} of ${fmtCount(pass.n)} passed`,
      ),
    );
  }
  if (spread && (spread.trials ?? 0) >= 2) cards.push(statCard("Trials", fmtCount(spread.trials ?? 0), atKText(spread)));
  cards.push(
    statCard(
      "Errors",
      errors ? html`<span class="score bad">${fmtCount(errors)}</span>` : "0",
      stats.error_rate !== null ? `${fmtPct(stats.error_rate)} of runs` : undefined,
    ),
  );
  cards.push(
    statCard("Latency p50", fmtSeconds(stats.latency_p50), stats.latency_p99 !== null ? `p99 ${fmtSeconds(stats.latency_p99)}` : undefined),
  );
  for (const k of keys) {
    const s = fb[k]!;
    const mean = spread?.scores[k]?.mean ?? s.avg;
    cards.push(
      statCard(
        k,
        mean !== null
          ? html`<span class="score ${scoreClass(mean)}" data-measure="${k}" data-value="${String(mean)}">${fmtScore(mean)}</span>${ciSpan(spread?.scores[k]?.ci, "score", SCORE_CI_TITLE)}`
          : Object.keys(s.values).length
            ? `${Object.keys(s.values).length} values`
            : "",
        `${fmtCount(s.n)} feedback${s.stdev !== null && s.n > 1 ? ` · σ ${fmtScore(s.stdev)}` : ""}`,
      ),
    );
  }

  // ---- runs table ----
  const filterLinks = (
    [
      ["all", "All"],
      ["passed", isExperiment ? "Passed" : "OK"],
      ["failed", isExperiment ? "Failed" : "Errors"],
    ] as const
  ).map(
    ([value, label]) =>
      html`<a class="${status === value ? "on" : ""}" href="${withParams(url, { status: value === "all" ? null : value, page: null })}">${label}</a>`,
  );
  const keep = ["selectedSessions", "status"].flatMap((k) => {
    const v = url.searchParams.get(k);
    return v ? [html`<input type="hidden" name="${k}" value="${v}">`] : [];
  });
  const rows = runs.map((run, i) => {
    const st = runStatus(run);
    const err = errorText(run.error);
    return html`<tr>
      <td class="num muted">${fmtCount((pageNo - 1) * RUNS_PER_PAGE + i + 1)}</td>
      <td class="name"><a href="${links.run(run.id)}">${run.name || "(unnamed)"}</a></td>
      <td class="nowrap">${statusChip(st)}</td>
      ${isExperiment ? "" : html`<td class="nowrap">${fmtTime(run.start_time)}</td>`}
      <td class="num">${fmtLatency(latencyMs(run.start_time, run.end_time))}</td>
      ${keys.map((k) => feedbackCell(run.feedback_stats?.[k], comments.get(`${run.id} ${k}`)))}
      <td class="preview"><div title="${preview(run.inputs, 1000)}">${preview(run.inputs)}</div></td>
      <td class="preview">${err ? html`<div class="err" title="${err.slice(0, 1000)}">${err}</div>` : html`<div title="${preview(run.outputs, 1000)}">${preview(run.outputs)}</div>`}</td>
    </tr>`;
  });
  const filtered = status !== "all" || search !== "";
  const table = html`<div class="tablewrap"><table class="grid">
    <thead><tr><th class="num">#</th><th>${isExperiment ? "Test" : "Trace"}</th><th>Status</th>${isExperiment ? "" : html`<th>Started</th>`}<th class="num">Latency</th>
      ${keys.map((k) => html`<th class="num" title="${k}">${k}</th>`)}<th>Inputs</th><th>Outputs</th></tr></thead>
    <tbody>${rows.length ? rows : html`<tr><td colspan="${6 + keys.length + (isExperiment ? 0 : 1)}" class="empty">${filtered ? "No runs match this filter." : "No runs recorded yet."}</td></tr>`}</tbody>
    ${
      stats.run_count
        ? html`<tfoot><tr><td></td><td>Average <span class="muted small">(all ${fmtCount(stats.run_count)} ${isExperiment ? "runs" : "traces"})</span></td>
        <td class="nowrap">${pass ? html`<span class="score ${scoreClass(pass.avg)}">${fmtPct(pass.avg)}</span>` : ""}</td>${isExperiment ? "" : html`<td></td>`}
        <td class="num" title="median">${fmtSeconds(stats.latency_p50)}</td>
        ${keys.map((k) => averageCell(fb[k]))}<td></td><td></td></tr></tfoot>`
        : ""
    }
  </table></div>`;

  const previous = isExperiment ? store.sessions.previousExperiment(session.id) : undefined;
  const body = html`
    ${crumbs(sessionCrumbs(store, session, false))}
    <h1>${session.name} ${isExperiment ? "" : html`<span class="chip">tracing project</span>`}${live ? liveStatus(session.id) : ""}</h1>
    ${
      previous && session.reference_dataset_id
        ? html`<p class="small"><a id="compare-previous" href="${compareLink(session.reference_dataset_id, [previous.id, session.id])}" title="Side by side with ${previous.name}, the newest earlier finished experiment of this dataset">Compare with previous</a> <span class="muted">(${previous.name})</span></p>`
        : ""
    }
    <div id="live-root"${live && version ? html` data-version="${version}"` : ""}>
    ${session.description ? html`<p class="desc">${session.description}</p>` : ""}
    ${metadataGrid(session, dataset ? html`<a href="${links.dataset(dataset.id)}">${dataset.name}</a>` : isExperiment ? html`<span class="muted">(deleted)</span>` : null)}
    <div class="stats">${cards}</div>
    ${spread ? trialsTable(spread) : ""}
    <div class="toolbar"><h2>${isExperiment ? "Test runs" : "Traces"}</h2><div class="seg">${filterLinks}</div>
      <form class="search" method="get" action="${url.pathname}">${keep}<input type="search" name="q" value="${search}" placeholder="Filter by name"><button type="submit">Search</button></form></div>
    ${table}
    ${pager(url, pageNo, RUNS_PER_PAGE, total, isExperiment ? "runs" : "traces")}
    ${
      Object.keys(metadataOf(session)).length
        ? html`<details class="io"><summary>All metadata</summary>${jsonBlock(metadataOf(session))}</details>`
        : ""
    }
    </div>
    ${live ? liveScript(ctx.nonce) : ""}`;
  return render(ctx, session.name, isExperiment ? "experiments" : "projects", body);
}

/** The compare page of these experiments (the first is the one Δ is measured against). */
export function compareLink(datasetId: string, sessionIds: string[]): string {
  return `/datasets/${encodeURIComponent(datasetId)}/compare?selectedSessions=${sessionIds.map(encodeURIComponent).join(",")}`;
}

/** "runId key" → the comments of that feedback, for cell tooltips. */
function commentsByRunAndKey(ctx: PageContext, runIds: string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (!runIds.length) return out;
  for (const f of ctx.store.feedback.list({ runs: runIds, hasComment: true, limit: runIds.length * 20 })) {
    if (typeof f.comment !== "string" || f.comment === "" || !f.run_id) continue;
    const k = `${f.run_id} ${f.key}`;
    out.set(k, out.has(k) ? `${out.get(k)}\n${f.comment}` : f.comment);
  }
  return out;
}
