// The HTTP front of the store: a request listener usable with any http.Server, and startServer()
// for a standalone server on an ephemeral loopback port. Every error becomes a JSON answer
// (`{detail}`) and the server keeps serving; auth headers are accepted and never read.
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { BodyError, DEFAULT_BODY_LIMIT_BYTES, contentEncodings, parseJsonBody, readBody } from "../wire/body.js";
import { ZSTD_AVAILABLE } from "../wire/content-encoding.js";
import { ExamplePayloadError } from "../wire/examples.js";
import { MultipartError } from "../wire/multipart.js";
import { RunPayloadError } from "../wire/runs.js";
import { HttpError, Reply, type RequestContext, type RouteOptions, Router } from "./router.js";
import { registerAttachments } from "./routes/attachments.js";
import { registerDatasets } from "./routes/datasets.js";
import { registerExamples } from "./routes/examples.js";
import { registerFeedback } from "./routes/feedback.js";
import { registerInfo } from "./routes/info.js";
import { registerRuns } from "./routes/runs.js";
import { registerSessions } from "./routes/sessions.js";
import { Store } from "./store.js";
import { StoreError } from "./store/db.js";

export interface HandlerOptions {
  /** Delay every response by this many ms, to emulate a remote backend (benchmarks). */
  latencyMs?: number;
  /** One line per request (`POST /runs/multipart 202 3ms`) and per server-side error. Never headers. */
  logger?: (line: string) => void;
  /** Serve /runs/multipart (default true). false: 404 there and `use_multipart_endpoint: false`. */
  multipart?: boolean;
  /** Advertise gzip request bodies in /info (default true). Gzip bodies are always accepted. */
  gzip?: boolean;
  /**
   * Advertise zstd request bodies in /info (default true, as LangSmith does; never where this Node
   * has no zstd). zstd bodies are accepted whenever this Node can decode them.
   */
  zstd?: boolean;
  /** Max request body, raw and decoded (default 64 MiB). */
  bodyLimitBytes?: number;
}

export interface ServerOptions extends HandlerOptions {
  /** SQLite file (created with its directory); default ":memory:". Ignored when `store` is given. */
  dbPath?: string;
  /** Serve an already open store (the caller keeps ownership and closes it). */
  store?: Store;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

/** Counters for tests and diagnostics. */
export interface ServerStats {
  requests: number;
  /** Requests that arrived with `Content-Encoding: gzip`. */
  gzipRequests: number;
  /** Requests with a body, by Content-Encoding as sent ("identity" when none), e.g. `{ zstd: 3 }`. */
  byEncoding: Record<string, number>;
  /** Request bodies read whole: bytes as they came over the wire, and once decoded. */
  bodyBytes: { wire: number; decoded: number };
  /** Answers with status >= 500. */
  errors: number;
  /** "METHOD /pattern" → count, e.g. "POST /runs/multipart". */
  byRoute: Record<string, number>;
}

export type TallyRequestListener = RequestListener & { readonly stats: ServerStats };

export interface RunningServer {
  /** `http://127.0.0.1:<port>` — what to give the SDK as apiUrl / LANGSMITH_ENDPOINT. */
  url: string;
  port: number;
  store: Store;
  stats: ServerStats;
  server: http.Server;
  /** Stops listening, ends connections, and closes the store if startServer opened it. */
  close(): Promise<void>;
}

/** All routes of the LangSmith-compatible API. */
export function createRouter(): Router {
  const router = new Router();
  registerInfo(router);
  registerDatasets(router);
  registerExamples(router);
  registerSessions(router);
  registerRuns(router);
  registerFeedback(router);
  registerAttachments(router);
  return router;
}

/** `LANGSMITH_ENDPOINT=http://host/api/v1` (or `/api`) makes the SDK prefix every path. */
function stripApiPrefix(path: string): string {
  for (const prefix of ["/api/v1", "/api"]) {
    if (path === prefix) return "/";
    if (path.startsWith(`${prefix}/`)) return path.slice(prefix.length);
  }
  return path;
}

function errorReply(err: unknown, log: (line: string) => void): Reply {
  if (err instanceof HttpError || err instanceof BodyError || err instanceof StoreError) return new Reply(err.status, { detail: err.message });
  if (err instanceof MultipartError || err instanceof RunPayloadError || err instanceof ExamplePayloadError) {
    return new Reply(422, { detail: err.message });
  }
  const e = err instanceof Error ? err : new Error(String(err));
  log(`internal error: ${e.stack ?? e.message}`);
  return new Reply(500, { detail: `internal error: ${e.message}` });
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  let body: Buffer;
  let contentType = "application/json";
  if (Buffer.isBuffer(reply.body)) {
    body = reply.body;
    contentType = "application/octet-stream";
  } else {
    body = Buffer.from(JSON.stringify(reply.body ?? null));
  }
  res.writeHead(reply.status, { "content-type": contentType, "content-length": body.length, ...reply.headers });
  res.end(body);
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

/** A request listener serving `store`. Mount it on your own http.Server if you have one. */
export function handler(store: Store, opts: HandlerOptions = {}): TallyRequestListener {
  const router = createRouter();
  const log = opts.logger ?? (() => {});
  const options: RouteOptions = {
    multipart: opts.multipart ?? true,
    gzip: opts.gzip ?? true,
    zstd: (opts.zstd ?? true) && ZSTD_AVAILABLE,
    bodyLimitBytes: opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    log,
  };
  const stats: ServerStats = { requests: 0, gzipRequests: 0, byEncoding: {}, bodyBytes: { wire: 0, decoded: 0 }, errors: 0, byRoute: {} };
  const countBody = (sizes: { wire: number; decoded: number }) => {
    stats.bodyBytes.wire += sizes.wire;
    stats.bodyBytes.decoded += sizes.decoded;
  };

  const listener = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const method = (req.method ?? "GET").toUpperCase();
    stats.requests++;
    const encodings = contentEncodings(req.headers["content-encoding"]);
    if (encodings.includes("gzip")) stats.gzipRequests++;
    if (encodings.length > 0 || hasBody(req)) {
      const key = encodings.join(", ") || "identity";
      stats.byEncoding[key] = (stats.byEncoding[key] ?? 0) + 1;
    }
    let path = "/";
    let reply: Reply;
    try {
      const url = new URL(req.url ?? "/", "http://local");
      path = stripApiPrefix(url.pathname);
      const match = router.match(method, path);
      if (match.kind === "none") throw new HttpError(404, "not found");
      if (match.kind === "wrong-method") throw new HttpError(405, `method ${method} not allowed here; allowed: ${match.allowed.join(", ")}`);
      const routeKey = `${method} ${match.pattern}`;
      stats.byRoute[routeKey] = (stats.byRoute[routeKey] ?? 0) + 1;
      let body: Promise<Buffer> | undefined;
      const ctx: RequestContext = {
        req,
        res,
        method,
        path,
        params: match.params,
        query: url.searchParams,
        store,
        baseUrl: `http://${req.headers.host ?? "127.0.0.1"}`,
        options,
        body: () => (body ??= readBody(req, options.bodyLimitBytes, countBody)),
        json: async () => parseJsonBody(await ctx.body()),
      };
      const result = await match.handler(ctx);
      reply = result instanceof Reply ? result : new Reply(200, result ?? {});
    } catch (err) {
      reply = errorReply(err, log);
    }
    if (reply.status >= 500) stats.errors++;
    if (opts.latencyMs && opts.latencyMs > 0) await sleep(opts.latencyMs);
    try {
      send(res, reply);
    } catch (err) {
      log(`failed to send response: ${(err as Error).message}`);
      if (!res.headersSent) send(res, errorReply(err, log));
    }
    log(`${method} ${path} ${reply.status} ${Math.round(performance.now() - started)}ms`);
  };

  const wrapped = ((req: IncomingMessage, res: ServerResponse) => {
    listener(req, res).catch((err: unknown) => {
      // Last line of defence: nothing thrown while answering may take the server down.
      log(`unhandled error: ${(err as Error)?.stack ?? String(err)}`);
      if (!res.headersSent && !res.destroyed) res.writeHead(500, { "content-type": "application/json" }).end('{"detail":"internal error"}');
    });
  }) as TallyRequestListener;
  Object.defineProperty(wrapped, "stats", { value: stats, enumerable: true });
  return wrapped;
}

/** Starts a standalone server (default 127.0.0.1, ephemeral port, in-memory store). */
export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const store = opts.store ?? new Store(opts.dbPath ?? ":memory:");
  const ownsStore = !opts.store;
  const listener = handler(store, opts);
  const server = http.createServer(listener);
  // The SDK's undici keeps connections alive ~4 s; stay open a bit longer so it never races a close.
  server.keepAliveTimeout = 10_000;
  const host = opts.host ?? "127.0.0.1";
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    if (ownsStore) store.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      // Let in-flight requests finish (their data is committed before they answer), drop idle
      // keep-alive sockets now, and cut anything still open after a grace period.
      const force = setTimeout(() => server.closeAllConnections(), 2000);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        if (ownsStore) store.close();
        resolve();
      });
      server.closeIdleConnections();
    }));
  return { url, port, store, stats: listener.stats, server, close };
}
