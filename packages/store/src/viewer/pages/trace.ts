// `/runs/:id`: one trace. The root run's inputs, outputs, reference outputs and feedback, then the
// whole tree of child runs as nested <details>, each with a bar placing it on the trace's timeline.
import type { Feedback } from "../../db/feedback.js";
import type { Run } from "../../db/runs.js";
import { timeMs } from "../../db/time.js";
import {
  type Html,
  errorText,
  fmtCount,
  fmtLatency,
  fmtScore,
  fmtTime,
  html,
  isRecord,
  jsonBlock,
  latencyMs,
  scoreClass,
} from "../html.js";
import { crumbs } from "../layout.js";
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
/** Up to this many runs, every node and its inputs/outputs start open. */
const SMALL_TRACE = 25;
/** Up to this many runs, every node starts open; above, only the first levels. */
const MEDIUM_TRACE = 200;

interface Node {
  run: Run;
  children: Node[];
}

interface TreeContext {
  t0: number;
  span: number;
  total: number;
  feedbackByRun: Map<string, Feedback[]>;
  rootId: string;
}

export function tracePage(ctx: PageContext, runId: string): UiResponse {
  const { store } = ctx;
  const run = store.runs.get(runId);
  if (!run) return notFound(ctx, `No run with id ${runId} in this store.`);
  // A child run: show its whole trace, opened at the child.
  if (run.parent_run_id && run.trace_id !== run.id && store.runs.get(run.trace_id)) return redirect(links.run(run.trace_id, run.id));

  const { runs, truncated } = store.runs.traceRuns(run.trace_id, MAX_NODES);
  if (!runs.some((r) => r.id === run.id)) runs.unshift(run);
  const nodes = new Map<string, Node>(runs.map((r) => [r.id, { run: r, children: [] }]));
  const root = nodes.get(run.id)!;
  const detached: Node[] = [];
  for (const n of nodes.values()) {
    if (n === root) continue;
    const parent = n.run.parent_run_id ? nodes.get(n.run.parent_run_id) : undefined;
    if (parent) parent.children.push(n);
    else detached.push(n);
  }
  // Runs whose parent is not stored (partial traces) hang under the root, after its own children.
  const order = (a: Node, b: Node) =>
    (a.run.dotted_order || a.run.start_time || "").localeCompare(b.run.dotted_order || b.run.start_time || "");
  for (const n of nodes.values()) n.children.sort(order);
  root.children.push(...detached.sort(order));

  const feedback = store.feedback.list({ runs: [...nodes.keys()], limit: 10_000 });
  const feedbackByRun = new Map<string, Feedback[]>();
  for (const f of feedback) {
    if (!f.run_id) continue;
    const list = feedbackByRun.get(f.run_id) ?? [];
    list.push(f);
    feedbackByRun.set(f.run_id, list);
  }

  let t0 = timeMs(run.start_time) ?? Infinity;
  let t1 = timeMs(run.end_time) ?? -Infinity;
  for (const r of runs) {
    const s = timeMs(r.start_time);
    const e = timeMs(r.end_time) ?? s;
    if (s !== null) t0 = Math.min(t0, s);
    if (e !== null) t1 = Math.max(t1, e);
  }
  const tree: TreeContext = {
    t0,
    span: Number.isFinite(t0) && Number.isFinite(t1) ? Math.max(t1 - t0, 0.001) : 0,
    total: nodes.size,
    feedbackByRun,
    rootId: run.id,
  };

  const session = run.session_id ? store.sessions.get(run.session_id, false) : undefined;
  const example = run.reference_example_id ? store.examples.get(run.reference_example_id) : undefined;
  const status = runStatus(run);
  const err = errorText(run.error);
  const metadata = isRecord(run.extra.metadata) ? run.extra.metadata : {};

  const body = html`
    ${crumbs([...(session ? sessionCrumbs(store, session, true) : [{ label: "Experiments", href: "/" }])])}
    <h1>${run.name || "(unnamed run)"} ${statusChip(status)} ${typeChip(run.run_type)}</h1>
    <dl class="meta">
      <div><dt>Started</dt><dd>${fmtTime(run.start_time)}</dd></div>
      <div><dt>Latency</dt><dd>${fmtLatency(latencyMs(run.start_time, run.end_time)) || html`<span class="muted">—</span>`}</dd></div>
      <div><dt>Runs in trace</dt><dd>${fmtCount(nodes.size)}${truncated ? "+" : ""}</dd></div>
      ${session ? html`<div><dt>${session.reference_dataset_id ? "Experiment" : "Project"}</dt><dd><a href="${links.session(session)}">${session.name}</a></dd></div>` : ""}
      <div><dt>Run id</dt><dd class="mono small" title="${run.id}">${run.id}</dd></div>
      ${run.reference_example_id ? html`<div><dt>Example id</dt><dd class="mono small" title="${run.reference_example_id}">${run.reference_example_id}</dd></div>` : ""}
      ${run.tags.length ? html`<div><dt>Tags</dt><dd>${run.tags.map((t) => html`<span class="chip">${String(t)}</span> `)}</dd></div>` : ""}
    </dl>
    ${truncated ? html`<div class="note">This trace has more than ${fmtCount(MAX_NODES)} runs; the first ${fmtCount(MAX_NODES)} by start time are shown.</div>` : ""}
    ${feedbackTable(feedback, run.id, nodes)}
    <section class="card"><div class="io-grid">
      <div><h3>Inputs</h3>${jsonBlock(run.inputs)}</div>
      <div><h3>${err ? "Error" : "Outputs"}</h3>${err ? html`<pre class="json error">${err}</pre>` : jsonBlock(run.outputs)}</div>
      ${err && run.outputs !== null ? html`<div><h3>Outputs</h3>${jsonBlock(run.outputs)}</div>` : ""}
      ${example ? html`<div><h3>Reference outputs</h3>${jsonBlock(example.outputs)}</div>` : ""}
    </div>
    ${Object.keys(metadata).length ? html`<details class="io"><summary>Metadata</summary>${jsonBlock(metadata)}</details>` : ""}
    </section>
    <section class="card">
      <div class="card-head"><h2>Trace</h2><span class="muted small">${fmtCount(nodes.size)} run${nodes.size === 1 ? "" : "s"}</span>
        <div class="tree-tools"><button type="button" data-toggle-tree="open">Expand all</button><button type="button" data-toggle-tree="close">Collapse all</button></div></div>
      <div class="tree">${renderNode(root, 0, tree)}</div>
    </section>`;
  return render(ctx, run.name || "Run", session && !session.reference_dataset_id ? "projects" : "experiments", body);
}

function feedbackTable(feedback: Feedback[], rootId: string, nodes: Map<string, Node>): Html {
  if (!feedback.length) return html``;
  const onChildren = feedback.some((f) => f.run_id !== rootId);
  const hasValue = feedback.some((f) => f.value !== null && f.value !== undefined && f.value !== "");
  const hasComment = feedback.some((f) => typeof f.comment === "string" && f.comment !== "");
  const rows = feedback
    .slice()
    .sort((a, b) => (a.run_id === rootId ? 0 : 1) - (b.run_id === rootId ? 0 : 1) || a.key.localeCompare(b.key))
    .map((f) => {
      const score = typeof f.score === "boolean" ? (f.score ? 1 : 0) : typeof f.score === "number" ? f.score : null;
      const source = isRecord(f.feedback_source) && typeof f.feedback_source.type === "string" ? f.feedback_source.type : "";
      const on = f.run_id ? nodes.get(f.run_id) : undefined;
      return html`<tr>
        <td class="nowrap"><b>${f.key}</b></td>
        <td class="num">${score !== null ? html`<span class="score ${scoreClass(score)}">${typeof f.score === "boolean" ? String(f.score) : fmtScore(score)}</span>` : html`<span class="muted">—</span>`}</td>
        ${hasValue ? html`<td>${f.value !== null && f.value !== undefined ? (typeof f.value === "string" ? f.value : JSON.stringify(f.value)) : ""}</td>` : ""}
        ${hasComment ? html`<td class="comment">${typeof f.comment === "string" ? f.comment : ""}</td>` : ""}
        <td class="muted">${source}</td>
        ${onChildren ? html`<td>${on && on.run.id !== rootId ? html`<a href="#run-${on.run.id}">${on.run.name}</a>` : html`<span class="muted">root</span>`}</td>` : ""}
      </tr>`;
    });
  return html`<h2>Feedback</h2><div class="tablewrap feedback"><table class="grid">
    <thead><tr><th>Key</th><th class="num">Score</th>${hasValue ? html`<th>Value</th>` : ""}${hasComment ? html`<th>Comment</th>` : ""}<th>Source</th>${onChildren ? html`<th>Run</th>` : ""}</tr></thead>
    <tbody>${rows}</tbody></table></div>`;
}

function bar(run: Run, t: TreeContext): Html {
  if (!t.span) return html``;
  const s = timeMs(run.start_time);
  if (s === null) return html``;
  const e = timeMs(run.end_time);
  const left = ((s - t.t0) / t.span) * 100;
  const width = (((e ?? t.t0 + t.span) - s) / t.span) * 100;
  const cls = run.status === "error" ? "err" : e === null ? "open" : "";
  const style = `left:${left.toFixed(2)}%;width:${Math.max(0, Math.min(100 - left, width)).toFixed(2)}%`;
  return html`<span class="bar" aria-hidden="true"><span class="${cls}" style="${style}"></span></span>`;
}

function renderNode(node: Node, depth: number, t: TreeContext): Html {
  const { run } = node;
  const isRoot = run.id === t.rootId;
  const err = errorText(run.error);
  const open = t.total <= MEDIUM_TRACE || depth < 2;
  const ioOpen = !isRoot && t.total <= SMALL_TRACE;
  const fb = isRoot ? [] : (t.feedbackByRun.get(run.id) ?? []);
  const metadata = isRecord(run.extra.metadata) ? run.extra.metadata : {};
  const lat = latencyMs(run.start_time, run.end_time);
  return html`<details class="node" id="run-${run.id}"${open ? html` open` : ""}>
    <summary><span class="nname" title="${run.name}">${run.name || "(unnamed)"}</span> ${typeChip(run.run_type)}
      ${run.status === "error" ? statusChip("error") : run.status === "pending" ? statusChip("pending") : ""}
      ${fb.map((f) => html`<span class="kv"><b>${f.key}</b> ${typeof f.score === "boolean" ? String(f.score) : typeof f.score === "number" ? fmtScore(f.score) : ""}</span>`)}
      <span class="lat">${lat !== null ? fmtLatency(lat) : ""}</span>${bar(run, t)}</summary>
    <div class="body">
      ${
        isRoot
          ? "" // shown in full above the tree
          : html`<details class="io"${ioOpen ? html` open` : ""}><summary>Inputs</summary>${jsonBlock(run.inputs)}</details>
      ${run.outputs !== null ? html`<details class="io"${ioOpen ? html` open` : ""}><summary>Outputs</summary>${jsonBlock(run.outputs)}</details>` : ""}
      ${err ? html`<details class="io" open><summary>Error</summary><pre class="json error">${err}</pre></details>` : ""}
      ${Object.keys(metadata).length ? html`<details class="io"><summary>Metadata</summary>${jsonBlock(metadata)}</details>` : ""}`
      }
      ${node.children.length ? html`<div class="children">${node.children.map((c) => renderNode(c, depth + 1, t))}</div>` : ""}
    </div>
  </details>`;
}
