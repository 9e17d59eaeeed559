import { RestBackend } from "../backend/langsmith/rest-backend.js";
import type { Backend, OpenLocalBackend } from "../backend/port.js";
import { apiKeyOf } from "./options.js";

/** Where a run's (or a left-behind spool's) data goes: the embedded store, or a LangSmith endpoint. */
export type BackendTarget = { local: true; dir: string } | { local: false; apiUrl: string };

/**
 * The backend for `target`. The embedded store comes from the runner package (`@tally/store`), so
 * core never loads node:sqlite and a run against LangSmith never opens it.
 */
export async function connectBackend(
  target: BackendTarget,
  env: Record<string, string | undefined>,
  openLocal: OpenLocalBackend | undefined,
): Promise<Backend> {
  if (!target.local) {
    // The real key is only ever read here, in the main process.
    return new RestBackend({ apiUrl: target.apiUrl, apiKey: apiKeyOf(env), workspaceId: env.LANGSMITH_WORKSPACE_ID });
  }
  if (!openLocal) {
    throw new Error(
      "tally: no LANGSMITH_API_KEY, and no local store to record to. Set LANGSMITH_API_KEY, or install @tally/store (the runner packages bring it).",
    );
  }
  return openLocal(target.dir);
}
