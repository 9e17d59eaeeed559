// `/runs/:id`: one trace. Its summary (timing, tokens, model-cache marks, feedback), then the spans as
// a waterfall: one row per span in tree order, each with a bar on the trace's timeline and its inputs
// and outputs in a <details> (the root's open, with the reference outputs of its example).
import type { Feedback } from "../../db/feedback.js";
import { type Html, errorText, fmtCount, fmtLatency, fmtScore, fmtTime, html, isRecord, latencyMs, scoreClass } from "../html.js";
import { crumbs } from "../layout.js";
import {
  type SpanRow,
  cacheChip,
  cacheCounts,
  renderWaterfall,
  spanUsage,
  sumUsage,
  tokensText,
  tokensTitle,
  treeRows,
} from "../waterfall.js";
import {
  type PageContext,
  type UiResponse,
  links,
  notFound,
  redirect,
  render,
  runStatus,
  sessionCrumbs,
  statusChip,
  typeChip,
} from "./common.js";

const MAX_NODES = 2000;
/** Above this many spans, each JSON block is cut shorter (the page holds every span's inputs and outputs). */
const LARGE_TRACE = 200;

export function tracePage(ctx: PageContext, runId: string): UiResponse {
  const { store } = ctx;
  const run = store.runs.get(runId);
  if (!run) return notFound(ctx, `No run with id ${runId} in this store.`);
  // A child run: show its whole trace, opened at the child.
  if (run.parent_run_id && run.trace_id !== run.id && store.runs.get(run.trace_id)) return redirect(links.run(run.trace_id, run.id));

  const { runs, truncated } = store.runs.traceRuns(run.trace_id, MAX_NODES);
  if (!runs.some((r) => r.id === run.id)) runs.unshift(run);
  const rows = treeRows(runs, run.id);
  const spanIds = new Set(rows.map((r) => r.run.id));

  const feedback = store.feedback.list({ runs: [...spanIds], limit: 10_000 });
  const feedbackByRun = new Map<string, Feedback[]>();
  for (const f of feedback) {
    if (!f.run_id) continue;
    const list = feedbackByRun.get(f.run_id) ?? [];
    list.push(f);
    feedbackByRun.set(f.run_id, list);
  }

  const session = run.session_id ? store.sessions.get(run.session_id, false) : undefined;
  const example = run.reference_example_id ? store.examples.get(run.reference_example_id) : undefined;
  const status = runStatus(run);
  const tokens = sumUsage(rows.map((r) => spanUsage(r.run)));
  const cache = cacheCounts(rows);
  const errors = rows.filter((r) => errorText(r.run.error) !== "").length;

  const body = html`
    ${crumbs([...(session ? sessionCrumbs(store, session, true) : [{ label: "Experiments", href: "/" }])])}
    <h1>${run.name || "(unnamed run)"} ${statusChip(status)} ${typeChip(run.run_type)}</h1>
    <dl class="meta">
      <div><dt>Started</dt><dd>${fmtTime(run.start_time)}</dd></div>
      <div><dt>Latency</dt><dd>${fmtLatency(latencyMs(run.start_time, run.end_time)) || html`<span class="muted">—</span>`}</dd></div>
      <div><dt>Runs in trace</dt><dd>${fmtCount(rows.length)}${truncated ? "+" : ""}${
        errors ? html` <span class="score bad">· ${fmtCount(errors)} with errors</span>` : ""
      }</dd></div>
      ${tokens ? html`<div class="trace-tokens"><dt>Tokens</dt><dd title="${tokensTitle(tokens)}">${tokensText(tokens)} <span class="muted small">(${fmtCount(tokens.input)} in · ${fmtCount(tokens.output)} out)</span></dd></div>` : ""}
      ${
        cache
          ? html`<div class="trace-cache"><dt>Model cache</dt><dd>${(["hit", "recorded", "miss"] as const)
              .filter((m) => cache[m] > 0)
              .map((m) => html`${cacheChip(m, `${fmtCount(cache[m])} ${m}`)} `)}</dd></div>`
          : ""
      }
      ${session ? html`<div><dt>${session.reference_dataset_id ? "Experiment" : "Project"}</dt><dd><a href="${links.session(session)}">${session.name}</a></dd></div>` : ""}
      <div><dt>Run id</dt><dd class="mono small" title="${run.id}">${run.id}</dd></div>
      ${run.reference_example_id ? html`<div><dt>Example id</dt><dd class="mono small" title="${run.reference_example_id}">${run.reference_example_id}</dd></div>` : ""}
      ${run.tags.length ? html`<div><dt>Tags</dt><dd>${run.tags.map((t) => html`<span class="chip">${String(t)}</span> `)}</dd></div>` : ""}
    </dl>
    ${truncated ? html`<div class="note">This trace has more than ${fmtCount(MAX_NODES)} runs; the first ${fmtCount(MAX_NODES)} by start time are shown.</div>` : ""}
    ${feedbackTable(feedback, run.id, spanIds, rows)}
    <section class="card trace-card">
      <div class="card-head"><h2>Trace</h2><span class="muted small">${fmtCount(rows.length)} span${rows.length === 1 ? "" : "s"} · click a span for its inputs and outputs</span>
        <div class="tree-tools"><button type="button" data-toggle-tree="open">Expand all</button><button type="button" data-toggle-tree="close">Collapse all</button></div></div>
      ${renderWaterfall(rows, {
        now: Date.now(),
        feedbackByRun,
        hasReference: example !== undefined,
        referenceOutputs: example?.outputs,
        maxJsonChars: rows.length > LARGE_TRACE ? 20_000 : undefined,
      })}
    </section>`;
  return render(ctx, run.name || "Run", session && !session.reference_dataset_id ? "projects" : "experiments", body);
}

function feedbackTable(feedback: Feedback[], rootId: string, spanIds: Set<string>, rows: SpanRow[]): Html {
  if (!feedback.length) return html``;
  const names = new Map(rows.map((r) => [r.run.id, r.run.name]));
  const onChildren = feedback.some((f) => f.run_id !== rootId);
  const hasValue = feedback.some((f) => f.value !== null && f.value !== undefined && f.value !== "");
  const hasComment = feedback.some((f) => typeof f.comment === "string" && f.comment !== "");
  const tableRows = feedback
    .slice()
    .sort((a, b) => (a.run_id === rootId ? 0 : 1) - (b.run_id === rootId ? 0 : 1) || a.key.localeCompare(b.key))
    .map((f) => {
      const score = typeof f.score === "boolean" ? (f.score ? 1 : 0) : typeof f.score === "number" ? f.score : null;
      const source = isRecord(f.feedback_source) && typeof f.feedback_source.type === "string" ? f.feedback_source.type : "";
      const on = f.run_id && spanIds.has(f.run_id) ? f.run_id : undefined;
      return html`<tr>
        <td class="nowrap"><b>${f.key}</b></td>
        <td class="num">${score !== null ? html`<span class="score ${scoreClass(score)}">${typeof f.score === "boolean" ? String(f.score) : fmtScore(score)}</span>` : html`<span class="muted">—</span>`}</td>
        ${hasValue ? html`<td>${f.value !== null && f.value !== undefined ? (typeof f.value === "string" ? f.value : JSON.stringify(f.value)) : ""}</td>` : ""}
        ${hasComment ? html`<td class="comment">${typeof f.comment === "string" ? f.comment : ""}</td>` : ""}
        <td class="muted">${source}</td>
        ${onChildren ? html`<td>${on && on !== rootId ? html`<a href="#run-${on}">${names.get(on) || "(unnamed)"}</a>` : html`<span class="muted">root</span>`}</td>` : ""}
      </tr>`;
    });
  return html`<h2>Feedback</h2><div class="tablewrap feedback"><table class="grid">
    <thead><tr><th>Key</th><th class="num">Score</th>${hasValue ? html`<th>Value</th>` : ""}${hasComment ? html`<th>Comment</th>` : ""}<th>Source</th>${onChildren ? html`<th>Run</th>` : ""}</tr></thead>
    <tbody>${tableRows}</tbody></table></div>`;
}
