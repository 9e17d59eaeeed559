// How long the scheduler waits before trying a failed backend call again.

/** Exponential backoff with jitter, 250 ms → 8 s; a server's Retry-After wins (capped at 60 s). */
export function backoffMs(attempt: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, 60_000);
  const base = Math.min(8_000, 250 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

/**
 * Retry waits never hold the process open by themselves: whoever needs the result (a drain, the
 * CLI) keeps its own timers; after a run's shutdown, what is left is in the spool anyway.
 */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
