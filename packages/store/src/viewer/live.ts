// Live updates of an experiment page while its run records: `GET /experiments/:id/live` answers a
// small JSON state (three indexed queries), and a short script under the page's CSP nonce polls it
// every 1.5 s while the page is visible. When the state moves on it fetches the page again and swaps
// `#live-root` (DOMParser, scroll kept); when the run has ended it says so in `#live-status` and stops.
// Without JavaScript the page is the same, with a plain "running" chip.
import { Reply } from "@tally/core/http";
import type { SessionActivity } from "../db/sessions.js";
import type { Store } from "../db/store.js";
import { type Html, html, raw, seg } from "./html.js";

export const LIVE_POLL_MS = 1500;

/** What the live endpoint answers. */
export interface LiveState {
  /** Root runs (tests) recorded so far. */
  runs: number;
  /** Root runs still going. */
  pending: number;
  feedback: number;
  ended: boolean;
  endTime: string | null;
  updatedAt: string | null;
  /** Changes whenever anything the page shows may have changed; the page carries the one it was rendered at. */
  version: string;
}

export function liveUrl(sessionId: string): string {
  return `/experiments/${seg(sessionId)}/live`;
}

function versionOf(a: SessionActivity): string {
  return [a.runs, a.allRuns, a.pending, a.feedback, a.updatedAt ?? "", a.ended ? "ended" : "open"].join("|");
}

export function liveState(store: Store, sessionId: string): LiveState | undefined {
  const a = store.sessions.activity(sessionId);
  if (!a) return undefined;
  return {
    runs: a.runs,
    pending: a.pending,
    feedback: a.feedback,
    ended: a.ended,
    endTime: a.endTime,
    updatedAt: a.updatedAt,
    version: versionOf(a),
  };
}

const JSON_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
};

/** `GET /experiments/:id/live`: the state as JSON, or a 404 JSON for an id the store does not have. */
export function liveReply(store: Store, sessionId: string): Reply {
  const state = liveState(store, sessionId);
  if (!state) return new Reply(404, { error: "not_found", detail: "no experiment with this id in this store" }, JSON_HEADERS);
  return new Reply(200, state, JSON_HEADERS);
}

/** The status chip of a running experiment: "running" as rendered; the script makes it "live", then "run ended". */
export function liveStatus(sessionId: string): Html {
  return html`<span id="live-status" class="chip running" data-live="${liveUrl(sessionId)}" title="The run has not ended yet">running</span>`;
}

// Plain ES2020, no template literals inside (it sits in one). Every selector it reads is rendered by
// pages/session.ts: #live-status (data-live: the endpoint) and #live-root (data-version).
const SCRIPT = `
(() => {
  const status = document.getElementById("live-status");
  const root = document.getElementById("live-root");
  if (!status || !root || !window.fetch || !window.DOMParser) return;
  const endpoint = status.getAttribute("data-live");
  let version = root.getAttribute("data-version") || "";
  let timer = 0;
  let stopped = false;
  let failures = 0;
  const show = (text, cls, title) => { status.textContent = text; status.className = "chip " + cls; status.title = title; };
  const localTimes = () => {
    for (const t of root.querySelectorAll("time[datetime]")) {
      const d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) { t.title = t.textContent; t.textContent = d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" }); }
    }
  };
  const typing = () => {
    const a = document.activeElement;
    return !!a && root.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName);
  };
  // The page again, its #live-root swapped in; answers the new page's version ("" once ended), or null.
  const swap = async () => {
    const res = await fetch(location.href, { cache: "no-store", headers: { accept: "text/html" } });
    if (!res.ok) return null;
    const next = new DOMParser().parseFromString(await res.text(), "text/html").getElementById("live-root");
    if (!next) return null;
    const x = window.scrollX, y = window.scrollY;
    const open = Array.from(root.querySelectorAll("details"), (d) => d.open);
    root.replaceChildren(...Array.from(next.childNodes, (n) => document.importNode(n, true)));
    root.querySelectorAll("details").forEach((d, i) => { if (i < open.length) d.open = open[i]; });
    localTimes();
    window.scrollTo(x, y);
    return next.getAttribute("data-version") || "";
  };
  const schedule = (ms) => { if (!stopped && !timer) timer = setTimeout(tick, ms); };
  const tick = async () => {
    timer = 0;
    if (stopped || document.visibilityState === "hidden") return;
    try {
      const res = await fetch(endpoint, { cache: "no-store", headers: { accept: "application/json" } });
      if (res.status === 404) { stopped = true; show("not in the store any more", "mid", "This experiment was deleted."); return; }
      if (!res.ok) throw new Error("live: " + res.status);
      const s = await res.json();
      failures = 0;
      if (s.version !== version && !typing()) {
        const next = await swap();
        if (next === null) throw new Error("live: the page did not reload");
        version = next || s.version;
      }
      if (s.ended && version === s.version) { stopped = true; show("run ended", "good", "The run has ended; this page no longer updates."); return; }
      show("\\u25CF live", "running", "Updating as runs arrive (" + s.runs + " so far)");
    } catch (err) {
      failures++;
      show("live \\u00B7 reconnecting", "mid", String(err));
    }
    schedule(failures ? Math.min(15000, ${LIVE_POLL_MS} * 2 ** failures) : ${LIVE_POLL_MS});
  };
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") schedule(0); });
  show("\\u25CF live", "running", "Updating as runs arrive");
  schedule(${LIVE_POLL_MS});
})();
`;

/** The polling script, under the page's nonce. */
export function liveScript(nonce: string): Html {
  return html`<script nonce="${nonce}">${raw(SCRIPT)}</script>`;
}

/** The attribute `#live-root` carries while the run records (the version the page was rendered at). */
export function liveVersion(store: Store, sessionId: string): string | undefined {
  return liveState(store, sessionId)?.version;
}
