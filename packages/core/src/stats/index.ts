// Public surface of the statistics module: the numbers behind noise-aware verdicts on eval
// experiments. Pure functions, no I/O; every resampling method is seeded, so a report can be
// reproduced: same inputs and seed, same numbers. It imports nothing else of core.
export type { Interval, Seed, ResampleOptions, PairedResult, Verdict } from "./types.js";
export { Rng } from "./prng.js";
export { wilson } from "./wilson.js";
export { bootstrapMeanCi, bootstrapMeanCis } from "./bootstrap.js";
export { passAtK, passHatK } from "./pass-at-k.js";
export { mcnemarExact } from "./mcnemar.js";
export { pairedBootstrap, pairedBootstraps, type PairedValues } from "./paired.js";
export { verdict } from "./verdict.js";
export { fisherExact } from "./fisher.js";
export { newcombeDiffCi } from "./newcombe.js";
export { tCritical, welch, welchCi, welchP, welchStatistic, type WelchResult, type WelchStatistic } from "./welch.js";
export { zFor } from "./wilson.js";
export { METHODS } from "./methods.js";
