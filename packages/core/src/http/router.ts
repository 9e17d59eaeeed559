// The one HTTP dispatch style of Tally's servers (the embedded LangSmith-compatible server, the
// viewer, the collector): a method + path router whose patterns are literal segments and `:param`
// captures, and handlers that return a value (200, JSON) or a Reply. It works on plain requests and
// answers plain responses, never on node's req/res: ./node.ts serves it over http, and an
// in-process caller (the local backend's `forward`) dispatches a request without any socket.
import { BodyError } from "../wire/body-error.js";

export type Method = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A request as the router sees it. Header names are lower case. */
export interface HttpRequest {
  /** Upper case. */
  method: string;
  /** The path without the query string, still %-encoded. */
  path: string;
  query: URLSearchParams;
  /** The query as sent (`?a=b`, or ""), for passing a request on without re-encoding it. */
  search: string;
  headers: Readonly<Record<string, string | undefined>>;
  /** The body's bytes as sent (Content-Encoding not undone); read at most once by the transport. */
  body(): Promise<Buffer>;
}

/** What goes back over the wire (or to an in-process caller). */
export interface HttpResponse {
  status: number;
  /** Lower-case names; `content-type` and `content-length` always set. */
  headers: Record<string, string>;
  body: Buffer;
}

/** An error with the HTTP status to answer, and the message for the answer's body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers, e.g. `allow` on a 405. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/**
 * An answer other than "200 + JSON of the returned value". `body`: bytes (application/octet-stream
 * unless a content-type is given), a string (text/plain), anything else as JSON.
 */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

/** A handler gets the app's context (built per request, see DispatchOptions) and returns a value or a Reply. */
export type Handler<C> = (ctx: C) => unknown;

/** The route a request matched: its `:param` values and its pattern (for per-route counters). */
export interface Routed {
  params: Record<string, string>;
  pattern: string;
}

export type Match<C> = ({ kind: "found"; handler: Handler<C> } & Routed) | { kind: "wrong-method"; allowed: Method[] } | { kind: "none" };

export interface DispatchOptions<C> {
  /** The handler's argument for this request and route. */
  context(req: HttpRequest, route: Routed): C;
  /**
   * Turns what a handler threw, or the router's own 404/405 HttpError, into a reply.
   * Default: an HttpError's (or a body's BodyError's) status with `{detail: message}`, anything else 500.
   */
  onError?(err: unknown, req: HttpRequest): Reply;
}

export interface Dispatched {
  response: HttpResponse;
  /** The pattern of the route that answered, if one matched. */
  pattern?: string;
}

interface Route<C> {
  method: Method;
  segments: string[];
  pattern: string;
  handler: Handler<C>;
}

function split(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

export class Router<C> {
  private readonly routes: Route<C>[] = [];

  add(method: Method, pattern: string, handler: Handler<C>): this {
    this.routes.push({ method, segments: split(pattern), pattern, handler });
    return this;
  }
  get(pattern: string, handler: Handler<C>): this {
    return this.add("GET", pattern, handler);
  }
  post(pattern: string, handler: Handler<C>): this {
    return this.add("POST", pattern, handler);
  }
  put(pattern: string, handler: Handler<C>): this {
    return this.add("PUT", pattern, handler);
  }
  patch(pattern: string, handler: Handler<C>): this {
    return this.add("PATCH", pattern, handler);
  }
  delete(pattern: string, handler: Handler<C>): this {
    return this.add("DELETE", pattern, handler);
  }

  /**
   * Literal segments beat `:param` ones, so `/examples/bulk` wins over `/examples/:id`. HEAD is
   * answered by the GET route of the path unless it has a HEAD route of its own.
   */
  match(method: string, path: string): Match<C> {
    const found = this.find(method, path);
    if (found.kind === "wrong-method" && method === "HEAD" && found.allowed.includes("GET")) {
      const get = this.find("GET", path);
      if (get.kind === "found") return get;
    }
    return found;
  }

  private find(method: string, path: string): Match<C> {
    const segs = split(path);
    let best: { route: Route<C>; params: Record<string, string>; literals: number } | undefined;
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

  /**
   * Routes `req` to its handler and turns what it returns (a Reply, or any value: 200 with its JSON,
   * `{}` for none) or throws into a response. An unknown path is an HttpError 404, a known path with
   * another method a 405 (with `allow`); both go through `onError` like a handler's errors.
   */
  async dispatch(req: HttpRequest, opts: DispatchOptions<C>): Promise<Dispatched> {
    const onError = opts.onError ?? defaultError;
    let reply: Reply;
    let pattern: string | undefined;
    try {
      const match = this.match(req.method, req.path);
      if (match.kind === "none") throw new HttpError(404, "not found");
      if (match.kind === "wrong-method") {
        const allow = match.allowed.join(", ");
        throw new HttpError(405, `method ${req.method} not allowed here; allowed: ${allow}`, { allow });
      }
      pattern = match.pattern;
      const result = await match.handler(opts.context(req, { params: match.params, pattern: match.pattern }));
      reply = result instanceof Reply ? result : new Reply(200, result ?? {});
    } catch (err) {
      reply = onError(err, req);
    }
    return { response: toResponse(reply), ...(pattern !== undefined ? { pattern } : {}) };
  }
}

function defaultError(err: unknown): Reply {
  if (err instanceof HttpError) return new Reply(err.status, { detail: err.message }, err.headers);
  // What reading the body threw (./node.ts): 413 too large, 400 aborted, 415 an unknown encoding.
  if (err instanceof BodyError) return new Reply(err.status, { detail: err.message });
  return new Reply(500, { detail: `internal error: ${err instanceof Error ? err.message : String(err)}` });
}

/** A Reply as bytes with its content-type and content-length (the Reply's own headers win). */
export function toResponse(reply: Reply): HttpResponse {
  let body: Buffer;
  let contentType: string;
  if (Buffer.isBuffer(reply.body) || reply.body instanceof Uint8Array) {
    body = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body.buffer, reply.body.byteOffset, reply.body.byteLength);
    contentType = "application/octet-stream";
  } else if (typeof reply.body === "string") {
    body = Buffer.from(reply.body, "utf8");
    contentType = "text/plain; charset=utf-8";
  } else {
    body = Buffer.from(JSON.stringify(reply.body ?? null));
    contentType = "application/json";
  }
  const headers: Record<string, string> = { "content-type": contentType, "content-length": String(body.length) };
  for (const [k, v] of Object.entries(reply.headers)) headers[k.toLowerCase()] = v;
  return { status: reply.status, headers, body };
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
