// Public surface of the statistics module: the numbers behind noise-aware verdicts on eval
// experiments. Pure functions, no I/O; every resampling method is seeded, so a report can be
// reproduced: same inputs and seed, same numbers. It imports nothing else of core.
export type { Interval, Seed, ResampleOptions, PairedResult, Verdict } from "./types.js";
export { Rng } from "./prng.js";
export { wilson } from "./wilson.js";
export { bootstrapMeanCi } from "./bootstrap.js";
export { passAtK, passHatK } from "./pass-at-k.js";
export { mcnemarExact } from "./mcnemar.js";
export { pairedBootstrap } from "./paired.js";
export { verdict } from "./verdict.js";
export { METHODS } from "./methods.js";
