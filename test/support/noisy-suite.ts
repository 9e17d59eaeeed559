// A seeded noisy eval file for the verdicts' end-to-end tests (Vitest and Jest alike): `cases` tests
// in `ls.describe("noisy")`, case i passing when its draw in [0, 1) is below RATE, and scoring
// quality 0.9 when it passes, 0.3 when not. The draw is fixed by SEED, the case and its trial: the same
// run twice gives the same outcomes, another SEED other noise at the same true pass rate. With trials
// (TALLY_TRIALS) each trial of a case draws again; the first trial draws as a run without trials does.
// The source is plain JavaScript, so it is also the body of a Jest suite's `.test.ts` (babel strips
// no types from it).

export function noisyFile(cases: number): string {
  return `// A draw in [0, 1) per (seed, case, trial): the same run twice gives the same outcomes.
function draw(key) {
  let h = 2166136261;
  for (const ch of key) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  h ^= h >>> 15;
  h = Math.imul(h, 2246822507);
  h ^= h >>> 13;
  return (h >>> 0) / 4294967296;
}
// The trials of a case run in turn in one file: each counts itself.
const trialOf = {};
ls.describe("noisy", () => {
  for (let i = 0; i < ${cases}; i++) {
    ls.test("case " + i, { inputs: { i } }, () => {
      const trial = (trialOf[i] = (trialOf[i] ?? 0) + 1);
      const key = process.env.SEED + ":" + i + (trial > 1 ? ":" + trial : "");
      const pass = draw(key) < Number(process.env.RATE);
      ls.logFeedback({ key: "quality", score: pass ? 0.9 : 0.3 });
      ls.expect(pass).toBe(true);
    });
  }
});`;
}
