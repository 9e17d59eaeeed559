import { describe, expect, test } from "vitest";
import { Rng } from "./prng.js";

const take = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => rng.uint32());

describe("Rng", () => {
  test("same seed, same sequence; another seed or stream, another sequence", () => {
    expect(take(new Rng(42), 8)).toEqual(take(new Rng(42), 8));
    expect(take(new Rng(42), 8)).not.toEqual(take(new Rng(43), 8));
    expect(take(new Rng(42, 1), 8)).not.toEqual(take(new Rng(42, 2), 8));
    expect(take(new Rng(2 ** 40), 8)).not.toEqual(take(new Rng(0), 8)); // the high word counts
    expect(take(new Rng(-1), 8)).not.toEqual(take(new Rng(2 ** 32 - 1), 8));
  });

  test("a string seed (an experiment id, say) is hashed: reproducible and distinct", () => {
    expect(take(new Rng("exp-1"), 4)).toEqual(take(new Rng("exp-1"), 4));
    expect(take(new Rng("exp-1"), 4)).not.toEqual(take(new Rng("exp-2"), 4));
    expect(take(new Rng(""), 4)).not.toEqual(take(new Rng("é"), 4));
  });

  test("the sequence is pinned: a change to the generator changes every report's numbers", () => {
    // Checked against a line-by-line Python port of the seeding (splitmix32) and xoshiro128+.
    expect(take(new Rng(1), 3)).toEqual([2390903277, 3040811428, 2934515705]);
    expect(new Rng("exp-1").uint32()).toBe(4184580669);
  });

  test("rejects seeds that are not safe integers or strings", () => {
    expect(() => new Rng(1.5)).toThrow(RangeError);
    expect(() => new Rng(Number.NaN)).toThrow(RangeError);
    expect(() => new Rng(2 ** 60)).toThrow(RangeError);
  });

  test("float is in [0, 1) and index in [0, n), roughly uniform", () => {
    const rng = new Rng(7);
    const buckets = new Array<number>(10).fill(0);
    const draws = 100_000;
    let inRange = true;
    for (let i = 0; i < draws; i++) {
      const f = rng.float();
      inRange &&= f >= 0 && f < 1;
      buckets[rng.index(10)]++;
    }
    expect(inRange).toBe(true);
    // Chi-square with 9 degrees of freedom: 27.9 is its 0.999 quantile.
    const expected = draws / 10;
    const chi2 = buckets.reduce((s, b) => s + (b - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(27.9);
  });

  test("bits32: each bit is set about half the time", () => {
    const rng = new Rng(9);
    const ones = new Array<number>(32).fill(0);
    const draws = 20_000;
    for (let i = 0; i < draws; i++) {
      const w = rng.bits32();
      for (let b = 0; b < 32; b++) ones[b] += (w >>> b) & 1;
    }
    // 4.5 standard deviations of a Binomial(20000, 1/2) count: about 318.
    for (const c of ones) expect(Math.abs(c - draws / 2)).toBeLessThan(318);
  });
});
