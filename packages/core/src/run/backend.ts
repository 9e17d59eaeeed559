import { RestBackend } from "../backend/langsmith/rest-backend.js";
import type { Backend, OpenLocalBackend } from "../backend/port.js";
import { apiKeyOf, endpointOf, resolveOptions } from "./options.js";

/** Where a run's (or a left-behind spool's) data goes: the embedded store, or a LangSmith endpoint. */
export type BackendTarget = { local: true; dir: string } | { local: false; apiUrl: string };

/** Where a run with these options records: the embedded store in its folder, or LANGSMITH_ENDPOINT. */
export function targetOf(options: { local: boolean; dir: string }, env: Record<string, string | undefined>): BackendTarget {
  return options.local ? { local: true, dir: options.dir } : { local: false, apiUrl: endpointOf(env) };
}

/**
 * The backend a run started in `root` with this environment would record to (LangSmith with an API
 * key unless TALLY_LOCAL, else the store in `dir`, TALLY_DIR or `<root>/.tally`): for commands that
 * act on what runs recorded (`tally baseline`).
 */
export async function openConfiguredBackend(
  opts: { root: string; dir?: string },
  env: Record<string, string | undefined>,
  openLocal: OpenLocalBackend,
): Promise<Backend> {
  const options = resolveOptions(opts.root, opts.dir ? { dir: opts.dir } : {}, env);
  return connectBackend(targetOf(options, env), env, openLocal);
}

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
