import type { ReportComparison, ReportMeasure, ReportTestMeasure, ReportTestVerdict, TallyReportV1 } from "../json-report.js";
import { colors, fmt, signed } from "../render.js";

// On the terminal (terminal.ts, and `tally report merge`), after the delivery lines: each experiment
// against its baseline (named), the change of its pass rate and mean scores, and its regressions (the
// first ten, then a count). Numbers are written as the tables write them (render.ts). Under the
// comparison line, one line per measure of the noise-aware comparison (report v2): both means over the
// examples both sides ran, Δ with its interval, p and the verdict, with the method that gave p.

const MAX_LISTED = 10;

export function comparisonLines(report: TallyReportV1, color: boolean): string[] {
  const c = colors(color);
  const lines: string[] = [];
  for (const exp of report.experiments) {
    if (!exp.baseline) {
      if (exp.baselineNote) lines.push(c.yellow(`tally: "${exp.name}" not compared: ${exp.baselineNote}`));
      continue;
    }
    const parts: string[] = [];
    const before = exp.baseline;
    if (before.passRate !== undefined && before.passRate !== null && exp.passRate !== null) {
      parts.push(`pass rate ${fmt(before.passRate)} → ${fmt(exp.passRate)} (Δ ${signed(exp.passRate - before.passRate)})`);
    }
    for (const [key, s] of Object.entries(exp.scores)) {
      const b = before.scores?.[key];
      if (b !== undefined) parts.push(`${key} ${fmt(b)} → ${fmt(s.mean)} (Δ ${signed(s.mean - b)})`);
    }
    lines.push(c.dim(`tally: "${exp.name}" vs baseline "${exp.baseline.name}"${parts.length ? `: ${parts.join(" · ")}` : ""}`));
    if (exp.comparison) lines.push(...verdictLines(exp.comparison, c), ...unmatchedLines(exp.comparison.unmatched, exp.tests, c));
    if (exp.regressions.length > 0) {
      const listed = exp.regressions
        .slice(0, MAX_LISTED)
        .map((r) => `${r.test} ${r.key} ${fmt(r.before)} → ${fmt(r.after)}`)
        .join(", ");
      const more = exp.regressions.length > MAX_LISTED ? `, … and ${exp.regressions.length - MAX_LISTED} more` : "";
      lines.push(c.red(`tally:   regressions (${exp.regressions.length}): ${listed}${more}`));
    }
    if (exp.improvements.length > 0) lines.push(c.green(`tally:   improvements (${exp.improvements.length})`));
  }
  return lines;
}

/** A change or an interval's end, rounded as shown, its minus a real one: `−0.12`, `0.05`. */
function end(v: number): string {
  const r = Math.round(v * 100) / 100;
  return r < 0 ? `−${fmt(-r)}` : fmt(Math.abs(r));
}

/** A p-value: three decimals, `< 0.001` below; 1 as 1. */
export function fmtP(p: number): string {
  if (p < 0.001) return "< 0.001";
  return p >= 1 ? "1" : p.toFixed(3);
}

/** The method as the line names it: `exact McNemar`, `paired bootstrap`, `paired permutation test`. */
export function shortMethod(method: string): string {
  return method.split(/ \(|,/)[0]!.trim();
}

/** `quality 0.93 → 0.81  Δ −0.12 [−0.18, −0.06]  p 0.001  regressed (paired bootstrap)` */
export function measureLine(name: string, m: ReportMeasure): string {
  return `${name} ${fmt(m.baseline)} → ${fmt(m.current)}  Δ ${end(m.delta)} [${end(m.ci[0])}, ${end(m.ci[1])}]  p ${fmtP(m.p)}  ${m.verdict} (${shortMethod(m.method)})`;
}

function verdictLines(comparison: ReportComparison, c: ReturnType<typeof colors>): string[] {
  const paint = (m: ReportMeasure) => (m.verdict === "regressed" ? c.red : m.verdict === "improved" ? c.green : c.dim);
  const measures: Array<[string, ReportMeasure]> = comparison.passRate ? [["pass rate", comparison.passRate]] : [];
  for (const key of Object.keys(comparison.scores).sort()) measures.push([key, comparison.scores[key]!]);
  const lines = measures.map(([name, m]) => paint(m)(`tally:   ${measureLine(name, m)}`));
  lines.push(...testVerdictLines(comparison.tests ?? [], comparison.testsCompared ?? 0, c));
  return lines;
}

/** Examples named per side when listed on the terminal; the JSON report lists more. */
const UNMATCHED_SHOWN = 5;

/**
 * The examples only one side ran, counted and named (never dropped in silence): this run's by its
 * test's name, the baseline's by example id (its tests' names are not in the report).
 */
export function unmatchedLines(
  unmatched: ReportComparison["unmatched"],
  tests: ReadonlyArray<{ name: string; exampleId: string | null }>,
  c: ReturnType<typeof colors>,
): string[] {
  const { baselineOnlyCount: before, currentOnlyCount: now } = unmatched;
  if (before === 0 && now === 0) return [];
  const nameOf = new Map(tests.map((t) => [t.exampleId, t.name]));
  const listed = (ids: string[], count: number, named: (id: string) => string) => {
    const shown = ids.slice(0, UNMATCHED_SHOWN).map(named).join(", ");
    return count > UNMATCHED_SHOWN ? `${shown}, … and ${count - UNMATCHED_SHOWN} more (the JSON report lists ${ids.length})` : shown;
  };
  const lines = [c.dim(`tally:   not compared (examples one side ran): ${before} only in the baseline, ${now} only in this run`)];
  if (now > 0) lines.push(c.dim(`tally:     only in this run: ${listed(unmatched.currentOnly, now, (id) => `"${nameOf.get(id) ?? id}"`)}`));
  if (before > 0) lines.push(c.dim(`tally:     only in the baseline: ${listed(unmatched.baselineOnly, before, (id) => `example ${id}`)}`));
  return lines;
}

/** A test's changed measure: `pass rate 1 → 0.2  Δ −0.8 [−0.95, −0.38]  p 0.008 (adjusted 0.03)`. */
function testMeasureLine(name: string, m: ReportTestMeasure): string {
  return `${name} ${fmt(m.baseline)} → ${fmt(m.current)}  Δ ${end(m.delta)} [${end(m.ci[0])}, ${end(m.ci[1])}]  p ${fmtP(m.p)} (adjusted ${fmtP(m.pAdjusted)})`;
}

/**
 * The tests with trials whose own verdict is not "unchanged" (the first ten of each word), or one line
 * saying none changed beyond noise; nothing when no test had trials to compare.
 */
function testVerdictLines(changed: readonly ReportTestVerdict[], compared: number, c: ReturnType<typeof colors>): string[] {
  if (compared === 0) return [];
  const lines: string[] = [];
  for (const word of ["regressed", "improved"] as const) {
    const hit = changed.filter((t) => t.verdict === word);
    if (hit.length === 0) continue;
    const paint = word === "regressed" ? c.red : c.green;
    lines.push(paint(`tally:   tests ${word} beyond noise over their trials (${hit.length} of ${compared}):`));
    for (const t of hit.slice(0, MAX_LISTED)) {
      const measures: Array<[string, ReportTestMeasure]> = t.passRate ? [["pass rate", t.passRate]] : [];
      for (const [k, m] of Object.entries(t.scores)) measures.push([k, m]);
      lines.push(
        paint(
          `tally:     ${t.name} (${t.trials} trials, baseline ${t.baselineTrials}): ${measures.map(([n, m]) => testMeasureLine(n, m)).join(" · ")}`,
        ),
      );
    }
    if (hit.length > MAX_LISTED) lines.push(paint(`tally:     … and ${hit.length - MAX_LISTED} more`));
  }
  if (lines.length === 0) {
    lines.push(
      c.dim(
        `tally:   ${compared} tests with trials against their baseline trials: none changed beyond noise (p adjusted for ${compared} tests)`,
      ),
    );
  }
  return lines;
}
