import type { ExperimentRecords } from "../backend/port.js";
import type { FeedbackRecord, RunRecord } from "../wire/types.js";
import type { ModelUsage } from "../protocol/tracked-test.js";
import { usageOf } from "../protocol/usage.js";

// One experiment's tests as a comparison sees them, read back from what the backend holds: which
// example each test ran, whether it passed, and its scores. The same shape is built for this run's
// side from what the runner saw, so both sides of a comparison are alike.

export interface TestOutcome {
  /** The dataset example the test ran: what a baseline is matched by. */
  exampleId: string;
  runId: string;
  /** The test's name (its root run's name). */
  name: string;
  passed: boolean;
  /** Every feedback key but `pass`, with a number or boolean score (true = 1), averaged when repeated. */
  scores: Record<string, number>;
  /** The tokens of its LLM spans per model, as its worker put them on the run (`tally_usage`). */
  usage?: ModelUsage;
}

/** A feedback score as a number: booleans as 1 and 0; anything else (null, NaN, a string) is no score. */
export function scoreValue(score: unknown): number | undefined {
  if (typeof score === "boolean") return score ? 1 : 0;
  return typeof score === "number" && Number.isFinite(score) ? score : undefined;
}

/** A run's `error` as LangSmith keeps it: null, absent or "" when the run succeeded. */
function failed(run: RunRecord): boolean {
  const e = run.error;
  return e !== undefined && e !== null && e !== "" && e !== false;
}

/**
 * One outcome per test of an experiment: every root run (no parent) that references an example. A run
 * passed as its `pass` feedback says (Tally's worker records it for every test; a number counts as
 * passed when it is positive, and every `pass` of the run must say so), else when it ended without an
 * error. With repetitions an example has several outcomes, one per run: the comparison aggregates them.
 * Ordered by name, example and run, whatever order the backend answered in.
 */
export function outcomesOf(records: ExperimentRecords): TestOutcome[] {
  const feedbackOf = new Map<string, FeedbackRecord[]>();
  for (const f of records.feedback) {
    if (!f.run_id) continue;
    const list = feedbackOf.get(f.run_id);
    if (list) list.push(f);
    else feedbackOf.set(f.run_id, [f]);
  }
  const seen = new Set<string>();
  const out: TestOutcome[] = [];
  for (const run of records.runs) {
    if (run.parent_run_id || !run.reference_example_id || seen.has(run.id)) continue;
    seen.add(run.id);
    const sums = new Map<string, { sum: number; n: number }>();
    const passes: number[] = [];
    for (const f of feedbackOf.get(run.id) ?? []) {
      const v = scoreValue(f.score);
      if (v === undefined) continue;
      if (f.key === "pass") {
        passes.push(v);
        continue;
      }
      const s = sums.get(f.key) ?? { sum: 0, n: 0 };
      s.sum += v;
      s.n++;
      sums.set(f.key, s);
    }
    const scores: Record<string, number> = {};
    for (const key of [...sums.keys()].sort()) scores[key] = sums.get(key)!.sum / sums.get(key)!.n;
    const usage = usageOf((run.extra?.metadata as Record<string, unknown> | undefined)?.tally_usage);
    out.push({
      exampleId: run.reference_example_id,
      runId: run.id,
      name: run.name ?? "",
      passed: passes.length > 0 ? passes.every((v) => v > 0) : !failed(run),
      scores,
      ...(usage ? { usage } : {}),
    });
  }
  return out.sort((a, b) => byText(a.name, b.name) || byText(a.exampleId, b.exampleId) || byText(a.runId, b.runId));
}

/** Code-unit order, the same on every machine (no locale). */
/** Outcomes grouped by their example: with trials (or repetitions) an example has several. */
export function groupByExample(outcomes: readonly TestOutcome[]): Map<string, TestOutcome[]> {
  const groups = new Map<string, TestOutcome[]>();
  for (const o of outcomes) {
    const g = groups.get(o.exampleId);
    if (g) g.push(o);
    else groups.set(o.exampleId, [o]);
  }
  return groups;
}

export function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
