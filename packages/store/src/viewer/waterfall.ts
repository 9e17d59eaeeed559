// A trace as a waterfall: one row per span in tree order (indented by depth), each with a bar placed
// by its start offset from the root's start and sized by its duration, its run type, duration, token
// usage, model-cache mark and error, and its inputs/outputs in a <details>. The pieces that read runs
// (tree order, timeline, usage, cache marks) are plain functions, tested on their own.
import type { Feedback } from "../db/feedback.js";
import type { Run } from "../db/runs.js";
import { timeMs } from "../db/time.js";
import { type Fragment, type Html, errorText, fmtCount, fmtLatency, fmtScore, html, isRecord, jsonBlock } from "./html.js";

// ---- tree order ----

export interface SpanRow {
  run: Run;
  depth: number;
  /** The run's parent as shown (a run whose parent is missing hangs under the root). */
  parentId: string | null;
}

/**
 * The trace's runs in tree order (depth first, siblings by dotted order, else start time), starting
 * at `rootId`. Runs whose parent is not among them (a partial trace), or that a broken parent chain
 * leaves unreachable, hang under the root after its own children. Iterative: deep trees are fine.
 */
export function treeRows(runs: readonly Run[], rootId: string): SpanRow[] {
  const byId = new Map(runs.map((r) => [r.id, r]));
  const root = byId.get(rootId);
  if (!root) return [];
  const children = new Map<string, Run[]>();
  for (const r of runs) {
    if (r.id === rootId || !r.parent_run_id || !byId.has(r.parent_run_id)) continue;
    const list = children.get(r.parent_run_id) ?? [];
    list.push(r);
    children.set(r.parent_run_id, list);
  }
  const order = (a: Run, b: Run) =>
    (a.dotted_order || a.start_time || "").localeCompare(b.dotted_order || b.start_time || "") || a.id.localeCompare(b.id);
  for (const list of children.values()) list.sort(order);
  const rows: SpanRow[] = [];
  const seen = new Set<string>();
  const walk = (start: Run, depth: number, parentId: string | null) => {
    const stack: SpanRow[] = [{ run: start, depth, parentId }];
    while (stack.length) {
      const row = stack.pop()!;
      if (seen.has(row.run.id)) continue;
      seen.add(row.run.id);
      rows.push(row);
      const kids = children.get(row.run.id) ?? [];
      for (let i = kids.length - 1; i >= 0; i--) stack.push({ run: kids[i]!, depth: row.depth + 1, parentId: row.run.id });
    }
  };
  walk(root, 0, null);
  const rest = runs.filter((r) => !seen.has(r.id)).sort(order);
  // Detached runs first hang whole subtrees of their own, so a child of one stays under it.
  for (const r of rest) if (!r.parent_run_id || !byId.has(r.parent_run_id)) walk(r, 1, rootId);
  for (const r of rest) if (!seen.has(r.id)) walk(r, 1, rootId);
  return rows;
}

// ---- timeline ----

export interface Timeline {
  /** The root's start (ms since the epoch), 0 of the axis. */
  t0: number;
  /** The axis' length in ms (the trace's end, or now while the root runs, minus t0). */
  span: number;
  /** Where a span without an end is drawn to: the root's end, else now. */
  openEnd: number;
}

/** The time axis of a trace: from the root's start (else the earliest start) to the latest end. */
export function timeline(runs: readonly Run[], root: Run, now: number): Timeline | null {
  let t0 = timeMs(root.start_time);
  if (t0 === null) {
    for (const r of runs) {
      const s = timeMs(r.start_time);
      if (s !== null && (t0 === null || s < t0)) t0 = s;
    }
  }
  if (t0 === null) return null;
  const rootEnd = timeMs(root.end_time);
  let t1 = rootEnd ?? now;
  for (const r of runs) {
    const e = timeMs(r.end_time) ?? timeMs(r.start_time);
    if (e !== null) t1 = Math.max(t1, e);
  }
  const openEnd = rootEnd ?? Math.max(now, t1);
  t1 = Math.max(t1, openEnd);
  return { t0, span: Math.max(t1 - t0, 1), openEnd };
}

export interface BarBox {
  /** Percent of the axis. Negative offsets (clock skew) are clamped to 0. */
  left: number;
  width: number;
  running: boolean;
  /** Duration in ms (null while running or untimed). */
  ms: number | null;
}

/** Where a span's bar goes on the axis; null when the span has no start time. */
export function barBox(run: Run, t: Timeline): BarBox | null {
  const s = timeMs(run.start_time);
  if (s === null) return null;
  const e = timeMs(run.end_time);
  const clamp = (n: number) => Math.min(100, Math.max(0, n));
  const left = clamp(((s - t.t0) / t.span) * 100);
  const right = clamp((((e ?? Math.max(t.openEnd, s)) - t.t0) / t.span) * 100);
  return {
    left,
    width: Math.max(0, right - left),
    running: e === null && run.status !== "error",
    ms: e === null ? null : Math.max(0, e - s),
  };
}

// ---- usage and cache marks ----

export interface TokenUsage {
  input: number;
  output: number;
  total: number;
}

function count(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : null;
}

function usageFrom(u: unknown): TokenUsage | null {
  if (!isRecord(u)) return null;
  const input = count(u.input_tokens) ?? count(u.prompt_tokens);
  const output = count(u.output_tokens) ?? count(u.completion_tokens);
  const total = count(u.total_tokens);
  if (input === null && output === null && total === null) return null;
  return { input: input ?? 0, output: output ?? 0, total: total ?? (input ?? 0) + (output ?? 0) };
}

/**
 * A span's token usage: `outputs.usage_metadata` (LangChain / the SDK's wrappers), else OpenAI's
 * `outputs.usage`, else `extra.metadata.usage_metadata`. The first found counts, never two of them.
 */
export function spanUsage(run: Run): TokenUsage | null {
  const out = isRecord(run.outputs) ? run.outputs : {};
  const metadata = isRecord(run.extra?.metadata) ? run.extra.metadata : {};
  return usageFrom(out.usage_metadata) ?? usageFrom(out.usage) ?? usageFrom(metadata.usage_metadata);
}

export function sumUsage(list: readonly (TokenUsage | null)[]): TokenUsage | null {
  let sum: TokenUsage | null = null;
  for (const u of list) {
    if (!u) continue;
    sum ??= { input: 0, output: 0, total: 0 };
    sum.input += u.input;
    sum.output += u.output;
    sum.total += u.total;
  }
  return sum;
}

export type CacheMark = "hit" | "recorded" | "miss";

/** The model cache's mark on a span (`extra.metadata.tally_cache`), if any. */
export function cacheMark(run: Run): CacheMark | null {
  const metadata = isRecord(run.extra?.metadata) ? run.extra.metadata : {};
  const m = metadata.tally_cache;
  return m === "hit" || m === "recorded" || m === "miss" ? m : null;
}

/**
 * Cache marks of a trace, counted. The root's mark sums up its test's calls (Tally marks the test
 * too), so it counts only when no span below it carries one.
 */
export function cacheCounts(rows: readonly SpanRow[]): Record<CacheMark, number> | null {
  const counts: Record<CacheMark, number> = { hit: 0, recorded: 0, miss: 0 };
  let any = false;
  for (const r of rows.slice(1)) {
    const m = cacheMark(r.run);
    if (m) {
      counts[m]++;
      any = true;
    }
  }
  const rootMark = rows[0] ? cacheMark(rows[0].run) : null;
  if (!any && rootMark) {
    counts[rootMark]++;
    any = true;
  }
  return any ? counts : null;
}

// ---- markup ----

export interface WaterfallOptions {
  now: number;
  feedbackByRun: Map<string, Feedback[]>;
  /** Shown in the root's open <details> after its inputs and outputs. */
  referenceOutputs?: unknown;
  hasReference?: boolean;
  /** Per JSON block; large traces pass less. */
  maxJsonChars?: number;
}

/** Indentation stops growing past this depth (the depth is still shown). */
const MAX_INDENT_DEPTH = 16;
const INDENT_PX = 14;

export function tokensText(u: TokenUsage): string {
  return `${fmtCount(u.total)} token${u.total === 1 ? "" : "s"}`;
}

export function tokensTitle(u: TokenUsage): string {
  return `${fmtCount(u.input)} input · ${fmtCount(u.output)} output · ${fmtCount(u.total)} total`;
}

export function cacheChip(mark: CacheMark, label: Fragment = `cache ${mark}`): Html {
  const cls = mark === "hit" ? "good" : mark === "miss" ? "bad" : "mid";
  return html`<span class="chip cache cache-${mark} ${cls}" title="model cache: ${mark}">${label}</span>`;
}

function typeChip(runType: string): Html {
  return html`<span class="chip type type-${runType.replace(/[^a-z]/gi, "")}">${runType}</span>`;
}

function pct(n: number): string {
  return `${n.toFixed(3)}%`;
}

/** The waterfall of a trace's rows (treeRows), root first. */
export function renderWaterfall(rows: readonly SpanRow[], opts: WaterfallOptions): Html {
  if (!rows.length) return html``;
  const root = rows[0]!.run;
  const t = timeline(
    rows.map((r) => r.run),
    root,
    opts.now,
  );
  const ticks = t ? [0, 25, 50, 75, 100].map((p) => ({ p, label: p === 0 ? "0" : fmtLatency((t.span * p) / 100) })) : [];
  return html`<div class="waterfall" role="list">
  <div class="wf-head" aria-hidden="true"><span>Span</span><span class="scale">${ticks.map(
    (k) => html`<span style="left:${k.p}%" class="${k.p === 100 ? "end" : k.p === 0 ? "start" : ""}">${k.label}</span>`,
  )}</span><span class="dur">Duration</span></div>
  ${rows.map((r) => renderRow(r, t, opts))}
</div>`;
}

function renderRow(row: SpanRow, t: Timeline | null, opts: WaterfallOptions): Html {
  const { run, depth } = row;
  const isRoot = depth === 0;
  const err = errorText(run.error);
  const box = t ? barBox(run, t) : null;
  const usage = spanUsage(run);
  const mark = cacheMark(run);
  const fb = isRoot ? [] : (opts.feedbackByRun.get(run.id) ?? []);
  const metadata = isRecord(run.extra?.metadata) ? run.extra.metadata : {};
  const indent = `padding-left:${Math.min(depth, MAX_INDENT_DEPTH) * INDENT_PX}px`;
  const running = box?.running ?? (run.status === "pending" && !err);
  const classes = ["span-row", isRoot ? "root" : "", err ? "error" : "", running ? "running" : ""].filter(Boolean).join(" ");
  const barClass = ["bar", err ? "error" : "", running ? "running" : "", box ? "" : "untimed"].filter(Boolean).join(" ");
  const barStyle = box ? `left:${pct(box.left)};width:${pct(box.width)}` : "left:0%;width:0%";
  const max = opts.maxJsonChars;
  return html`<div class="${classes}" role="listitem" id="run-${run.id}" data-run="${run.id}" data-depth="${depth}"${
    row.parentId ? html` data-parent="${row.parentId}"` : ""
  }>
  <details class="io"${isRoot ? html` open` : ""}>
    <summary class="span-head">
      <span class="span-label" style="${indent}"><span class="caret" aria-hidden="true"></span>${
        depth > MAX_INDENT_DEPTH ? html`<span class="deep muted small" title="depth ${depth}">↳${depth}</span>` : ""
      }<span class="nname" title="${run.name}">${run.name || "(unnamed)"}</span>${typeChip(run.run_type)}${
        err ? html`<span class="chip error">error</span>` : running ? html`<span class="chip running">running</span>` : ""
      }${mark ? cacheChip(mark) : ""}${usage ? html`<span class="tokens" title="${tokensTitle(usage)}">${tokensText(usage)}</span>` : ""}${fb.map(
        (f) =>
          html`<span class="kv"><b>${f.key}</b> ${typeof f.score === "boolean" ? String(f.score) : typeof f.score === "number" ? fmtScore(f.score) : ""}</span>`,
      )}</span>
      <span class="track"><span class="${barClass}" style="${barStyle}"></span></span>
      <span class="dur">${box?.ms !== null && box?.ms !== undefined ? fmtLatency(box.ms) : running ? "running" : html`<span class="muted">—</span>`}</span>
      ${err ? html`<span class="span-error" style="${indent}" title="${err.length > 2000 ? `${err.slice(0, 2000)}…` : err}">${err.length > 300 ? `${err.slice(0, 300)}…` : err}</span>` : ""}
    </summary>
    <div class="io-body">
      <div class="io-grid">
        <div><h3>Inputs</h3>${jsonBlock(run.inputs, max)}</div>
        ${err ? html`<div><h3>Error</h3><pre class="json error">${err}</pre></div>` : ""}
        ${run.outputs !== null || !err ? html`<div><h3>Outputs</h3>${run.outputs === null ? html`<p class="muted small">${running ? "Still running." : "None."}</p>` : jsonBlock(run.outputs, max)}</div>` : ""}
        ${isRoot && opts.hasReference ? html`<div><h3>Reference outputs</h3>${jsonBlock(opts.referenceOutputs ?? null, max)}</div>` : ""}
      </div>
      ${usage ? html`<p class="small muted">Tokens: ${tokensTitle(usage)}</p>` : ""}
      ${Object.keys(metadata).length ? html`<details class="more"><summary>Metadata</summary>${jsonBlock(metadata, max)}</details>` : ""}
      ${isRoot ? "" : html`<p class="small muted">Span id <span class="mono">${run.id}</span></p>`}
    </div>
  </details>
</div>`;
}
