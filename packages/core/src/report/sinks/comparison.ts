import type { ReportComparison, ReportMeasure, TallyReportV1 } from "../json-report.js";
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
    if (!exp.baseline) continue;
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
    if (exp.comparison) lines.push(...verdictLines(exp.comparison, c));
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
  const { baselineOnlyCount: before, currentOnlyCount: now } = comparison.unmatched;
  if (before > 0 || now > 0) {
    lines.push(c.dim(`tally:   not compared (examples one side ran): ${before} only in the baseline, ${now} only in this run`));
  }
  return lines;
}
