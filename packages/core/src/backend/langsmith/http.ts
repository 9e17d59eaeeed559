// HTTP to a LangSmith endpoint, for the REST adapter only. It owns the real API key; nothing it
// builds (errors included) ever carries the key.
import { BackendError } from "../port.js";

export interface UpstreamConfig {
  apiUrl: string;
  apiKey?: string;
  workspaceId?: string;
  /** Per-request timeout. */
  timeoutMs?: number;
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

export interface Upstream {
  readonly apiUrl: string;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  json<T>(method: string, path: string, body?: unknown): Promise<T>;
}

/** A JSON answer's body, or the error a failed answer stands for. */
export async function jsonOf<T>(method: string, path: string, res: Response): Promise<T> {
  if (!res.ok) throw await toError(method, path, res);
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export function createUpstream(cfg: UpstreamConfig): Upstream {
  const apiUrl = cfg.apiUrl.replace(/\/+$/, "");
  const timeoutMs = cfg.timeoutMs ?? 30_000;
  const auth: Record<string, string> = {};
  if (cfg.apiKey) auth["x-api-key"] = cfg.apiKey;
  if (cfg.workspaceId) auth["x-tenant-id"] = cfg.workspaceId;

  async function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const isRaw = body instanceof Uint8Array || typeof body === "string";
    const init: RequestInit = {
      method,
      headers: {
        ...auth,
        ...(body !== undefined && !isRaw ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : isRaw ? (body as BodyInit) : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    };
    try {
      return await fetch(apiUrl + path, init);
    } catch (err) {
      // fetch rejects with a TypeError whose cause says why (ECONNREFUSED…), or a TimeoutError.
      const why = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = why?.code ?? why?.message ?? (err as Error).name;
      throw new BackendError(`${method} ${path}: backend unreachable (${cause})`, undefined, undefined, true);
    }
  }

  async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
    return jsonOf<T>(method, path, await request(method, path, body));
  }

  return { apiUrl, request, json };
}

export async function toError(method: string, path: string, res: Response): Promise<BackendError> {
  let detail = "";
  try {
    detail = (await res.text()).slice(0, 300);
  } catch {
    // The body is only for the message.
  }
  return new BackendError(
    `${method} ${path}: backend answered ${res.status}${detail ? ` ${detail}` : ""}`,
    res.status,
    parseRetryAfter(res.headers.get("retry-after")),
    RETRYABLE.has(res.status),
  );
}

export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
