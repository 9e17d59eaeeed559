// Means per key, the one way the comparison, the report and the merge average scores.

export interface KeyMean {
  mean: number;
  count: number;
}

/** For each key any of `rows` has: the mean of its values and how many there were (keys sorted). */
export function meansByKey(rows: Iterable<Readonly<Record<string, number>>>): Record<string, KeyMean> {
  const sums = new Map<string, { sum: number; n: number }>();
  // A plain loop over own keys: at the end of a run this is called for every example of 10,000.
  for (const row of rows) {
    for (const k in row) {
      if (!Object.hasOwn(row, k)) continue;
      const s = sums.get(k);
      if (s) {
        s.sum += row[k]!;
        s.n++;
      } else sums.set(k, { sum: row[k]!, n: 1 });
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
