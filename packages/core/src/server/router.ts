// A tiny method + path router: patterns are literal segments and `:param` captures. Enough for the
// LangSmith paths, and it tells a wrong method (405) apart from an unknown path (404).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Store } from "./store.js";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** An error with the HTTP status and the `detail` message the API answers with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** A response other than "200 + JSON of the returned value". */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

export interface RouteOptions {
  /** Answer /runs/multipart with 404, so SDK clients fall back to /runs/batch. */
  multipart: boolean;
  /** Advertise `gzip_body_enabled` in /info. */
  gzip: boolean;
  /** Advertise `zstd_compression_enabled` in /info (false where this Node cannot decode zstd). */
  zstd: boolean;
  bodyLimitBytes: number;
  log: (line: string) => void;
}

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  /** The path with any `/api/v1` or `/api` prefix removed. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  store: Store;
  /** `http://host:port` as the client addressed us, for URLs we hand out. */
  baseUrl: string;
  options: RouteOptions;
  /** The decoded request body (read once, cached). */
  body(): Promise<Buffer>;
  /** The body parsed as JSON; 422 with a clear message when it is not. */
  json(): Promise<unknown>;
}

export type Handler = (ctx: RequestContext) => unknown;

interface Route {
  method: Method;
  segments: string[];
  pattern: string;
  handler: Handler;
}

export type Match =
  | { kind: "found"; handler: Handler; params: Record<string, string>; pattern: string }
  | { kind: "wrong-method"; allowed: Method[] }
  | { kind: "none" };

function split(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: Method, pattern: string, handler: Handler): this {
    this.routes.push({ method, segments: split(pattern), pattern, handler });
    return this;
  }
  get(pattern: string, handler: Handler): this {
    return this.add("GET", pattern, handler);
  }
  post(pattern: string, handler: Handler): this {
    return this.add("POST", pattern, handler);
  }
  put(pattern: string, handler: Handler): this {
    return this.add("PUT", pattern, handler);
  }
  patch(pattern: string, handler: Handler): this {
    return this.add("PATCH", pattern, handler);
  }
  delete(pattern: string, handler: Handler): this {
    return this.add("DELETE", pattern, handler);
  }

  /** Literal segments beat `:param` ones, so `/examples/bulk` wins over `/examples/:id`. */
  match(method: string, path: string): Match {
    const segs = split(path);
    let best: { route: Route; params: Record<string, string>; literals: number } | undefined;
    const allowed = new Set<Method>();
    for (const route of this.routes) {
      const params = matchSegments(route.segments, segs);
      if (!params) continue;
      if (route.method !== method) {
        allowed.add(route.method);
        continue;
      }
      const literals = route.segments.filter((s) => !s.startsWith(":")).length;
      if (!best || literals > best.literals) best = { route, params, literals };
    }
    if (best) return { kind: "found", handler: best.route.handler, params: best.params, pattern: best.route.pattern };
    if (allowed.size) return { kind: "wrong-method", allowed: [...allowed] };
    return { kind: "none" };
  }
}

function matchSegments(pattern: string[], segs: string[]): Record<string, string> | undefined {
  if (pattern.length !== segs.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const s = segs[i]!;
    if (p.startsWith(":")) {
      try {
        params[p.slice(1)] = decodeURIComponent(s);
      } catch {
        return undefined; // malformed %-escape: no route matches
      }
    } else if (p !== s) return undefined;
  }
  return params;
}

// Query helpers shared by the route modules.

export function qList(q: URLSearchParams, name: string): string[] | undefined {
  const all = q.getAll(name).filter((v) => v !== "");
  return all.length ? all : undefined;
}

export function qBool(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  throw new HttpError(422, `query parameter "${name}" must be true or false, got "${v}"`);
}

export function qInt(q: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const v = q.get(name);
  if (v === null || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new HttpError(422, `query parameter "${name}" must be an integer, got "${v}"`);
  return Math.min(max, Math.max(min, n));
}

/** A JSON object from a query parameter such as `metadata={"k":"v"}`. */
export function qJsonObject(q: URLSearchParams, name: string): Record<string, unknown> | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  try {
    const parsed = JSON.parse(v) as unknown;
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new HttpError(422, `query parameter "${name}" must be a JSON object`);
}

/** The JSON body as an object, or 422. */
export async function jsonObject(ctx: RequestContext): Promise<Record<string, unknown>> {
  const v = await ctx.json();
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new HttpError(422, "request body must be a JSON object");
  return v as Record<string, unknown>;
}
