import type { CanonicalBody } from "./key.js";

// One recorded call, as stored in its file. Plain JSON, readable in a diff: the cache is meant to be
// committed. A streamed answer keeps its chunks as they arrived, so a replay streams the same chunks.

export const ENTRY_VERSION = 1;

export interface CacheEntry {
  version: typeof ENTRY_VERSION;
  key: string;
  request: { method: string; url: string; body: CanonicalBody };
  response: {
    status: number;
    statusText: string;
    /** Only the allowed ones (see keptResponseHeaders): never cookies, credentials or account ids. */
    headers: Record<string, string>;
    /** The whole body as text (or base64 when it is not UTF-8); absent when it is streamed. */
    body?: string;
    bodyEncoding?: "utf8" | "base64";
    /** A streamed (server-sent events) body, chunk by chunk. */
    chunks?: string[];
  };
  recordedAt: string;
  /** The test that recorded it, for a person reading the file. */
  test?: string;
}

/**
 * Response headers an entry keeps. An allow-list, not a deny-list: whatever a provider adds later
 * (organisation ids, cookies, signed URLs) stays out of a file that is committed. Transfer headers
 * are dropped too: the body is stored decoded, whole.
 */
const KEPT_HEADERS = new Set(["content-type", "request-id", "x-request-id", "openai-processing-ms", "openai-version", "anthropic-version"]);

export function keptResponseHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (KEPT_HEADERS.has(name.toLowerCase())) out[name.toLowerCase()] = value;
  });
  return out;
}

export function isEventStream(headers: Headers | Record<string, string>): boolean {
  const type = headers instanceof Headers ? headers.get("content-type") : headers["content-type"];
  return /^text\/event-stream/i.test(type ?? "");
}

/** Checks a stored entry's shape; returns why it is unusable, or undefined when it is whole. */
export function entryProblem(value: unknown, key: string): string | undefined {
  if (value === null || typeof value !== "object") return "not a JSON object";
  const e = value as Partial<CacheEntry>;
  if (e.version !== ENTRY_VERSION) return `version ${JSON.stringify(e.version)}, expected ${ENTRY_VERSION}`;
  if (e.key !== key) return `key ${JSON.stringify(e.key)} does not match its file name`;
  const r = e.response;
  if (!r || typeof r !== "object") return "no response";
  if (!Number.isInteger(r.status) || r.status < 200 || r.status > 599) return `bad status ${JSON.stringify(r.status)}`;
  if (!r.headers || typeof r.headers !== "object") return "no response headers";
  // Which one is there decides how it replays: decided by presence, then each checked for its type.
  const hasBody = r.body !== undefined;
  const hasChunks = r.chunks !== undefined;
  if (hasBody === hasChunks) return "needs exactly one of body and chunks";
  if (hasChunks && !(Array.isArray(r.chunks) && r.chunks.every((c) => typeof c === "string"))) return "chunks is not a list of strings";
  if (hasBody && typeof r.body !== "string") return "body is not a string";
  if (hasBody && r.bodyEncoding !== "utf8" && r.bodyEncoding !== "base64") return `bad bodyEncoding ${JSON.stringify(r.bodyEncoding)}`;
  return undefined;
}

/** A fresh Response replaying an entry: streamed chunk by chunk when it was streamed. */
export function responseOf(entry: CacheEntry, extraHeaders: Record<string, string> = {}): Response {
  const { status, statusText, headers, body, bodyEncoding, chunks } = entry.response;
  const init = { status, statusText, headers: { ...headers, ...extraHeaders } };
  // 204 and 304 may not carry a body.
  if (status === 204 || status === 304) return new Response(null, init);
  if (chunks) {
    const encoder = new TextEncoder();
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i < chunks.length) controller.enqueue(encoder.encode(chunks[i++]));
        else controller.close();
      },
    });
    return new Response(stream, init);
  }
  return new Response(bodyEncoding === "base64" ? Buffer.from(body!, "base64") : body!, init);
}
