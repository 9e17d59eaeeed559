import { join } from "node:path";
import type { OpenLocalBackend } from "../backend/port.js";
import { connectBackend } from "./backend.js";
import { endpointOf } from "./options.js";
import { claimLeftBehind, resend } from "./left-behind.js";
import { Spool } from "../spool/spool.js";

/** Sends what earlier runs left in the spool; each spool goes back to the backend it was meant for. */
export async function flushSpools(
  dir: string,
  log: (l: string) => void,
  openLocal?: OpenLocalBackend,
  timeoutMs = 120_000,
): Promise<number> {
  const root = join(dir, "spool");
  const all = Spool.list(root);
  const claimed = claimLeftBehind(root);
  for (const d of Spool.list(root)) {
    if (!claimed.some((c) => c.spool.dir === d)) log(`tally flush: ${d} belongs to a run still in progress (or being sent); skipped`);
  }
  let left = 0;
  for (const { spool, backend } of claimed) {
    const target = backend === "local" ? { local: true as const, dir } : { local: false as const, apiUrl: backend };
    const to = await connectBackend(target, process.env, openLocal);
    if (!target.local && endpointOf(process.env) !== target.apiUrl) {
      log(`tally flush: note: ${spool.dir} was recorded for ${target.apiUrl}, which differs from LANGSMITH_ENDPOINT`);
    }
    const r = await resend(spool, to, Date.now() + timeoutMs);
    await to.close();
    if (r.left === 0) {
      log(`tally flush: sent ${r.waiting} records from ${r.dir}`);
    } else {
      left += r.left;
      log(`tally flush: ${r.left} records of ${r.dir} still could not be sent (${r.lastError ?? "unknown error"})`);
    }
  }
  if (all.length === 0) log("tally flush: nothing to send");
  return left > 0 ? 1 : 0;
}
