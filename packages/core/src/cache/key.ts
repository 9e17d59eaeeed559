import { createHash } from "node:crypto";

// An entry's key: the method, the URL without credentials, and the body with its JSON keys sorted, so
// the same call made with another key, or with its fields in another order, finds the same entry.
// Headers are never part of it: those that matter for the answer travel in the URL or the body, and
// the rest (authorization, x-api-key, api-key, user agents, retry counts) would only split entries.

/**
 * Query parameters that carry a credential (Gemini's `key`, Azure's `subscription-key` and SAS `sig`,
 * presigned AWS URLs).
 */
const CREDENTIAL_PARAM =
  /^(key|api[-_]?key|access[-_]?token|token|auth|sig|signature|code|client[-_]?secret|subscription[-_]?key|x-amz-.*)$/i;

/** The URL as stored and keyed: credential parameters dropped, the rest sorted. */
export function cacheUrl(url: string): string {
  const u = new URL(url);
  const kept = [...u.searchParams].filter(([name]) => !CREDENTIAL_PARAM.test(name));
  kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  u.search = new URLSearchParams(kept).toString();
  u.username = "";
  u.password = "";
  u.hash = "";
  return u.toString();
}

/** A request body as stored and keyed: parsed and key-sorted when it is JSON, else its text. */
export type CanonicalBody = { json: unknown } | { text: string } | { base64: string } | null;

export function canonicalBody(bytes: Uint8Array | undefined, contentType: string | null): CanonicalBody {
  if (!bytes || bytes.byteLength === 0) return null;
  const text = utf8(bytes);
  if (text === undefined) return { base64: Buffer.from(bytes).toString("base64") };
  if (/json/i.test(contentType ?? "") || /^\s*[[{]/.test(text)) {
    try {
      return { json: sortKeys(JSON.parse(text)) };
    } catch {
      // Not JSON after all: keyed by its text.
    }
  }
  return { text };
}

/**
 * The key of a call. `variant` separates calls that are the same request but must not share an
 * answer (a trial index, say).
 */
export function cacheKey(method: string, url: string, body: CanonicalBody, variant?: string): string {
  const parts = [method.toUpperCase(), cacheUrl(url), JSON.stringify(body), ...(variant ? [variant] : [])];
  return createHash("sha256").update(parts.join("\n")).digest("hex");
}

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
  return out;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The bytes as text, or undefined when they are not valid UTF-8. */
export function utf8(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}
