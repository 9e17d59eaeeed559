// `tally ui`: a local, read-only viewer of the embedded store. Server-rendered HTML over node:http,
// reading the SQLite store directly; no build step, no external assets. It serves the same path
// shapes as LangSmith's web app for what Tally prints (`/o/<tenant>/datasets/<id>/compare?
// selectedSessions=<experiment>`), plus short ones (`/experiments/:id`, `/runs/:id`, `/projects`).
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { DEFAULT_PORTS } from "../ports.js";
import { Store } from "../server/store.js";
import { html } from "./html.js";
import { page } from "./layout.js";
import { type PageContext, type UiResponse, notFound, redirect } from "./pages/common.js";
import { datasetPage, homePage } from "./pages/datasets.js";
import { projectsPage } from "./pages/projects.js";
import { sessionPage } from "./pages/session.js";
import { tracePage } from "./pages/trace.js";

export interface UiOptions {
  /** The SQLite file to browse (e.g. `.tally/tally.db`). It must exist. Ignored when `store` is given. */
  dbPath?: string;
  /** Browse an already open store instead (the caller keeps ownership and closes it). */
  store?: Store;
  /** Default 4317 (what Tally's printed links use); 0 for an ephemeral port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Server-side errors (stack traces), one line each. */
  logger?: (line: string) => void;
}

export interface RunningUi {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

export const DEFAULT_UI_PORT = DEFAULT_PORTS.ui;

/** The store file is not there: nothing was recorded locally yet, or the path is wrong. */
export class StoreNotFoundError extends Error {
  constructor(readonly dbPath: string) {
    super(
      `no local Tally store at ${dbPath}. Run your evals without LANGSMITH_API_KEY first (they are recorded there), ` +
        `or point at another folder with --dir.`,
    );
    this.name = "StoreNotFoundError";
  }
}

/** Opens the store file for browsing, with a clear error when it is missing or not a database. */
export function openStore(dbPath: string): Store {
  const path = resolve(dbPath);
  if (!existsSync(path)) throw new StoreNotFoundError(path);
  if (statSync(path).isDirectory()) throw new Error(`${path} is a directory, not a Tally store (expected .tally/tally.db)`);
  try {
    return new Store(path);
  } catch (err) {
    throw new Error(`cannot open the Tally store ${path}: ${(err as Error).message}`);
  }
}

function decodeParts(pathname: string): string[] | undefined {
  try {
    return pathname.split("/").filter((s) => s !== "").map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

/** Which page a path is, and its answer. */
export function route(ctx: PageContext): UiResponse {
  const p = decodeParts(ctx.url.pathname);
  if (!p) return notFound(ctx, "That address is not valid.");
  // LangSmith-shaped paths start with /o/<tenant>; the local store has one tenant, so drop it.
  const parts = p[0] === "o" && p.length >= 2 ? p.slice(2) : p;
  const [a, b, c, d, e] = parts;
  switch (parts.length) {
    case 0:
      return homePage(ctx);
    case 1:
      if (a === "projects") return projectsPage(ctx);
      if (a === "datasets" || a === "experiments") return redirect("/");
      break;
    case 2:
      if (a === "datasets") return datasetPage(ctx, b!);
      if (a === "experiments" || a === "projects") return sessionPage(ctx, b!);
      if (a === "runs") return tracePage(ctx, b!);
      break;
    case 3:
      if (a === "datasets" && c === "compare") {
        const selected = ctx.url.searchParams
          .getAll("selectedSessions")
          .flatMap((v) => v.split(","))
          .map((v) => v.trim())
          .filter((v) => v !== "");
        if (!selected.length) return redirect(`/datasets/${encodeURIComponent(b!)}`);
        return sessionPage(ctx, selected[0]!, selected);
      }
      if (a === "projects" && b === "p") return sessionPage(ctx, c!);
      break;
    case 5:
      // LangSmith's run link (a run's `app_path`): /o/<tenant>/projects/p/<session>/r/<run>
      if (a === "projects" && b === "p" && d === "r") return tracePage(ctx, e!);
      break;
  }
  return notFound(ctx, `There is no page at ${ctx.url.pathname}.`);
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

function hostnameOf(hostHeader: string | undefined): string {
  if (!hostHeader) return "";
  if (hostHeader.startsWith("[")) return hostHeader.slice(0, hostHeader.indexOf("]") + 1);
  return hostHeader.replace(/:\d+$/, "");
}

/** A request listener serving the viewer for `store` (mount it on your own server if you like). */
export function uiHandler(store: Store, opts: { storeLabel?: string; loopbackOnly?: boolean; logger?: (line: string) => void } = {}): RequestListener {
  const storeLabel = opts.storeLabel ?? store.path;
  const log = opts.logger ?? (() => {});
  return (req: IncomingMessage, res: ServerResponse) => {
    const nonce = randomBytes(16).toString("base64");
    const method = (req.method ?? "GET").toUpperCase();
    let reply: UiResponse;
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://ui.local");
    } catch {
      url = new URL("http://ui.local/");
    }
    const ctx: PageContext = { store, url, nonce, storeLabel };
    if (method !== "GET" && method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end("method not allowed\n");
      return;
    }
    // Bound to loopback: refuse other Host names, so a web page cannot read the store through DNS rebinding.
    if (opts.loopbackOnly && !LOOPBACK.test(hostnameOf(req.headers.host))) {
      res.writeHead(421, { "content-type": "text/plain; charset=utf-8" }).end("tally ui answers on localhost only\n");
      return;
    }
    try {
      reply = route(ctx);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      log(`tally ui: error on ${url.pathname}: ${e.stack ?? e.message}`);
      reply = {
        status: 500,
        body: page({ title: "Error", nonce, storeLabel }, html`<h1>Something went wrong</h1><p class="muted">The viewer could not render this page.</p><pre class="json error">${e.message}</pre>`),
      };
    }
    if ("location" in reply) {
      res.writeHead(302, { location: reply.location, "content-length": 0 }).end();
      return;
    }
    const body = Buffer.from(reply.body.value, "utf8");
    res.writeHead(reply.status, {
      "content-type": "text/html; charset=utf-8",
      "content-length": body.length,
      "cache-control": "no-store",
      "content-security-policy":
        `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    });
    res.end(method === "HEAD" ? undefined : body);
  };
}

/** Starts the viewer. Rejects with StoreNotFoundError when `dbPath` does not exist. */
export async function startUi(opts: UiOptions): Promise<RunningUi> {
  let store: Store;
  const ownsStore = !opts.store;
  if (opts.store) store = opts.store;
  else if (opts.dbPath) store = openStore(opts.dbPath);
  else throw new Error("startUi needs dbPath or store");
  const host = opts.host ?? "127.0.0.1";
  const loopbackOnly = LOOPBACK.test(host.replace(/^\[|\]$/g, "")) || host === "::1";
  const server = http.createServer(uiHandler(store, { storeLabel: opts.dbPath ? resolve(opts.dbPath) : store.path, loopbackOnly, logger: opts.logger }));
  server.keepAliveTimeout = 5000;
  try {
    await new Promise<void>((done, fail) => {
      server.once("error", fail);
      server.listen(opts.port ?? DEFAULT_UI_PORT, host, () => {
        server.off("error", fail);
        done();
      });
    });
  } catch (err) {
    if (ownsStore) store.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new Error(`port ${opts.port ?? DEFAULT_UI_PORT} on ${host} is already in use (another \`tally ui\`?); pick one with --port`);
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    server,
    close: () =>
      (closing ??= new Promise<void>((done) => {
        server.close(() => {
          if (ownsStore) store.close();
          done();
        });
        server.closeAllConnections();
      })),
  };
}
