// What a route of the LangSmith-compatible server gets: the plain request (see @tally/core/http),
// its route params, the store, and the server's options.
import type { HttpRequest, Router } from "@tally/core/http";
import { HttpError } from "@tally/core/http";
import type { Store } from "../db/store.js";

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
  method: string;
  /** The path with any `/api/v1` or `/api` prefix removed. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: HttpRequest["headers"];
  store: Store;
  /** `http://host:port` as the client addressed us, for URLs we hand out. */
  baseUrl: string;
  options: RouteOptions;
  /** The decoded request body (read once, cached). */
  body(): Promise<Buffer>;
  /** The body parsed as JSON; 422 with a clear message when it is not. */
  json(): Promise<unknown>;
}

export type ServerRouter = Router<RequestContext>;

/** The JSON body as an object, or 422. */
export async function jsonObject(ctx: RequestContext): Promise<Record<string, unknown>> {
  const v = await ctx.json();
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new HttpError(422, "request body must be a JSON object");
  return v as Record<string, unknown>;
}

/** The request's media type, or 415 unless it is multipart/form-data. */
export function requireMultipart(ctx: RequestContext): string {
  const ct = ctx.headers["content-type"] ?? "";
  if (!/^multipart\/form-data/i.test(ct)) throw new HttpError(415, `expected multipart/form-data, got "${ct}"`);
  return ct;
}
