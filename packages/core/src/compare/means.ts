// Means per key, the one way the comparison, the report and the merge average scores.

export interface KeyMean {
  mean: number;
  count: number;
}

/** For each key any of `rows` has: the mean of its values and how many there were (keys sorted). */
export function meansByKey(rows: Iterable<Readonly<Record<string, number>>>): Record<string, KeyMean> {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) {
      const s = sums.get(k) ?? { sum: 0, n: 0 };
      s.sum += v;
      s.n++;
      sums.set(k, s);
    }
  }
  const out: Record<string, KeyMean> = {};
  for (const k of [...sums.keys()].sort()) out[k] = { mean: sums.get(k)!.sum / sums.get(k)!.n, count: sums.get(k)!.n };
  return out;
}

/** The means alone. */
export function meanOf(rows: Iterable<Readonly<Record<string, number>>>): Record<string, number> {
  return Object.fromEntries(Object.entries(meansByKey(rows)).map(([k, m]) => [k, m.mean]));
}
