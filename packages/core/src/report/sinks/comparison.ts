import type { TallyReportV1 } from "../json-report.js";
import { colors, fmt, signed } from "../render.js";

// On the terminal (terminal.ts, and `tally report merge`), after the delivery lines: each experiment
// against its baseline (named), the change of its pass rate and mean scores, and its regressions (the
// first ten, then a count). Numbers are written as the tables write them (render.ts).

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
