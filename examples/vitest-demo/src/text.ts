// Small text helpers shared by the retriever, the fake model and the evaluators.

const STOP_WORDS = new Set(
  "a an and are as at be by can do does for from get got had has have how i if in is it its me my of on or our so that the this to up was we what when where which will with you your".split(
    " ",
  ),
);

export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9\s-]/g, " ")
    .split(/\s+/)
    .filter((t) => t.length > 1 && !STOP_WORDS.has(t))
    .map(stem);
}

/** A very rough stemmer: enough for "returns"/"returning"/"returned" or "code"/"codes" to meet. */
function stem(token: string): string {
  if (token.length > 5 && /(ing|ed)$/.test(token)) return token.replace(/(ing|ed)$/, "");
  if (token.length > 3 && /ies$/.test(token)) return token.replace(/ies$/, "y");
  if (token.length > 3 && /[^s]s$/.test(token)) return token.slice(0, -1);
  return token;
}

export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Share of `a`'s tokens that also occur in `b`. */
export function overlap(a: string, b: string): number {
  const ta = tokenize(a);
  if (ta.length === 0) return 0;
  const tb = new Set(tokenize(b));
  return ta.filter((t) => tb.has(t)).length / ta.length;
}

/** Edit distance that counts a swap of two neighbouring letters ("retrun") as one edit. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

export const round2 = (x: number) => Math.round(x * 100) / 100;
