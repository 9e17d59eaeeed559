import type { GateOptions } from "../../compare/gates.js";
import { judgeReport, neverRunOf, spreadOf, withTestVerdicts } from "./build-report.js";
import { cacheTotals } from "../cache-counts.js";
import { mergeUsageFields } from "../usage.js";
import type { ReportChange, ReportExperiment, ReportTest, TallyReportV1, TallyReportV2 } from "../json-report.js";

// Pure: the reports of one run's shards (one CI job each, one shared experiment per dataset) as the
// report of the whole run. Tests and changes are united; pass rate, scores, their intervals, the
// per-example trials and delivery are counted again over the union, and the gates are judged on it:
// the job after a CI matrix. Shards of version 1 or 2 merge into a version 2 report.

export interface ShardReport {
  /** For messages: where the report was read from. */
  file: string;
  report: TallyReportV1;
}

export function mergeReports(shards: readonly ShardReport[], gates: GateOptions): TallyReportV2 {
  if (shards.length === 0) throw new Error("tally report merge: no reports given");
  const keys = new Map<string, string[]>();
  for (const s of shards) keys.set(s.report.run.key, [...(keys.get(s.report.run.key) ?? []), s.file]);
  if (keys.size > 1) {
    const which = [...keys].map(([k, files]) => `${k} (${files.join(", ")})`).join("; ");
    throw new Error(`tally report merge: the reports are of different runs: ${which}. Merge the shards of one run (one TALLY_RUN_ID).`);
  }
  // Shards never share a test: one that two files report is the same shard given twice, or a merged
  // report among its own shards, and its delivery would be counted twice.
  const seen = new Map<string, string>();
  for (const s of shards) {
    for (const e of s.report.experiments) {
      for (const t of e.tests) {
        const key = `${e.name}\u0000${testKey(t)}`;
        const other = seen.get(key);
        if (other !== undefined && other !== s.file) {
          throw new Error(
            `tally report merge: ${other} and ${s.file} both report "${t.name}" of ${e.name}: the same shard twice, or a merged report among its shards?`,
          );
        }
        seen.set(key, s.file);
      }
    }
  }
  const runs = shards.map((s) => s.report.run);
  const byName = new Map<string, ReportExperiment[]>();
  for (const s of shards) for (const e of s.report.experiments) byName.set(e.name, [...(byName.get(e.name) ?? []), e]);
  const experiments = [...byName.values()].map(mergeExperiment);
  return {
    version: 2,
    run: {
      key: runs[0]!.key,
      startedAt: runs.map((r) => r.startedAt).sort()[0]!,
      endedAt: runs
        .map((r) => r.endedAt)
        .sort()
        .at(-1)!,
      git: runs.find((r) => r.git)?.git ?? null,
    },
    experiments,
    gates: judgeReport(gates, experiments),
  };
}

function unique<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const t of items) if (!seen.has(key(t))) seen.set(key(t), t);
  return [...seen.values()];
}

const changeKey = (c: ReportChange) => `${c.file}\u0000${c.test}\u0000${c.key}`;
const testKey = (t: ReportTest) => t.runId ?? `${t.file}\u0000${t.name}`;

export const MERGED_COMPARISON_NOTE =
  "not recomputed for a merge of several shards: the paired statistics need the baseline's per-example outcomes, which the reports do not hold";

function mergedComparison(parts: ReportExperiment[], hasBaseline: boolean): Pick<ReportExperiment, "comparison" | "comparisonNote"> {
  if (parts.length === 1) return { comparison: parts[0]!.comparison ?? null };
  return hasBaseline ? { comparison: null, comparisonNote: MERGED_COMPARISON_NOTE } : { comparison: null };
}

function mergeExperiment(parts: ReportExperiment[]): ReportExperiment {
  const first = parts[0]!;
  const tests = unique(
    parts.flatMap((p) => p.tests),
    testKey,
  );
  const base = parts.find((p) => p.baseline)?.baseline ?? null;
  const sum = (f: (p: ReportExperiment) => number) => parts.reduce((n, p) => n + f(p), 0);
  const cache = cacheTotals(tests);
  const verdictOf = new Map((first.examples ?? []).flatMap((e) => (e.exampleId && e.verdict ? [[e.exampleId, e.verdict] as const] : [])));
  // Kept and counted again over the union (a report before they were listed has none: 0).
  const neverRun = unique(
    parts.flatMap((p) => p.neverRun?.tests ?? []),
    (t) => `${t.file}\u0000${t.test}`,
  );
  return {
    name: first.name,
    id: parts.find((p) => p.id)?.id ?? null,
    url: parts.find((p) => p.url)?.url ?? null,
    dataset: first.dataset,
    delivered: {
      runs: sum((p) => p.delivered.runs),
      expected: sum((p) => p.delivered.expected),
      spans: sum((p) => p.delivered.spans),
      feedback: sum((p) => p.delivered.feedback),
      ...(parts.some((p) => p.delivered.missing?.length) ? { missing: parts.flatMap((p) => p.delivered.missing ?? []) } : {}),
    },
    // Recounted over the union, regrouped by example: a shard's intervals cover only its tests (and
    // one example's trials may have run in several shards).
    // A test's own verdict is kept where its shard's comparison is (one shard), as that comparison is.
    ...withTestVerdicts(spreadOf(first.name, tests, neverRun.length), (id) => (parts.length === 1 ? verdictOf.get(id) : undefined)),
    // Each shard's baseline means cover only the examples it ran: the merged report names the
    // baseline and leaves the means out rather than show one shard's as the run's.
    // Its tokens and cost are the whole baseline's, not one shard's share: kept.
    baseline: base ? { name: base.name, id: base.id, url: base.url, ...baseUsage(base) } : null,
    // The paired statistics need the baseline's outcomes per example, which a report does not hold:
    // one shard's comparison is kept as it is, several shards' are not recomputed.
    ...mergedComparison(parts, base !== null),
    // Every shard asked for the same approved baseline: why none was had is the same in each.
    ...(!base && parts.some((p) => p.baselineNote) ? { baselineNote: parts.find((p) => p.baselineNote)!.baselineNote } : {}),
    regressions: unique(
      parts.flatMap((p) => p.regressions),
      changeKey,
    ),
    improvements: unique(
      parts.flatMap((p) => p.improvements),
      changeKey,
    ),
    tests,
    ...neverRunOf(neverRun),
    ...(cache ? { cache } : {}),
    // Shards never share a test: their tokens and costs add up.
    ...mergeUsageFields(parts),
  };
}

function baseUsage(base: NonNullable<ReportExperiment["baseline"]>): Pick<NonNullable<ReportExperiment["baseline"]>, "tokens" | "costUsd"> {
  return base.tokens ? { tokens: base.tokens, costUsd: base.costUsd ?? null } : {};
}
