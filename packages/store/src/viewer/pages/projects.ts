// `/projects`: tracing projects, the sessions that are not experiments (plain traces).
import { fmtCount, fmtTime, html } from "../html.js";
import { type PageContext, type UiResponse, averageCell, feedbackKeys, links, pageParam, pager, render } from "./common.js";

const PROJECTS_PER_PAGE = 50;

export function projectsPage(ctx: PageContext): UiResponse {
  const { store, url } = ctx;
  const pageNo = pageParam(url);
  const { sessions, total } = store.sessions.projects(PROJECTS_PER_PAGE, (pageNo - 1) * PROJECTS_PER_PAGE);
  const ids = sessions.map((s) => s.id);
  const counts = store.runs.rootCounts(ids);
  const averages = store.feedback.averagesBySession(ids);
  const keys = feedbackKeys(
    ids.map((id) => averages.get(id)),
    6,
  );
  const rows = sessions.map((s) => {
    const c = counts.get(s.id) ?? { runs: 0, errors: 0, pending: 0, lastStart: null };
    const avg = averages.get(s.id) ?? {};
    return html`<tr>
      <td class="name"><a href="${links.project(s.id)}">${s.name}</a>${s.description ? html`<div class="muted small">${s.description}</div>` : ""}</td>
      <td class="num">${fmtCount(c.runs)}</td>
      <td class="num">${c.errors ? html`<span class="score bad">${fmtCount(c.errors)}</span>` : html`<span class="muted">0</span>`}</td>
      <td class="nowrap">${fmtTime(c.lastStart)}</td>
      <td class="nowrap">${fmtTime(s.start_time)}</td>
      ${keys.map((k) => averageCell(avg[k]))}
    </tr>`;
  });
  const body = html`
    <h1>Tracing projects</h1>
    <p class="desc">Traces recorded outside experiments (plain <code>traceable</code> calls), newest project first.</p>
    <div class="tablewrap"><table class="grid">
      <thead><tr><th>Project</th><th class="num">Traces</th><th class="num">Errors</th><th>Last trace</th><th>Created</th>
        ${keys.map((k) => html`<th class="num">${k}</th>`)}</tr></thead>
      <tbody>${rows.length ? rows : html`<tr><td colspan="${5 + keys.length}" class="empty">No tracing projects.</td></tr>`}</tbody>
    </table></div>
    ${pager(url, pageNo, PROJECTS_PER_PAGE, total, "projects")}`;
  return render(ctx, "Tracing projects", "projects", body);
}
