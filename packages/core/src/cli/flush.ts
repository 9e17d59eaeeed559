import { join } from "node:path";
import { Ledger } from "../ledger/ledger.js";
import { ExperimentRegistry } from "../registry/registry.js";
import { connectBackend } from "../session/backend.js";
import { endpointOf } from "../session/options.js";
import { Spool } from "../spool/spool.js";
import { Sender } from "../upstream/sender.js";

/** Sends what earlier runs left in the spool; each spool goes back to the backend it was meant for. */
export async function flushSpools(dir: string, log: (l: string) => void, timeoutMs = 120_000): Promise<number> {
  const dirs = Spool.list(join(dir, "spool"));
  let left = 0;
  for (const d of dirs) {
    const spool = Spool.open(d);
    const owner = spool.owner();
    if (owner && owner.pid !== process.pid && isAlive(owner.pid)) {
      log(`tally flush: ${d} belongs to a run still in progress (pid ${owner.pid}); skipped`);
      continue;
    }
    const pending = spool.pending();
    if (pending.length === 0) {
      spool.removeIfComplete();
      continue;
    }
    const target = !owner || owner.backend === "local" ? { local: true as const, dir } : { local: false as const, apiUrl: owner.backend };
    const { upstream, apiUrl, webUrl, local, close } = await connectBackend(target, process.env);
    if (!local && endpointOf(process.env) !== apiUrl) {
      log(`tally flush: note: ${d} was recorded for ${apiUrl}, which differs from LANGSMITH_ENDPOINT`);
    }
    const registry = new ExperimentRegistry({ upstream, webUrl, metadata: {}, retryForMs: 10_000 });
    const sender = new Sender({ spool, upstream, registry, ledger: new Ledger() });
    // Test records already sent are pushed again: their example ids are needed by the pending runs,
    // and re-sending an example is an idempotent upsert.
    sender.push(spool.all().filter((r) => r.t === "test" || !spool.isDone(r.seq)));
    const p = await sender.drain(Date.now() + timeoutMs);
    sender.stop();
    await close();
    if (p.pending === 0) {
      spool.removeIfComplete();
      log(`tally flush: sent ${pending.length} records from ${d}`);
    } else {
      left += p.pending;
      log(`tally flush: ${p.pending} records of ${d} still could not be sent (${p.lastError ?? "unknown error"})`);
    }
  }
  if (dirs.length === 0) log("tally flush: nothing to send");
  return left > 0 ? 1 : 0;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
