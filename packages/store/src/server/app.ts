// The HTTP front of the store: the LangSmith-compatible API as a plain request → response app
// (createServerApp, which the local backend's `forward` calls in-process), a node request listener
// around it (handler, for any http.Server), and startServer() for a standalone server on a loopback
// port. Every error becomes a JSON answer (`{detail}`) and the server keeps serving; auth headers are
// accepted and never read.
import type { RequestListener } from "node:http";
import type http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { HttpError, type HttpHandle, type HttpRequest, type HttpResponse, Reply, Router, listen, nodeListener } from "@tally/core/http";
import {
  BodyError,
  DEFAULT_BODY_LIMIT_BYTES,
  ExamplePayloadError,
  MultipartError,
  RunPayloadError,
  ZSTD_AVAILABLE,
  contentEncodings,
  decodeBody,
  parseJsonBody,
} from "@tally/core/wire";
import { StoreError } from "../db/db.js";
import { Store } from "../db/store.js";
import type { RequestContext, RouteOptions } from "./context.js";
import { registerAttachments } from "./routes/attachments.js";
import { registerDatasets } from "./routes/datasets.js";
import { registerExamples } from "./routes/examples.js";
import { registerFeedback } from "./routes/feedback.js";
import { registerInfo } from "./routes/info.js";
import { registerRuns } from "./routes/runs.js";
import { registerSessions } from "./routes/sessions.js";

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

/** The server as a plain request → response app, with its counters. */
export interface ServerApp {
  handle: HttpHandle;
  stats: ServerStats;
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
export function createRouter(): Router<RequestContext> {
  const router = new Router<RequestContext>();
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
  if (err instanceof HttpError) return new Reply(err.status, { detail: err.message }, err.headers);
  if (err instanceof BodyError || err instanceof StoreError) return new Reply(err.status, { detail: err.message });
  if (err instanceof MultipartError || err instanceof RunPayloadError || err instanceof ExamplePayloadError) {
    return new Reply(422, { detail: err.message });
  }
  const e = err instanceof Error ? err : new Error(String(err));
  log(`internal error: ${e.stack ?? e.message}`);
  return new Reply(500, { detail: `internal error: ${e.message}` });
}

function hasBody(req: HttpRequest): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
}

/** The LangSmith-compatible API over `store`, as a plain request → response app. */
export function createServerApp(store: Store, opts: HandlerOptions = {}): ServerApp {
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

  const handle = async (req: HttpRequest): Promise<HttpResponse> => {
    const started = performance.now();
    stats.requests++;
    const encodings = contentEncodings(req.headers["content-encoding"]);
    if (encodings.includes("gzip")) stats.gzipRequests++;
    if (encodings.length > 0 || hasBody(req)) {
      const key = encodings.join(", ") || "identity";
      stats.byEncoding[key] = (stats.byEncoding[key] ?? 0) + 1;
    }
    const path = stripApiPrefix(req.path);
    let body: Promise<Buffer> | undefined;
    const { response, pattern } = await router.dispatch(
      { ...req, path },
      {
        context: (r, route): RequestContext => {
          const ctx: RequestContext = {
            method: r.method,
            path,
            params: route.params,
            query: r.query,
            headers: r.headers,
            store,
            // A proxy in front (the collector, forwarding to the local backend) names itself here,
            // so the URLs we hand out (attachments) point back at it.
            baseUrl: `http://${r.headers["x-forwarded-host"] ?? r.headers.host ?? "127.0.0.1"}`,
            options,
            body: () =>
              (body ??= r.body().then((raw) => decodeBody(raw, r.headers["content-encoding"], options.bodyLimitBytes, countBody))),
            json: async () => parseJsonBody(await ctx.body()),
          };
          return ctx;
        },
        onError: (err) => errorReply(err, log),
      },
    );
    if (pattern !== undefined) {
      const routeKey = `${req.method} ${pattern}`;
      stats.byRoute[routeKey] = (stats.byRoute[routeKey] ?? 0) + 1;
    }
    if (response.status >= 500) stats.errors++;
    if (opts.latencyMs && opts.latencyMs > 0) await sleep(opts.latencyMs);
    log(`${req.method} ${path} ${response.status} ${Math.round(performance.now() - started)}ms`);
    return response;
  };
  return { handle, stats };
}

/** A request listener serving `store`. Mount it on your own http.Server if you have one. */
export function handler(store: Store, opts: HandlerOptions = {}): TallyRequestListener {
  const app = createServerApp(store, opts);
  const listener = nodeListener(app.handle, { bodyLimitBytes: opts.bodyLimitBytes, log: opts.logger }) as TallyRequestListener;
  Object.defineProperty(listener, "stats", { value: app.stats, enumerable: true });
  return listener;
}

/** Starts a standalone server (default 127.0.0.1, ephemeral port, in-memory store). */
export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const store = opts.store ?? new Store(opts.dbPath ?? ":memory:");
  const ownsStore = !opts.store;
  const listener = handler(store, opts);
  let listening: Awaited<ReturnType<typeof listen>>;
  try {
    // The SDK's undici keeps connections alive ~4 s; stay open a bit longer so it never races a close.
    // Closing lets in-flight requests finish (their data is committed before they answer), drops idle
    // keep-alive sockets at once, and cuts anything still open after a grace period.
    listening = await listen(listener, { port: opts.port, host: opts.host, keepAliveTimeoutMs: 10_000, closeGraceMs: 2000 });
  } catch (err) {
    if (ownsStore) store.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= listening.close().then(() => {
      if (ownsStore) store.close();
    }));
  return { url: listening.url, port: listening.port, store, stats: listener.stats, server: listening.server, close };
}
