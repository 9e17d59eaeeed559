import type { Backend } from "../backend/port.js";
import { ExperimentRegistry } from "../delivery/registry.js";
import { Scheduler } from "../delivery/scheduler.js";
import { Ledger } from "../ledger/ledger.js";
import { Spool } from "../spool/spool.js";

// Spools that earlier runs left behind (backend down at their end, main process killed). `tally
// flush` sends them, and so does the next test run for the same backend, in the background.

export interface LeftBehind {
  spool: Spool;
  /** "local", or the backend URL the run was recording to. */
  backend: string;
}

/**
 * The left-behind spools under `root` whose owner is gone and whose backend `accept`s, each claimed
 * for this process. Spools with nothing left to send are removed on the way.
 */
export function claimLeftBehind(root: string, accept: (backend: string) => boolean = () => true): LeftBehind[] {
  const out: LeftBehind[] = [];
  for (const dir of Spool.list(root)) {
    const spool = Spool.open(dir);
    const backend = spool.owner()?.backend ?? "local";
    if (!accept(backend) || !spool.claim()) continue;
    if (spool.pending().length === 0) spool.removeIfComplete();
    else out.push({ spool, backend });
  }
  return out;
}

export interface ResendResult {
  dir: string;
  /** Records that were waiting. */
  waiting: number;
  /** Records still waiting after this attempt (the folder stays). */
  left: number;
  lastError?: string;
}

/** Sends one left-behind spool through `backend` until `deadline`; removes it once complete. */
export async function resend(spool: Spool, backend: Backend, deadline: number, stallMs?: number): Promise<ResendResult> {
  const waiting = spool.pending().length;
  const registry = new ExperimentRegistry({ backend, metadata: {}, retryForMs: 10_000 });
  const sender = new Scheduler({ spool, backend, registry, ledger: new Ledger() });
  // Test records already sent are pushed again: their example ids are needed by the pending runs,
  // and re-sending an example is an idempotent upsert.
  sender.push(spool.all().filter((r) => r.t === "test" || !spool.isDone(r.seq)));
  const p = await sender.drain(deadline, undefined, stallMs);
  sender.stop();
  if (p.pending === 0) spool.removeIfComplete();
  else spool.close();
  return { dir: spool.dir, waiting, left: p.pending, lastError: p.unreachable ? `backend unreachable (${p.unreachable})` : p.lastError };
}
