import type { ReportComparison, ReportMeasure, ReportTestMeasure, ReportTestVerdict, TallyReportV1 } from "../json-report.js";
import { ranOf } from "./build-report.js";
import { usageSentence } from "../usage.js";

// The GitHub job summary of a run, from its JSON report: pure, one section per experiment. A version 2
// report's intervals stand beside each mean, and its trials' pass@k and pass^k under the table.

type Experiment = TallyReportV1["experiments"][number];

const MAX_ROWS = 50;

/** `|` and newlines would break a table row; `<` would open HTML. */
function cell(value: string): string {
  return value
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/</g, "&lt;")
    .replace(/\r\n|\r|\n/g, " ");
}

const num = (v: number | null | undefined) => (v === null || v === undefined ? "—" : Number.isInteger(v) ? String(v) : v.toFixed(3));

function signed(v: number): string {
  const s = num(Math.abs(v));
  return v > 0 ? `+${s}` : v < 0 ? `−${s}` : "±0";
}

/** A mean with its 95 % interval where the report has one (version 2): `0.700 [0.400, 0.900]`. */
function withCi(v: number | null | undefined, ci: readonly [number, number] | null | undefined): string {
  return ci && v !== null && v !== undefined ? `${num(v)} [${num(ci[0])}, ${num(ci[1])}]` : num(v);
}

function link(name: string, url: string | null | undefined): string {
  return url ? `[${cell(name)}](${url})` : `\`${cell(name)}\``;
}

function section(exp: Experiment): string[] {
  const lines: string[] = [];
  const base = exp.baseline;
  lines.push(`### ${link(exp.name, exp.url)}`, "");
  const d = exp.delivered;
  lines.push(
    `Dataset \`${cell(exp.dataset)}\` · delivered **${d.runs}/${d.expected}** runs · ${d.spans} spans · ${d.feedback} feedback` +
      (base ? ` · compared with ${link(base.name, base.url)}` : " · no baseline"),
    "",
  );
  if (!base && exp.baselineNote) lines.push(`⚠️ Not compared: ${cell(exp.baselineNote)}`, "");
  const usage = usageSentence(exp);
  if (usage) lines.push(`Model calls: ${cell(usage)}`, "");
  const keys = Object.keys(exp.scores).sort();
  // The pass rate's n: the tests that ran, and those that never did (counted as failed).
  const ran = ranOf(exp.tests).length + (exp.neverRun?.count ?? 0);
  if (base) {
    // With a baseline: its mean and the change beside each of this run's.
    const vs = (now: number | null, then: number | null | undefined) =>
      then === null || then === undefined ? "— | —" : `${num(then)} | ${now === null ? "—" : signed(now - then)}`;
    lines.push("| measure | mean | baseline | Δ | n |", "| --- | --- | --- | --- | --- |");
    lines.push(`| pass rate | ${withCi(exp.passRate, exp.passRateCi)} | ${vs(exp.passRate, base.passRate)} | ${ran} |`);
    for (const k of keys) {
      const s = exp.scores[k]!;
      lines.push(`| ${cell(k)} | ${withCi(s.mean, s.ci)} | ${vs(s.mean, base.scores?.[k])} | ${s.count} |`);
    }
  } else {
    lines.push("| measure | mean | n |", "| --- | --- | --- |");
    lines.push(`| pass rate | ${withCi(exp.passRate, exp.passRateCi)} | ${ran} |`);
    for (const k of keys) lines.push(`| ${cell(k)} | ${withCi(exp.scores[k]!.mean, exp.scores[k]!.ci)} | ${exp.scores[k]!.count} |`);
  }
  lines.push("");
  const hasCi = exp.passRateCi !== undefined || keys.some((k) => exp.scores[k]!.ci !== undefined);
  const k = exp.trials ?? 0;
  const trials =
    k >= 2 && exp.passAtK !== undefined && exp.passHatK !== undefined
      ? ` Trials per example: ${k} · pass@${k} ${num(exp.passAtK)} · pass^${k} ${num(exp.passHatK)}.`
      : "";
  const note = hasCi ? "[low, high]: 95 % intervals (Wilson for the pass rate, a bootstrap over examples for scores)." : "";
  if (hasCi || trials) lines.push(`${note}${trials}`.trim(), "");
  if (exp.comparison)
    lines.push(
      ...verdictTable(exp.comparison),
      ...testVerdictTable(exp.comparison.tests ?? [], exp.comparison.testsCompared ?? 0),
      ...unmatchedList(exp),
    );
  else if (base && exp.comparisonNote) lines.push(`No paired comparison: ${cell(exp.comparisonNote)}.`, "");
  if (base) {
    if (exp.regressions.length === 0) lines.push("No regressions.", "");
    else {
      lines.push(
        `**Regressions (${exp.regressions.length})**`,
        "",
        "| test | file | key | before | after | Δ |",
        "| --- | --- | --- | --- | --- | --- |",
      );
      for (const r of exp.regressions.slice(0, MAX_ROWS)) {
        lines.push(
          `| ${cell(r.test)} | ${cell(r.file)} | ${cell(r.key)} | ${num(r.before)} | ${num(r.after)} | ${signed(r.after - r.before)} |`,
        );
      }
      if (exp.regressions.length > MAX_ROWS) lines.push("", `… and ${exp.regressions.length - MAX_ROWS} more (see the JSON report).`);
      lines.push("");
    }
    if (exp.improvements.length > 0) lines.push(`Improvements: ${exp.improvements.length}.`, "");
  }
  const failed = exp.tests.filter((t) => t.status === "failed");
  if (failed.length > 0) {
    lines.push(`**Failed (${failed.length})**`, "");
    for (const t of failed.slice(0, MAX_ROWS)) lines.push(`- ${cell(t.file)} › ${cell(t.name)}`);
    lines.push("");
  }
  const never = exp.neverRun?.tests ?? [];
  if (never.length > 0) {
    lines.push(`**Never ran (${exp.neverRun!.count})**: counted as failed in the pass rate.`, "");
    for (const t of never.slice(0, MAX_ROWS)) lines.push(`- ${cell(t.file)} › ${cell(t.test)}: ${cell(t.reason)}`);
    if (never.length > MAX_ROWS) lines.push(`- … and ${never.length - MAX_ROWS} more (see the JSON report).`);
    lines.push("");
  }
  return lines;
}

const pValue = (p: number) => (p < 0.001 ? "< 0.001" : p >= 1 ? "1" : p.toFixed(3));
const method = (m: string) => m.split(/ \(|,/)[0]!.trim();
const VERDICT: Record<ReportMeasure["verdict"], string> = { regressed: "🔴 regressed", improved: "🟢 improved", unchanged: "unchanged" };

/** The noise-aware comparison: one row per measure over the examples both sides ran. */
function verdictTable(c: ReportComparison): string[] {
  const measures: Array<[string, ReportMeasure]> = c.passRate ? [["pass rate", c.passRate]] : [];
  for (const key of Object.keys(c.scores).sort()) measures.push([key, c.scores[key]!]);
  if (measures.length === 0) return [];
  const lines = [
    "| measure | baseline | current | Δ | 95 % interval | p | verdict | method | n |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const [name, m] of measures) {
    lines.push(
      `| ${cell(name)} | ${num(m.baseline)} | ${num(m.current)} | ${signed(m.delta)} | [${signedEnd(m.ci[0])}, ${signedEnd(m.ci[1])}] | ${pValue(m.p)} | ${VERDICT[m.verdict]} | ${cell(method(m.method))} | ${m.n} |`,
    );
  }
  const { baselineOnlyCount: before, currentOnlyCount: now } = c.unmatched;
  const unmatched = before > 0 || now > 0 ? ` Examples not compared (run by one side only): baseline ${before}, this run ${now}.` : "";
  lines.push(
    "",
    `Paired over the examples both experiments ran; a verdict needs p < ${c.alpha} and an interval that excludes 0.${unmatched}`,
    "",
  );
  return lines;
}

/** Tests with trials whose own verdict is not "unchanged": one row per changed measure. */
function testVerdictTable(changed: readonly ReportTestVerdict[], compared: number): string[] {
  if (compared === 0) return [];
  const note = `Each test with trials against its baseline trials (Fisher's exact test for pass/fail, Welch's t-test for scores), p adjusted for the ${compared} tests compared (Benjamini–Hochberg).`;
  if (changed.length === 0) return [`${note} None changed beyond noise.`, ""];
  const lines = [
    `**Tests changed beyond noise (${changed.length} of ${compared})**`,
    "",
    "| test | measure | baseline | current | Δ | 95 % interval | p (adjusted) | verdict | trials |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const t of changed.slice(0, MAX_ROWS)) {
    const measures: Array<[string, ReportTestMeasure]> = t.passRate ? [["pass rate", t.passRate]] : [];
    for (const [k, m] of Object.entries(t.scores)) measures.push([k, m]);
    for (const [name, m] of measures) {
      lines.push(
        `| ${cell(t.name)} | ${cell(name)} | ${num(m.baseline)} | ${num(m.current)} | ${signed(m.delta)} | [${signedEnd(m.ci[0])}, ${signedEnd(m.ci[1])}] | ${pValue(m.p)} (${pValue(m.pAdjusted)}) | ${VERDICT[m.verdict]} | ${t.trials} vs ${t.baselineTrials} |`,
      );
    }
  }
  if (changed.length > MAX_ROWS) lines.push("", `… and ${changed.length - MAX_ROWS} more (see the JSON report).`);
  lines.push("", note, "");
  return lines;
}

/** Examples named per side in the job summary; the JSON report lists more. */
const UNMATCHED_SHOWN = 10;

/** The examples only one side ran, named (never dropped in silence): this run's by test name, the baseline's by example id. */
function unmatchedList(exp: Experiment): string[] {
  const u = exp.comparison?.unmatched;
  if (!u || (u.baselineOnlyCount === 0 && u.currentOnlyCount === 0)) return [];
  const nameOf = new Map(exp.tests.map((t) => [t.exampleId, t.name]));
  const named = (ids: string[], count: number, show: (id: string) => string) =>
    ids.slice(0, UNMATCHED_SHOWN).map(show).join(", ") + (count > UNMATCHED_SHOWN ? `, … and ${count - UNMATCHED_SHOWN} more` : "");
  const lines = ["**Not compared (run by one side only)**", ""];
  if (u.currentOnlyCount > 0)
    lines.push(
      `- only in this run (${u.currentOnlyCount}): ${named(u.currentOnly, u.currentOnlyCount, (id) => cell(nameOf.get(id) ?? id))}`,
    );
  if (u.baselineOnlyCount > 0)
    lines.push(`- only in the baseline (${u.baselineOnlyCount}): ${named(u.baselineOnly, u.baselineOnlyCount, (id) => `\`${cell(id)}\``)}`);
  lines.push("");
  return lines;
}

const signedEnd = (v: number) => (v < 0 ? `−${num(-v)}` : num(v));

export function jobSummaryMarkdown(report: TallyReportV1): string {
  const lines = ["## Tally", ""];
  for (const exp of report.experiments) lines.push(...section(exp));
  if (report.gates.length > 0) {
    lines.push("### Gates", "");
    for (const g of report.gates) lines.push(`- ${g.ok ? "✅" : "❌"} ${cell(g.message)}`);
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}

/** GitHub's workflow commands escape `%`, CR and LF in messages (and `:`/`,` in properties). */
function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/** One `::notice` per experiment, `::error` per failing gate, `::warning` per regressed test. */
export function workflowCommands(report: TallyReportV1): string[] {
  const out: string[] = [];
  for (const exp of report.experiments) {
    out.push(`::notice title=Tally experiment::${escapeData(`${exp.name} ${exp.url ?? ""}`.trim())}`);
  }
  for (const g of report.gates) if (!g.ok) out.push(`::error title=Tally gate::${escapeData(g.message)}`);
  for (const exp of report.experiments) {
    for (const r of exp.regressions) {
      const where = r.file ? `file=${escapeProperty(r.file)},${r.line ? `line=${r.line},` : ""}` : "";
      out.push(
        `::warning ${where}title=${escapeProperty("Tally regression")}::${escapeData(`${r.test}: ${r.key} ${num(r.before)} → ${num(r.after)} (${exp.name})`)}`,
      );
    }
  }
  return out;
}
