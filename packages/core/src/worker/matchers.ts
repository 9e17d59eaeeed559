// The three matchers `langsmith/vitest` registers, for any runner whose `expect.extend` follows Jest's
// contract. All are async, like the originals.

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

interface MatcherThis {
  isNot?: boolean;
}

type EmbeddingsLike = { embedQuery(text: string): Promise<number[]> };

function result(pass: boolean, message: string) {
  return { pass, message: () => message };
}

export const lsMatchers = {
  async toBeRelativeCloseTo(this: MatcherThis, received: string, expected: string, opts: { threshold?: number } = {}) {
    const threshold = opts.threshold ?? 0.1;
    const longest = Math.max(received.length, expected.length);
    const distance = longest === 0 ? 0 : levenshtein(received, expected) / longest;
    return result(
      distance <= threshold,
      `expected "${received}" ${this.isNot ? "not " : ""}to be within relative edit distance ${threshold} of "${expected}", was ${distance.toFixed(3)}`,
    );
  },
  async toBeAbsoluteCloseTo(this: MatcherThis, received: string, expected: string, opts: { threshold?: number } = {}) {
    const threshold = opts.threshold ?? 3;
    const distance = levenshtein(received, expected);
    return result(
      distance <= threshold,
      `expected "${received}" ${this.isNot ? "not " : ""}to be within edit distance ${threshold} of "${expected}", was ${distance}`,
    );
  },
  async toBeSemanticCloseTo(
    this: MatcherThis,
    received: string,
    expected: string,
    opts: { embeddings: EmbeddingsLike; threshold?: number; algorithm?: "cosine" | "dot-product" },
  ) {
    const threshold = opts.threshold ?? 0.2;
    const [a, b] = await Promise.all([opts.embeddings.embedQuery(received), opts.embeddings.embedQuery(expected)]);
    const dot = a.reduce((s, v, i) => s + v * (b[i] ?? 0), 0);
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    const similarity = opts.algorithm === "dot-product" ? dot : dot / (norm(a) * norm(b) || 1);
    return result(
      similarity >= 1 - threshold,
      `expected "${received}" ${this.isNot ? "not " : ""}to be semantically close to "${expected}" (similarity ${similarity.toFixed(3)}, needed ≥ ${1 - threshold})`,
    );
  },
};
