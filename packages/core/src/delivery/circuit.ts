import { BackendError } from "../backend/port.js";

// A backend that cannot be reached (connection refused, reset, DNS, timeout) is not asked again
// by every batch at once: after a few such failures in a row the circuit opens, and from then on
// a single probe goes out now and then (backoff with jitter, up to 30 s) until one gets through.
// HTTP answers, even 5xx, close nothing: the backend is there, and the batch's own retry handles it.

/** Transport failures in a row that open the circuit. */
const THRESHOLD = 5;
const MAX_PROBE_GAP_MS = 30_000;

export class Circuit {
  private failures = 0;
  private nextProbeAt = 0;
  private probing = false;
  /** Why the backend could not be reached, e.g. "connection refused"; undefined while it can. */
  reason: string | undefined;
  /** When a call last failed with the circuit open (the one that opened it included). */
  lastProbeFailedAt = 0;
  /** The last failure says nothing listens there (refused, no such host): down, not flaky. */
  private hardDown = false;

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  get open(): boolean {
    return this.failures >= THRESHOLD;
  }

  /**
   * Whether a request may go out now. While open, one probe at a time, once its time has come;
   * whoever was admitted calls `settle()` when its attempt is over, whatever its outcome.
   */
  admit(): boolean {
    if (!this.open) return true;
    if (this.probing || this.clock() < this.nextProbeAt) return false;
    this.probing = true;
    return true;
  }

  /**
   * When to try a failed call again: a transport failure soon while the circuit is still closed
   * (so that a dead backend is recognised within a second), then at the next probe.
   */
  retryDelayMs(err: unknown, otherwise: number): number {
    if (this.open) return Math.max(this.waitMs(), 50);
    return isTransportFailure(err) ? 100 + this.random() * 100 : otherwise;
  }

  /** How long until the next probe may go (0 when closed). */
  waitMs(): number {
    // Whole milliseconds, rounded up: a timer set for the fraction could fire a hair too early.
    return this.open ? Math.max(0, Math.ceil(this.nextProbeAt - this.clock())) : 0;
  }

  /** The next probe may go now (the run is ending: one last try, not a wait). */
  probeNow(): void {
    this.nextProbeAt = 0;
  }

  settle(): void {
    this.probing = false;
  }

  success(): void {
    this.failures = 0;
    this.reason = undefined;
  }

  /** Reports a failed call; true when it was a transport failure (it counts towards opening). */
  failure(err: unknown): boolean {
    if (!isTransportFailure(err)) return false;
    this.failures++;
    const code = codeOf(err);
    this.reason = REASONS[code] ?? (code ? `unreachable: ${code}` : "unreachable");
    this.hardDown = HARD_DOWN.has(code);
    if (this.open) {
      const gap = Math.min(MAX_PROBE_GAP_MS, 500 * 2 ** (this.failures - THRESHOLD));
      this.nextProbeAt = this.clock() + gap / 2 + this.random() * (gap / 2);
      this.lastProbeFailedAt = this.clock();
    }
    return true;
  }

  /**
   * Whether a run that is ending should stop waiting for the backend: the circuit is open and a try
   * made since `since` failed too. Refused connections settle it at once; dropped or timed-out ones
   * (a flaky network still lets most calls through) only after three more failed probes in a row.
   */
  givesUp(since: number): boolean {
    return this.open && this.lastProbeFailedAt >= since && (this.hardDown || this.failures >= THRESHOLD + 3);
  }
}

const HARD_DOWN = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH"]);

/** No HTTP answer at all: the request never reached a backend that could say anything. */
export function isTransportFailure(err: unknown): boolean {
  return err instanceof BackendError && err.status === undefined && err.retryable;
}

/** "ECONNREFUSED" from "POST /runs/multipart: backend unreachable (ECONNREFUSED)". */
function codeOf(err: unknown): string {
  return /\(([^()]+)\)\s*$/.exec((err as Error).message)?.[1] ?? "";
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found (DNS)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  TimeoutError: "no answer in time",
  UND_ERR_SOCKET: "connection dropped",
};
