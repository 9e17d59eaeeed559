// HTML building for the viewer: a tagged template that escapes every interpolated value unless it
// is already `Html`, so user data (run inputs, names, errors) can never become markup by accident.
import { isRecord } from "@tally/core/wire";
import { timeMs } from "../db/time.js";

export { isRecord };

/** A string known to be safe HTML. Only `html`, `raw` and the helpers here make one. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type Fragment = Html | string | number | bigint | boolean | null | undefined | readonly Fragment[];

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for element content and (quoted) attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: Fragment): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return (value as readonly Fragment[]).map(render).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(String(value));
}

/** `html\`<b>${name}</b>\``: interpolations are escaped; arrays are concatenated; null/false vanish. */
export function html(strings: TemplateStringsArray, ...values: Fragment[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Trusted markup (constants of this module only, never data). */
export function raw(markup: string): Html {
  return new Html(markup);
}

/** A path segment for a link: ids come from the database, so they are encoded too. */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

// ---- values ----

const MAX_JSON_CHARS = 200_000;
const JSON_TOKEN = /("(?:[^"\\\n]|\\.)*")(\s*:)?|\b(?:true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;

function stringify(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Pretty JSON with light syntax colouring; a plain string is shown as text. Long values are cut. */
export function jsonBlock(value: unknown, maxChars = MAX_JSON_CHARS): Html {
  const isText = typeof value === "string";
  let text = isText ? (value as string) : stringify(value);
  let cut = 0;
  if (text.length > maxChars) {
    cut = text.length - maxChars;
    text = text.slice(0, maxChars);
  }
  const note = cut ? html`<span class="cut">… ${cut.toLocaleString("en-US")} more characters not shown</span>` : "";
  if (isText) return html`<pre class="json text">${text}${note}</pre>`;
  let out = "";
  let last = 0;
  for (const m of text.matchAll(JSON_TOKEN)) {
    out += escapeHtml(text.slice(last, m.index));
    const token = escapeHtml(m[0]);
    if (m[1] !== undefined) {
      out +=
        m[2] !== undefined ? `<span class="j-key">${escapeHtml(m[1])}</span>${escapeHtml(m[2])}` : `<span class="j-str">${token}</span>`;
    } else if (/^[tfn]/.test(m[0])) out += `<span class="j-lit">${token}</span>`;
    else out += `<span class="j-num">${token}</span>`;
    last = m.index + m[0].length;
  }
  out += escapeHtml(text.slice(last));
  return html`<pre class="json">${raw(out)}${note}</pre>`;
}

/** A one-line preview of inputs/outputs: `question: What is…  · lang: "en"`. */
export function preview(value: unknown, max = 160): string {
  if (value === null || value === undefined) return "";
  let s = "";
  const add = (part: string) => {
    s += part;
    return s.length > max;
  };
  if (typeof value === "string") s = value;
  else if (isRecord(value)) {
    const entries = Object.entries(value);
    for (let i = 0; i < entries.length; i++) {
      const [k, v] = entries[i]!;
      const shown = typeof v === "string" ? v : compactJson(v, max);
      if (add(`${i ? " · " : ""}${entries.length === 1 && k === "output" ? "" : `${k}: `}${shown}`)) break;
    }
  } else s = compactJson(value, max);
  s = s.replace(/\s+/g, " ").trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function compactJson(value: unknown, max: number): string {
  try {
    const s = JSON.stringify(value) ?? String(value);
    return s.length > max ? s.slice(0, max) : s;
  } catch {
    return String(value);
  }
}

/** An error as people read it: the message, or the JSON of a structured error. */
export function errorText(error: unknown): string {
  if (error === null || error === undefined || error === "") return "";
  if (typeof error === "string") return error;
  if (isRecord(error) && typeof error.message === "string") return error.message;
  return compactJson(error, 2000);
}

// ---- numbers and times ----

export function latencyMs(start: string | null | undefined, end: string | null | undefined): number | null {
  const s = timeMs(start);
  const e = timeMs(end);
  return s !== null && e !== null ? Math.max(0, e - s) : null;
}

export function fmtLatency(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "";
  if (ms < 1) return "<1 ms";
  if (ms < 999.5) return `${Math.round(ms)} ms`; // 999.7 ms is "1.00 s", not "1000 ms"
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  if (m < 60) return `${m}m ${Math.round((ms % 60_000) / 1000)}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** Latency in seconds (the store's stats unit) as text. */
export function fmtSeconds(s: number | null | undefined): string {
  return s === null || s === undefined ? "" : fmtLatency(s * 1000);
}

export function fmtScore(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "";
  if (Number.isInteger(n)) return String(n);
  const abs = Math.abs(n);
  return abs >= 100 ? n.toFixed(0) : abs >= 10 ? n.toFixed(1) : n.toFixed(2);
}

export function fmtPct(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "";
  const p = ratio * 100;
  return `${p === 100 || p === 0 ? p.toFixed(0) : p >= 99.95 ? "99.9" : p.toFixed(1)}%`;
}

export function fmtCount(n: number): string {
  return n.toLocaleString("en-US");
}

/** A CSS class grading a score in [0, 1] (others are not graded). */
export function scoreClass(n: number | null | undefined): string {
  if (n === null || n === undefined || n < 0 || n > 1) return "";
  return n >= 0.8 ? "good" : n >= 0.5 ? "mid" : "bad";
}

/** `<time>` with UTC text; the page script rewrites it in the reader's time zone. */
export function fmtTime(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="muted">—</span>`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return html`${iso}`;
  const text = `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
  return html`<time datetime="${iso}">${text}</time>`;
}
