// `tally ui`: a local, read-only viewer of the embedded store. Server-rendered HTML, reading through
// the store's repositories; no build step, no external assets. It serves the same path shapes as
// LangSmith's web app for what Tally prints (`/o/<tenant>/datasets/<id>/compare?
// selectedSessions=<experiment>`; two or more selected: side by side), plus short ones (`/experiments/:id`,
// `/runs/:id`, `/projects`) and one JSON endpoint, `/experiments/:id/live`, the live updates' poll.
// Routed like the server (@tally/core/http): a plain request → response app, served over node:http.
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import type http from "node:http";
import type { RequestListener } from "node:http";
import { resolve } from "node:path";
import { DEFAULT_PORTS } from "@tally/core";
import {
  type HttpHandle,
  HttpError,
  type HttpRequest,
  type HttpResponse,
  Reply,
  Router,
  listen,
  nodeListener,
  toResponse,
} from "@tally/core/http";
import { Store } from "../db/store.js";
import { html } from "./html.js";
import { page } from "./layout.js";
import { type PageContext, type UiResponse, notFound, redirect } from "./pages/common.js";
import { liveReply } from "./live.js";
import { comparePage } from "./pages/compare.js";
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

export interface ViewerOptions {
  /** Shown in every page's footer; default the store's path. */
  storeLabel?: string;
  /** Refuse requests whose Host is not a loopback name (421), against DNS rebinding. */
  loopbackOnly?: boolean;
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

/** A page's context plus its route's `:param` values. */
type ViewerContext = PageContext & { params: Record<string, string> };

/** The viewer's pages. Paths are matched after the `/o/<tenant>` prefix of LangSmith links is dropped. */
function createPageRouter(): Router<ViewerContext> {
  const router = new Router<ViewerContext>();
  const get = (pattern: string, render: (ctx: ViewerContext) => UiResponse) =>
    router.get(pattern, (ctx) => pageReply(render(ctx), ctx.nonce));
  const compare = (ctx: ViewerContext): UiResponse => {
    const selected = ctx.url.searchParams
      .getAll("selectedSessions")
      .flatMap((v) => v.split(","))
      .map((v) => v.trim())
      .filter((v) => v !== "");
    if (!selected.length) return redirect(`/datasets/${encodeURIComponent(ctx.params.id!)}`);
    // One experiment: its page (the link Tally prints for a run). More: side by side.
    if (new Set(selected).size === 1) return sessionPage(ctx, selected[0]!);
    return comparePage(ctx, ctx.params.id!, selected);
  };
  get("/", homePage);
  get("/projects", projectsPage);
  get("/datasets", () => redirect("/"));
  get("/experiments", () => redirect("/"));
  get("/datasets/:id", (ctx) => datasetPage(ctx, ctx.params.id!));
  get("/experiments/:id", (ctx) => sessionPage(ctx, ctx.params.id!));
  // JSON for the experiment page's live updates (polled by its nonce'd script, hence connect-src 'self').
  router.get("/experiments/:id/live", (ctx) => liveReply(ctx.store, ctx.params.id!));
  get("/projects/:id", (ctx) => sessionPage(ctx, ctx.params.id!));
  get("/runs/:id", (ctx) => tracePage(ctx, ctx.params.id!));
  get("/datasets/:id/compare", compare);
  get("/projects/p/:id", (ctx) => sessionPage(ctx, ctx.params.id!));
  // LangSmith's run link (a run's `app_path`): /o/<tenant>/projects/p/<session>/r/<run>
  get("/projects/p/:session/r/:run", (ctx) => tracePage(ctx, ctx.params.run!));
  return router;
}

/** LangSmith-shaped paths start with /o/<tenant>; the local store has one tenant, so drop it. */
function withoutTenant(path: string): string {
  const parts = path.split("/").filter((s) => s !== "");
  return parts[0] === "o" && parts.length >= 2 ? `/${parts.slice(2).join("/")}` : path;
}

function decodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

function hostnameOf(hostHeader: string | undefined): string {
  if (!hostHeader) return "";
  if (hostHeader.startsWith("[")) return hostHeader.slice(0, hostHeader.indexOf("]") + 1);
  return hostHeader.replace(/:\d+$/, "");
}

const TEXT = { "content-type": "text/plain; charset=utf-8" };

/** A page as the response: HTML under a strict CSP (scripts only with this page's nonce), or a redirect. */
function pageReply(res: UiResponse, nonce: string): Reply {
  if ("location" in res) return new Reply(302, "", { location: res.location });
  return new Reply(res.status, res.body.value, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  });
}

/** The viewer of `store` as a plain request → response app. */
export function createViewerApp(store: Store, opts: ViewerOptions = {}): { handle: HttpHandle } {
  const storeLabel = opts.storeLabel ?? store.path;
  const log = opts.logger ?? (() => {});
  const router = createPageRouter();
  const handle = async (req: HttpRequest): Promise<HttpResponse> => {
    if (req.method !== "GET" && req.method !== "HEAD")
      return toResponse(new Reply(405, "method not allowed\n", { allow: "GET, HEAD", ...TEXT }));
    // Bound to loopback: refuse other Host names, so a web page cannot read the store through DNS rebinding.
    if (opts.loopbackOnly && !LOOPBACK.test(hostnameOf(req.headers.host))) {
      return toResponse(new Reply(421, "tally ui answers on localhost only\n", TEXT));
    }
    const nonce = randomBytes(16).toString("base64");
    const url = new URL(req.path, "http://ui.local");
    url.search = req.query.toString();
    const base: PageContext = { store, url, nonce, storeLabel };
    if (!decodable(req.path)) return toResponse(pageReply(notFound(base, "That address is not valid."), nonce));
    const { response } = await router.dispatch(
      { ...req, path: withoutTenant(req.path) },
      {
        context: (_req, route): ViewerContext => ({ ...base, params: route.params }),
        onError: (err) => {
          if (err instanceof HttpError && err.status === 404)
            return pageReply(notFound(base, `There is no page at ${url.pathname}.`), nonce);
          const e = err instanceof Error ? err : new Error(String(err));
          log(`tally ui: error on ${url.pathname}: ${e.stack ?? e.message}`);
          const body = html`<h1>Something went wrong</h1><p class="muted">The viewer could not render this page.</p><pre class="json error">${e.message}</pre>`;
          return pageReply({ status: 500, body: page({ title: "Error", nonce, storeLabel }, body) }, nonce);
        },
      },
    );
    return response;
  };
  return { handle };
}

/** A request listener serving the viewer for `store` (mount it on your own server if you like). */
export function uiHandler(store: Store, opts: ViewerOptions = {}): RequestListener {
  return nodeListener(createViewerApp(store, opts).handle, { log: opts.logger });
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
  const listener = uiHandler(store, { storeLabel: opts.dbPath ? resolve(opts.dbPath) : store.path, loopbackOnly, logger: opts.logger });
  let listening: Awaited<ReturnType<typeof listen>>;
  try {
    listening = await listen(listener, { port: opts.port ?? DEFAULT_UI_PORT, host, keepAliveTimeoutMs: 5000 });
  } catch (err) {
    if (ownsStore) store.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE")
      throw new Error(`port ${opts.port ?? DEFAULT_UI_PORT} on ${host} is already in use (another \`tally ui\`?); pick one with --port`);
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    url: listening.url,
    port: listening.port,
    server: listening.server,
    close: () =>
      (closing ??= listening.close().then(() => {
        if (ownsStore) store.close();
      })),
  };
}
