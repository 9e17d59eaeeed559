// @tally/core/cache: the model-call cache's settings and its folder (the CLI's `tally cache`). The
// interceptor that runs in the workers is @tally/core/cache/intercept, loaded only when the cache is on.
export * from "./settings.js";
export { cacheKey, cacheUrl, canonicalBody, type CanonicalBody } from "./key.js";
export { type CacheEntry, ENTRY_VERSION } from "./entry.js";
export { CacheStore, type ReadResult } from "./store.js";
export { cacheStats, pruneCache, type CacheStats, type PruneResult } from "./maintenance.js";
