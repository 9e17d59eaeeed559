// The one place where node's http meets the plain HttpRequest → HttpResponse form of ./router.ts:
// a request listener around an app's `handle`, and `listen()` for a server on a port.
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DEFAULT_BODY_LIMIT_BYTES, collectBody } from "../wire/body.js";
import type { HttpRequest, HttpResponse } from "./router.js";

/** What an app is to a transport: one plain request in, one plain response out. Never rejects. */
export type HttpHandle = (req: HttpRequest) => Promise<HttpResponse>;

export interface NodeListenerOptions {
  /** Max raw request body (default 64 MiB): 413 past it. */
  bodyLimitBytes?: number;
  /** A failure to answer (the socket went away, the app rejected), one line each. */
  log?: (line: string) => void;
}

/** The plain request of a node request; the body is read when (and only if) the app asks. */
export function fromNodeRequest(req: IncomingMessage, bodyLimitBytes: number = DEFAULT_BODY_LIMIT_BYTES): HttpRequest {
  let url: URL;
  try {
    url = new URL(req.url ?? "/", "http://localhost");
  } catch {
    url = new URL("http://localhost/");
  }
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : v;
  let body: Promise<Buffer> | undefined;
  return {
    method: (req.method ?? "GET").toUpperCase(),
    path: url.pathname,
    query: url.searchParams,
    search: url.search,
    headers,
    body: () => (body ??= collectBody(req, bodyLimitBytes)),
  };
}

/** Writes a plain response (no body for HEAD). */
export function sendNodeResponse(res: ServerResponse, method: string, response: HttpResponse): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(response.status, response.headers);
  res.end(method === "HEAD" ? undefined : response.body);
}

/** A node request listener serving `handle`. Nothing thrown while answering takes the server down. */
export function nodeListener(handle: HttpHandle, opts: NodeListenerOptions = {}): RequestListener {
  const log = opts.log ?? (() => {});
  return (req: IncomingMessage, res: ServerResponse) => {
    const plain = fromNodeRequest(req, opts.bodyLimitBytes);
    handle(plain)
      .then((response) => sendNodeResponse(res, plain.method, response))
      .catch((err: unknown) => {
        log(`unhandled error: ${(err as Error)?.stack ?? String(err)}`);
        if (!res.headersSent && !res.destroyed)
          res.writeHead(500, { "content-type": "application/json" }).end('{"detail":"internal error"}');
      });
  };
}

export interface ListenOptions {
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Idle keep-alive sockets are closed after this (node's default is 5 s). */
  keepAliveTimeoutMs?: number;
  /**
   * On close, requests in flight may finish for this long before their connections are cut
   * (default 0: cut at once).
   */
  closeGraceMs?: number;
}

export interface Listening {
  /** `http://host:port` (IPv6 hosts in brackets). */
  url: string;
  port: number;
  server: http.Server;
  /** Stops listening and ends the connections; resolves once the server is closed. Idempotent. */
  close(): Promise<void>;
}

/** Serves `listener` on a port. Rejects (e.g. EADDRINUSE) when it cannot listen. */
export async function listen(listener: RequestListener, opts: ListenOptions = {}): Promise<Listening> {
  const server = http.createServer(listener);
  if (opts.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = opts.keepAliveTimeoutMs;
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      const grace = opts.closeGraceMs ?? 0;
      const force = grace > 0 ? setTimeout(() => server.closeAllConnections(), grace) : undefined;
      force?.unref();
      server.close(() => {
        if (force) clearTimeout(force);
        resolve();
      });
      // Idle keep-alive sockets go now; busy ones finish their request (within the grace period).
      if (grace > 0) server.closeIdleConnections();
      else server.closeAllConnections();
    }));
  return { url, port, server, close };
}
