import type { CacheSettings } from "./settings.js";

// What the interceptor (intercept.ts) and the worker runtime that attaches to it say to each other.
// Apart from intercept.ts so that the worker can name these without loading the interceptor.

export type CacheOutcome = "hit" | "recorded" | "miss";

/** One intercepted call, as the runtime's hooks hear of it. */
export interface CacheCall {
  outcome: CacheOutcome;
  method: string;
  url: string;
  key: string;
  /** Why a call missed (refused in replay, not stored), or what was wrong with its entry. */
  problem?: string;
  /** Set when the test must fail: a miss in replay mode, an unusable entry in replay mode. */
  fatal?: boolean;
}

/** What the runtime attached to the cache tells it (and is told) about calls. */
export interface CacheHooks {
  runKey: string;
  /** The test whose code made the call: an id to hand back in `onCall`, and its name for entries. */
  currentTest(): { id: string; name: string } | undefined;
  /** Puts `tally_cache` on the span the call was made in (the LLM span of a wrapped client). */
  markSpan(outcome: CacheOutcome): void;
  onCall(testId: string | undefined, call: CacheCall): void;
  /** Separates calls that are otherwise the same request (see cacheKey). */
  variant?(): string | undefined;
}

export interface ModelCache {
  readonly settings: CacheSettings;
  attach(hooks: CacheHooks): void;
  /** Settles when the recordings started by this test (or, without one, by anyone) are stored. */
  settled(testId?: string): Promise<void>;
}
