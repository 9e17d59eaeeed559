// Pieces shared by the pages: the request context, responses, run status, feedback cells, pager.
import type { FeedbackKeyStats, FeedbackStats, KeyAverage } from "../../db/feedback.js";
import type { Run } from "../../db/runs.js";
import type { Session } from "../../db/sessions.js";
import type { Store } from "../../db/store.js";
import { type Fragment, type Html, fmtCount, fmtPct, fmtScore, html, isRecord, scoreClass, seg } from "../html.js";
import { type Crumb, type Section, crumbs, page } from "../layout.js";

export interface PageContext {
  store: Store;
  url: URL;
  nonce: string;
  storeLabel: string;
}

export type UiResponse = { status: number; body: Html } | { status: 302; location: string };

export function render(ctx: PageContext, title: string, section: Section, body: Fragment, status = 200): UiResponse {
  return { status, body: page({ title, section, nonce: ctx.nonce, storeLabel: ctx.storeLabel }, body) };
}

export function notFound(ctx: PageContext, what: string): UiResponse {
  return render(
    ctx,
    "Not found",
    "experiments",
    html`${crumbs([{ label: "Experiments", href: "/" }])}<h1>Not found</h1><p class="muted">${what}</p><p><a href="/">← All experiments</a></p>`,
    404,
  );
}

export function redirect(location: string): UiResponse {
  return { status: 302, location };
}

export const links = {
  dataset: (id: string) => `/datasets/${seg(id)}`,
  experiment: (id: string) => `/experiments/${seg(id)}`,
  project: (id: string) => `/projects/${seg(id)}`,
  session: (s: Pick<Session, "id" | "reference_dataset_id">) => (s.reference_dataset_id ? links.experiment(s.id) : links.project(s.id)),
  run: (id: string, focus?: string) => `/runs/${seg(id)}${focus ? `#run-${seg(focus)}` : ""}`,
};

/** Breadcrumbs down to a session (experiment: dataset first; project: the projects list). */
export function sessionCrumbs(store: Store, session: Session, withSelf: boolean): Crumb[] {
  const list: Crumb[] = [];
  if (session.reference_dataset_id) {
    list.push({ label: "Experiments", href: "/" });
    const ds = store.datasets.get(session.reference_dataset_id);
    list.push(ds ? { label: ds.name, href: links.dataset(ds.id) } : { label: "(deleted dataset)" });
  } else list.push({ label: "Tracing projects", href: "/projects" });
  if (withSelf) list.push({ label: session.name, href: links.session(session) });
  return list;
}

export type Status = "pass" | "fail" | "error" | "pending" | "ok";

/** A root run's status: its `pass` feedback when it has one, else error / pending / ok. */
export function runStatus(run: Run): Status {
  const pass = run.feedback_stats?.pass;
  if (pass && pass.avg !== null) return pass.avg >= 1 ? "pass" : "fail";
  if (run.status === "error") return "error";
  if (run.status === "pending") return "pending";
  return "ok";
}

const STATUS_LABEL: Record<Status, string> = { pass: "✓ pass", fail: "✗ fail", error: "✗ error", pending: "… pending", ok: "✓ ok" };

export function statusChip(status: Status): Html {
  return html`<span class="chip ${status === "ok" ? "good" : status}">${STATUS_LABEL[status]}</span>`;
}

export function typeChip(runType: string): Html {
  return html`<span class="chip type type-${runType.replace(/[^a-z]/gi, "")}">${runType}</span>`;
}

/** A run's score for one key: the mean score, else its most frequent categorical value. */
export function feedbackCell(stats: FeedbackKeyStats | undefined, title?: string): Html {
  if (!stats) return html`<td class="num muted">—</td>`;
  if (stats.avg !== null) {
    return html`<td class="num"><span class="score ${scoreClass(stats.avg)}" title="${title ?? `${stats.n} feedback`}">${fmtScore(stats.avg)}</span></td>`;
  }
  const top = Object.entries(stats.values).sort((a, b) => b[1] - a[1])[0];
  return html`<td class="num" title="${title ?? ""}">${top ? top[0] : "—"}</td>`;
}

export function averageCell(avg: KeyAverage | FeedbackKeyStats | undefined): Html {
  if (!avg || avg.avg === null) return html`<td class="num muted">—</td>`;
  return html`<td class="num"><span class="score ${scoreClass(avg.avg)}" title="${avg.n} feedback">${fmtScore(avg.avg)}</span></td>`;
}

/** Feedback keys to show as columns: all but `pass` (that is the status), sorted, at most `max`. */
export function feedbackKeys(stats: Iterable<FeedbackStats | Record<string, KeyAverage> | undefined | null>, max = 10): string[] {
  const keys = new Set<string>();
  for (const s of stats) for (const k of Object.keys(s ?? {})) if (k !== "pass") keys.add(k);
  return [...keys].sort().slice(0, max);
}

export function passRateText(pass: KeyAverage | FeedbackKeyStats | undefined): string {
  return pass && pass.avg !== null ? fmtPct(pass.avg) : "";
}

export function metadataOf(session: Session): Record<string, unknown> {
  const extra = session.extra;
  return isRecord(extra) && isRecord(extra.metadata) ? extra.metadata : {};
}

/** A URL of the current page with some query parameters replaced (null removes one). */
export function withParams(url: URL, changes: Record<string, string | null>): string {
  const next = new URL(url.href);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === "") next.searchParams.delete(k);
    else next.searchParams.set(k, v);
  }
  const q = next.searchParams.toString();
  return `${next.pathname}${q ? `?${q}` : ""}`;
}

export function pageParam(url: URL): number {
  const n = Number(url.searchParams.get("page") ?? "1");
  return Number.isInteger(n) && n >= 1 && n <= 1_000_000 ? n : 1;
}

export function pager(url: URL, pageNo: number, pageSize: number, total: number, noun: string): Html {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const from = total ? (pageNo - 1) * pageSize + 1 : 0;
  const to = Math.min(total, pageNo * pageSize);
  return html`<div class="pager"><span>${fmtCount(from)}–${fmtCount(to)} of ${fmtCount(total)} ${noun}</span>
    ${
      pages > 1
        ? html`<span class="gap"></span>
        ${pageNo > 1 ? html`<a href="${withParams(url, { page: pageNo - 1 > 1 ? String(pageNo - 1) : null })}">← Previous</a>` : ""}
        <span>Page ${fmtCount(pageNo)} of ${fmtCount(pages)}</span>
        ${pageNo < pages ? html`<a href="${withParams(url, { page: String(pageNo + 1) })}">Next →</a>` : ""}`
        : ""
    }</div>`;
}

export function shortSha(sha: unknown): string {
  return typeof sha === "string" ? sha.slice(0, 8) : "";
}
