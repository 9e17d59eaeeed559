// The seeded pseudorandom generator every resampling method draws from, so that a report is
// reproducible: same inputs and seed, same numbers, on any machine (32-bit integer arithmetic only).
//
// xoshiro128+ (Blackman & Vigna): four 32-bit words of state, period 2^128 − 1, no multiplication,
// so the bootstrap loop that inlines it (resample.ts) stays fast. Its lowest bits are its weakest
// (low linear complexity): floats and indices scale the whole word, so they rest on the high bits;
// where every bit is used on its own (the sign flips), `bits32` runs the word through a mixing
// bijection first. The state is seeded by splitmix32, the usual way to spread a small seed over a
// larger state.

import type { Seed } from "./types.js";

/** The streams of one seed the methods draw from, so that a comparison's interval and its p-value use independent numbers. */
export const STREAMS = { bootstrap: 1, signFlip: 2 } as const;

/** 2^-32: turns a uint32 into a float in [0, 1). */
export const UINT32_TO_UNIT = 2 ** -32;

/** The splitmix32 / murmur3 finalizer: a 32-bit bijection that mixes every input bit into every output bit. */
export function mix32(x: number): number {
  let t = x | 0;
  t = Math.imul(t ^ (t >>> 16), 0x21f0aaad);
  t = Math.imul(t ^ (t >>> 15), 0x735a2d97);
  return (t ^ (t >>> 15)) >>> 0;
}

/** FNV-1a over the UTF-8 bytes of `s`, from the given offset basis. */
function fnv1a(bytes: Uint8Array, basis: number): number {
  let h = basis;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

/** The two 32-bit words a seed stands for. Throws on a number that is not a safe integer. */
function seedWords(seed: Seed): [lo: number, hi: number] {
  if (typeof seed === "string") {
    const bytes = new TextEncoder().encode(seed);
    return [fnv1a(bytes, 0x811c9dc5), fnv1a(bytes, 0x050c5d1f)];
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer or a string, got ${seed}`);
  return [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
}

/**
 * A seeded xoshiro128+ generator. `stream` picks an independent sequence for the same seed (a
 * bootstrap and a permutation test of one comparison draw from different streams).
 * The state words are public so a hot loop can copy them into locals, step them inline exactly as
 * `uint32` does, and write them back.
 */
export class Rng {
  s0: number;
  s1: number;
  s2: number;
  s3: number;

  constructor(seed: Seed, stream = 0) {
    const [lo, hi] = seedWords(seed);
    // A splitmix32 sequence started from the seed, its high word and the stream, all mixed in.
    let st = mix32(lo ^ mix32(hi ^ mix32(stream ^ 0x5bd1e995)));
    const next = (): number => mix32((st = (st + 0x9e3779b9) | 0));
    this.s0 = next() | 0;
    this.s1 = next() | 0;
    this.s2 = next() | 0;
    this.s3 = next() | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the one state xoshiro cannot leave
  }

  /** The next 32 random bits, as an unsigned integer. */
  uint32(): number {
    const result = (this.s0 + this.s3) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** 32 random bits, each as good as the others (the output mixed, for use bit by bit). */
  bits32(): number {
    return mix32(this.uint32());
  }

  /** A float in [0, 1) with 32 random bits. */
  float(): number {
    return this.uint32() * UINT32_TO_UNIT;
  }

  /** An integer in [0, n), for 1 ≤ n ≤ 2^31 (bias below n / 2^32: none you could measure). */
  index(n: number): number {
    return Math.floor(this.uint32() * n * UINT32_TO_UNIT);
  }
}
