import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer } from "../../packages/store/src/index.js";
import { withReads } from "./reads.js";

export { withReads, type Run, type Session } from "./reads.js";

// The project's LangSmith stand-in, started for a test, with the reads of ./reads.ts.

export async function startBackend(opts: { latencyMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "tally-backend-"));
  const server = await startServer({ dbPath: join(dir, "backend.db"), latencyMs: opts.latencyMs ?? 0 });
  return withReads(server.url, () => server.close());
}

export type Backend = Awaited<ReturnType<typeof startBackend>>;
