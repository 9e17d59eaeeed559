import type { CacheCounts } from "../protocol/tracked-test.js";

// The model-call cache in the report: each test's calls as its worker counted them, summed per
// experiment. Absent (not zero) where the cache was off, so a report without it looks as before.

export function cacheTotals(tests: ReadonlyArray<{ cache?: CacheCounts }>): CacheCounts | undefined {
  let total: CacheCounts | undefined;
  for (const t of tests) {
    if (!t.cache) continue;
    total ??= { hit: 0, miss: 0, recorded: 0 };
    total.hit += t.cache.hit;
    total.miss += t.cache.miss;
    total.recorded += t.cache.recorded;
  }
  return total;
}

/** One test's cell: what most describes its calls ("hit", "recorded", "miss", or a mix). */
export function cacheCell(c: CacheCounts | undefined): string {
  if (!c) return "";
  const parts = [c.hit && `${c.hit} hit`, c.recorded && `${c.recorded} rec`, c.miss && `${c.miss} miss`].filter(Boolean);
  return parts.join(" · ");
}

/** `model calls: 12 from the cache, 3 recorded, 1 missed` */
export function cacheSentence(c: CacheCounts): string {
  return `model calls: ${c.hit} from the cache, ${c.recorded} recorded, ${c.miss} missed`;
}
