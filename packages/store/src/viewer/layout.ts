// The page shell: inline CSS, a few lines of inline JS (local times, expand/collapse), no external
// assets. The script runs under a per-response CSP nonce, so markup injected through data could not
// run script even if escaping were ever missed.
import { type Fragment, type Html, html, raw } from "./html.js";

const CSS = `
:root {
  --bg: #f6f7f9; --fg: #1f2328; --muted: #656d76; --border: #d8dee4; --soft: #eef1f4; --card: #fff;
  --accent: #4f46e5; --accent-soft: #eef2ff; --head: #111827;
  --good: #1a7f37; --good-bg: #dafbe1; --bad: #cf222e; --bad-bg: #ffebe9; --mid: #9a6700; --mid-bg: #fff8c5;
  --code: #f6f8fa; --j-key: #0550ae; --j-str: #0a3069; --j-num: #953800; --j-lit: #8250df;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #8d96a0; --border: #30363d; --soft: #161b22; --card: #0f141a;
    --accent: #8b8cf8; --accent-soft: #1f2240; --head: #010409;
    --good: #3fb950; --good-bg: #12261a; --bad: #f85149; --bad-bg: #2d1517; --mid: #d29922; --mid-bg: #2b2111;
    --code: #161b22; --j-key: #79c0ff; --j-str: #a5d6ff; --j-num: #ffa657; --j-lit: #d2a8ff;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; }
header.top { background: var(--head); color: #fff; padding: 0 24px; display: flex; align-items: center; gap: 24px; height: 48px; }
header.top .brand { font-weight: 700; font-size: 16px; color: #fff; letter-spacing: .02em; }
header.top .brand span { color: #a5b4fc; }
header.top nav a { color: #cbd5e1; margin-right: 16px; }
header.top nav a.on, header.top nav a:hover { color: #fff; text-decoration: none; }
header.top .store { margin-left: auto; color: #94a3b8; font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 45%; }
main { max-width: 1440px; margin: 0 auto; padding: 20px 24px 64px; }
h1 { font-size: 22px; margin: 4px 0 6px; display: flex; align-items: center; gap: 10px; flex-wrap: wrap; word-break: break-word; }
h2 { font-size: 16px; margin: 28px 0 10px; }
h2 .muted, h1 .muted { font-weight: 400; font-size: 14px; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
.crumbs { font-size: 13px; color: var(--muted); margin-bottom: 2px; }
.crumbs a { color: var(--muted); }
.crumbs a:hover { color: var(--accent); }
.crumbs .sep { margin: 0 6px; opacity: .6; }
.desc { color: var(--muted); margin: 0 0 12px; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 10px; padding: 14px 16px; margin: 0 0 16px; }
.card > h2:first-child { margin-top: 0; }
.card-head { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; margin-bottom: 10px; }
.card-head h2 { margin: 0; }
.card-head .right { margin-left: auto; }
.meta { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 10px 24px; margin: 12px 0 4px; }
.meta div { min-width: 0; }
.meta dt { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.meta dd { margin: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; margin: 16px 0; }
.stat { background: var(--card); border: 1px solid var(--border); border-radius: 10px; padding: 10px 14px; }
.stat .label { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.stat .value { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
.stat .sub { font-size: 12px; color: var(--muted); }
.ci { font-size: 12px; font-weight: 400; color: var(--muted); font-variant-numeric: tabular-nums; white-space: nowrap; margin-left: 4px; }
.tablewrap.feedback { max-width: 960px; margin-bottom: 16px; }
.tablewrap { overflow-x: auto; border: 1px solid var(--border); border-radius: 10px; background: var(--card); }
table.grid { width: 100%; border-collapse: collapse; }
table.grid th { text-align: left; font-weight: 600; font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted);
  background: var(--soft); padding: 8px 10px; border-bottom: 1px solid var(--border); white-space: nowrap; }
table.grid td { padding: 7px 10px; border-bottom: 1px solid var(--border); vertical-align: top; }
table.grid tbody tr:last-child td { border-bottom: 0; }
table.grid tbody tr:hover td { background: var(--soft); }
table.grid tfoot td { background: var(--soft); font-weight: 600; border-top: 1px solid var(--border); }
table.grid .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.grid .nowrap { white-space: nowrap; }
table.grid td.name { min-width: 240px; max-width: 420px; word-break: break-word; }
table.grid td.comment { white-space: pre-wrap; }
table.grid td.name a { font-weight: 550; }
td.preview { max-width: 300px; min-width: 160px; }
td.preview div { overflow: hidden; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; word-break: break-word;
  font-size: 12px; line-height: 1.45; color: var(--muted); }
td.preview div.err { color: var(--bad); }
.empty { padding: 28px; text-align: center; color: var(--muted); }
.chip { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; line-height: 18px; white-space: nowrap;
  background: var(--soft); color: var(--muted); border: 1px solid transparent; }
.chip.pass, .chip.good { color: var(--good); background: var(--good-bg); }
.chip.fail, .chip.error, .chip.bad { color: var(--bad); background: var(--bad-bg); }
.chip.pending, .chip.running, .chip.mid { color: var(--mid); background: var(--mid-bg); }
.chip.type { font-weight: 500; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 11px; background: transparent; border-color: var(--border); }
.chip.type-llm { color: #8250df; border-color: #d8b9ff; }
.chip.type-tool { color: #bc4c00; border-color: #ffc8a0; }
.chip.type-retriever { color: #1a7f37; border-color: #a6e3b5; }
.chip.type-chain { color: #0969da; border-color: #a8cbf5; }
.score.good { color: var(--good); } .score.mid { color: var(--mid); } .score.bad { color: var(--bad); }
.score { font-weight: 600; }
.kv { display: inline-block; margin: 0 10px 2px 0; white-space: nowrap; font-size: 12px; }
.kv b { font-weight: 600; }
.toolbar { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; margin: 18px 0 10px; }
.toolbar h2 { margin: 0 8px 0 0; }
.seg { display: inline-flex; border: 1px solid var(--border); border-radius: 8px; overflow: hidden; background: var(--card); }
.seg a { padding: 4px 12px; color: var(--fg); border-right: 1px solid var(--border); font-size: 13px; }
.seg a:last-child { border-right: 0; }
.seg a.on { background: var(--accent-soft); color: var(--accent); font-weight: 600; }
.seg a:hover { text-decoration: none; background: var(--soft); }
form.search { display: inline-flex; gap: 6px; margin-left: auto; }
form.search input { font: inherit; padding: 4px 10px; border: 1px solid var(--border); border-radius: 8px; background: var(--card); color: var(--fg); width: 240px; }
button, form.search button { font: inherit; font-size: 13px; padding: 4px 12px; border: 1px solid var(--border); border-radius: 8px; background: var(--card); color: var(--fg); cursor: pointer; }
button:hover { background: var(--soft); }
.pager { display: flex; align-items: center; gap: 12px; margin: 12px 0; color: var(--muted); font-size: 13px; }
.pager a { padding: 3px 10px; border: 1px solid var(--border); border-radius: 8px; background: var(--card); }
.pager .gap { margin-left: auto; }
.note { padding: 8px 12px; border-radius: 8px; background: var(--mid-bg); color: var(--mid); margin: 10px 0; font-size: 13px; }
pre.json { margin: 0; background: var(--code); border: 1px solid var(--border); border-radius: 8px; padding: 10px 12px; overflow: auto; max-height: 520px;
  font-size: 12px; line-height: 1.45; white-space: pre-wrap; word-break: break-word; }
pre.json.error { color: var(--bad); background: var(--bad-bg); border-color: transparent; }
pre.json .cut { display: block; margin-top: 6px; color: var(--muted); font-style: italic; }
.j-key { color: var(--j-key); } .j-str { color: var(--j-str); } .j-num { color: var(--j-num); } .j-lit { color: var(--j-lit); }
.tree-tools { margin-left: auto; display: flex; gap: 6px; }
details.io > summary::-webkit-details-marker, details.more > summary::-webkit-details-marker { display: none; }
details.io > summary::before, details.more > summary::before { content: "▸"; color: var(--muted); width: 10px; flex: none; display: inline-block; transition: transform .1s; }
details.io[open] > summary::before, details.more[open] > summary::before { transform: rotate(90deg); }
details.io > summary, details.more > summary { list-style: none; cursor: pointer; font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; padding: 2px 0; display: flex; gap: 6px; align-items: center; }
details.io > pre, details.more > pre { margin-top: 4px; }
.io-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 12px; }
.sr-only { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; border: 0; }
:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.trace-card { margin-top: 16px; }
.waterfall { display: grid; font-size: 13px; }
.waterfall .wf-head, .waterfall summary.span-head { display: grid; grid-template-columns: minmax(0, 5fr) minmax(140px, 6fr) 76px; gap: 4px 12px; align-items: center; }
.waterfall .wf-head { font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); padding: 0 8px 6px; border-bottom: 1px solid var(--border); }
.waterfall .wf-head .scale { position: relative; height: 16px; text-transform: none; letter-spacing: 0; font-variant-numeric: tabular-nums; }
.waterfall .wf-head .scale > span { position: absolute; top: 0; transform: translateX(-50%); white-space: nowrap; }
.waterfall .wf-head .scale > span.start { transform: none; }
.waterfall .wf-head .scale > span.end { transform: translateX(-100%); }
.waterfall .dur { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; color: var(--muted); font-size: 12px; }
.waterfall .span-row { border-bottom: 1px solid var(--soft); }
.waterfall .span-row.target, .waterfall .span-row:target { background: var(--accent-soft); }
.waterfall details.io > summary.span-head { display: grid; text-transform: none; letter-spacing: 0; font-size: 13px; font-weight: 400; color: var(--fg); padding: 4px 8px; border-radius: 6px; }
.waterfall details.io > summary.span-head::before { display: none; }
.waterfall summary.span-head:hover { background: var(--soft); }
.waterfall .span-label { display: flex; align-items: center; gap: 6px; min-width: 0; overflow: hidden; white-space: nowrap; }
.waterfall .span-label > * { flex: none; }
.waterfall .span-label .nname { flex: 0 1 auto; min-width: 40px; overflow: hidden; text-overflow: ellipsis; font-weight: 600; }
.waterfall .caret::before { content: "▸"; color: var(--muted); display: inline-block; width: 10px; transition: transform .1s; }
.waterfall details[open] > summary .caret::before { transform: rotate(90deg); }
.waterfall .tokens { font-size: 11px; color: var(--muted); font-variant-numeric: tabular-nums; }
.waterfall .chip { font-size: 11px; line-height: 16px; padding: 0 6px; }
.waterfall .track { position: relative; height: 12px; border-radius: 3px;
  background: repeating-linear-gradient(to right, var(--border) 0 1px, transparent 1px 25%), var(--soft); }
.waterfall .bar { position: absolute; top: 2px; bottom: 2px; min-width: 2px; border-radius: 3px; background: var(--accent); opacity: .8; }
.waterfall .bar.error { background: var(--bad); }
.waterfall .bar.running { background: repeating-linear-gradient(45deg, var(--mid) 0 6px, var(--mid-bg) 6px 12px); opacity: 1; }
.waterfall .bar.untimed { display: none; }
.waterfall .span-error { grid-column: 1 / -1; color: var(--bad); font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; margin-left: 16px; }
.waterfall .io-body { margin: 4px 8px 12px 24px; padding: 10px 12px; border-left: 2px solid var(--border); display: grid; gap: 8px; }
.waterfall .io-body p { margin: 0; }
.trends { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 12px; margin: 0 0 8px; }
figure.trend-fig { margin: 0; background: var(--card); border: 1px solid var(--border); border-radius: 10px; padding: 10px 12px 6px; min-width: 0; }
figure.trend-fig figcaption { display: flex; align-items: baseline; gap: 8px; margin-bottom: 4px; min-width: 0; }
figure.trend-fig .trend-name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; }
figure.trend-fig figcaption .muted { margin-left: auto; white-space: nowrap; }
svg.trend { display: block; width: 100%; height: auto; overflow: visible; }
svg.trend .grid-line { stroke: var(--border); stroke-width: 1; }
svg.trend .axis-label { fill: var(--muted); font-size: 10px; font-variant-numeric: tabular-nums; }
svg.trend .whisker { stroke: var(--accent); stroke-opacity: .35; stroke-width: 3; stroke-linecap: round; }
svg.trend .line { fill: none; stroke: var(--accent); stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
svg.trend .dot { fill: var(--card); stroke: var(--accent); stroke-width: 2; }
svg.trend .hit { fill: transparent; stroke: none; }
svg.trend a.point { cursor: pointer; }
svg.trend a.point:hover .dot, svg.trend a.point:focus .dot { fill: var(--accent); }
svg.trend a.point:focus { outline: none; }
svg.trend a.point:focus .hit { fill: var(--accent-soft); stroke: var(--fg); stroke-width: 2; }
.trend-note { margin: 4px 0 12px; }
.io-grid h3 { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 0 0 6px; }
`;

const SCRIPT = `
for (const t of document.querySelectorAll("time[datetime]")) {
  const d = new Date(t.getAttribute("datetime"));
  if (!isNaN(d)) { t.title = t.textContent; t.textContent = d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" }); }
}
for (const b of document.querySelectorAll("[data-toggle-tree]")) {
  b.addEventListener("click", () => {
    const open = b.getAttribute("data-toggle-tree") === "open";
    for (const d of document.querySelectorAll(".waterfall details.io")) d.open = open;
  });
}
const hit = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
if (hit) {
  for (let e = hit; e; e = e.parentElement) if (e.tagName === "DETAILS") e.open = true;
  const own = hit.querySelector(":scope > details");
  if (own) own.open = true;
  hit.classList.add("target");
  hit.scrollIntoView({ block: "center" });
}
`;

export type Section = "experiments" | "projects";

export interface PageOptions {
  title: string;
  section?: Section;
  nonce: string;
  storeLabel: string;
}

export function page(opts: PageOptions, body: Fragment): Html {
  const nav = (href: string, label: string, key: Section) =>
    html`<a href="${href}" class="${opts.section === key ? "on" : ""}">${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${opts.title} · Tally</title>
<link rel="icon" href="data:,">
<style>${raw(CSS)}</style>
</head>
<body>
<header class="top"><a class="brand" href="/">tally<span>·</span>ui</a>
<nav>${nav("/", "Experiments", "experiments")}${nav("/projects", "Tracing projects", "projects")}</nav>
<div class="store" title="${opts.storeLabel}">${opts.storeLabel}</div></header>
<main>
${body}
</main>
<script nonce="${opts.nonce}">${raw(SCRIPT)}</script>
</body>
</html>
`;
}

export interface Crumb {
  label: string;
  href?: string;
}

export function crumbs(list: Crumb[]): Html {
  return html`<div class="crumbs">${list.map((c, i) => html`${i ? html`<span class="sep">/</span>` : ""}${c.href ? html`<a href="${c.href}">${c.label}</a>` : c.label}`)}</div>`;
}
