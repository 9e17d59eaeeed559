import { join } from "node:path";
import { webUrlFor } from "../registry/web-url.js";
import { createUpstream, type Upstream } from "../upstream/http.js";
import { apiKeyOf } from "./options.js";

/** Where a run's (or a left-behind spool's) data goes: the embedded store, or a LangSmith endpoint. */
export type BackendTarget = { local: true; dir: string } | { local: false; apiUrl: string };

export interface Backend {
  upstream: Upstream;
  apiUrl: string;
  webUrl: string;
  local: boolean;
  /** For messages: the store's file, or the endpoint. Never a key. */
  label: string;
  close(): Promise<void>;
}

export async function connectBackend(target: BackendTarget, env: Record<string, string | undefined>): Promise<Backend> {
  // The embedded store (and node:sqlite) is loaded only when it is the backend.
  const dbPath = target.local ? join(target.dir, "tally.db") : undefined;
  // In-process and on loopback, compressing would only cost CPU: the store advertises no encoding,
  // so the sender sends it plain.
  const local = dbPath ? await (await import("../server/index.js")).startServer({ dbPath, zstd: false, gzip: false }) : undefined;
  const apiUrl = local ? local.url : (target as { apiUrl: string }).apiUrl;
  return {
    upstream: createUpstream({
      apiUrl,
      // The local store accepts any key; the real one is only ever read here, in the main process.
      apiKey: local ? "tally-local" : apiKeyOf(env),
      workspaceId: env.LANGSMITH_WORKSPACE_ID,
    }),
    apiUrl,
    webUrl: webUrlFor(apiUrl, !!local),
    local: !!local,
    label: dbPath ? `local store ${dbPath}` : apiUrl,
    close: async () => local?.close(),
  };
}
