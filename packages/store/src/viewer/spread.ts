// An experiment's spread as the viewer shows it: the pass rate with its Wilson interval, each feedback
// key's mean with its bootstrap interval, and with trials pass@k, pass^k and each example's trials.
// Computed by core's `spreadOf` over the experiment's root runs read as the JSON report has its tests,
// seeded with the experiment's name as the report is: the viewer's numbers are the report's.
import { type ReportExample, type ReportExperiment, type ReportTest, spreadOf } from "@tally/core";
import type { FeedbackStats } from "../db/feedback.js";
import type { RootOutcome } from "../db/runs.js";
import type { Session } from "../db/sessions.js";
import type { Store } from "../db/store.js";
import { type Html, fmtCount, fmtPct, fmtScore, html } from "./html.js";

export type Spread = Pick<ReportExperiment, "passRate" | "passRateCi" | "scores" | "trials" | "passAtK" | "passHatK" | "examples">;

type Interval = readonly [number, number];

/**
 * A root run as the report has its test: passed or failed as its `pass` feedback says (Tally records
 * one for every test), else failed when it errored, pending while it runs, passed when it ended well
 * (outcomesOf's rule). Its scores: every numeric feedback key but `pass`, averaged when repeated.
 */
export function testOfRun(run: RootOutcome, fb: FeedbackStats | undefined): ReportTest {
  const pass = fb?.pass;
  const status =
    pass && pass.avg !== null
      ? pass.avg >= 1
        ? "passed"
        : "failed"
      : run.status === "error"
        ? "failed"
        : run.status === "pending"
          ? "pending"
          : "passed";
  const scores: Record<string, number> = {};
  for (const [key, s] of Object.entries(fb ?? {})) if (key !== "pass" && s.avg !== null) scores[key] = s.avg;
  return { name: run.name, file: "", status, exampleId: run.reference_example_id, runId: run.id, scores };
}

/** The spread of a session's root runs (read once by the caller, with their feedback stats). */
export function spreadOfRuns(session: Session, roots: readonly RootOutcome[], stats: ReadonlyMap<string, FeedbackStats>): Spread {
  return spreadOf(
    session.name,
    roots.map((r) => testOfRun(r, stats.get(r.id))),
  );
}

/** The spread of a session: its root runs and their feedback, two queries. */
export function sessionSpread(store: Store, session: Session): Spread {
  const roots = store.runs.rootOutcomes(session.id);
  return spreadOfRuns(session, roots, store.feedback.statsForRuns(roots.map((r) => r.id)));
}

/**
 * An interval as the viewer shows it, `[74.1%, 88.0%]` or `[0.74, 0.88]`, with its exact ends in
 * data attributes (what the tests compare with the JSON report) and what it is in its title.
 */
export function ciSpan(ci: Interval | null | undefined, kind: "pct" | "score", what: string): Html | "" {
  if (!ci) return "";
  const f = kind === "pct" ? fmtPct : fmtScore;
  return html`<span class="ci" data-lo="${String(ci[0])}" data-hi="${String(ci[1])}" title="${what}">[${f(ci[0])}, ${f(ci[1])}]</span>`;
}

export const PASS_CI_TITLE = "95 % Wilson interval of the pass rate over the tests that ran";
export const SCORE_CI_TITLE =
  "95 % bootstrap interval of the mean over examples (trials averaged first), seeded with the experiment's name";

/** pass@k and pass^k at k = trials, as one line: `pass@3 95.0% · pass^3 61.0%`. */
export function atKText(spread: Spread): Html | "" {
  const k = spread.trials ?? 0;
  if (k < 2 || spread.passAtK === undefined || spread.passHatK === undefined) return "";
  return html`<span data-pass-at-k="${String(spread.passAtK)}" title="share of examples with at least one of ${k} trials passed">pass@${k} ${fmtPct(spread.passAtK)}</span> · <span data-pass-hat-k="${String(spread.passHatK)}" title="share of examples with all ${k} trials passed">pass^${k} ${fmtPct(spread.passHatK)}</span>`;
}

/** More examples than this are not listed in the trials table; the rest are counted. */
export const MAX_TRIAL_ROWS = 200;

/** Lowest pass rate first (the flaky and the failing on top), then by name. */
function worstFirst(a: ReportExample, b: ReportExample): number {
  return (a.passRate ?? 2) - (b.passRate ?? 2) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** Per example, its trials' pass rate with its interval (and pass@k, pass^k): only when there are trials. */
export function trialsTable(spread: Spread): Html | "" {
  if ((spread.trials ?? 0) < 2 || !spread.examples?.length) return "";
  const examples = [...spread.examples].filter((e) => e.trials > 0).sort(worstFirst);
  const shown = examples.slice(0, MAX_TRIAL_ROWS);
  const rows = shown.map((e) => {
    const passed = e.passRate === null ? 0 : Math.round(e.passRate * e.trials);
    return html`<tr data-example="${e.exampleId ?? ""}">
      <td class="name">${e.name || "(unnamed)"}${e.exampleId ? html` <span class="muted small mono" title="example id">${e.exampleId.slice(0, 8)}</span>` : ""}</td>
      <td class="num">${fmtCount(e.trials)}</td>
      <td class="num">${fmtCount(passed)}</td>
      <td class="num nowrap" data-pass-rate="${e.passRate === null ? "" : String(e.passRate)}">${fmtPct(e.passRate)} ${ciSpan(e.passRateCi, "pct", PASS_CI_TITLE)}</td>
      <td class="num">${e.passAtK === undefined ? "" : fmtPct(e.passAtK)}</td>
      <td class="num">${e.passHatK === undefined ? "" : fmtPct(e.passHatK)}</td>
    </tr>`;
  });
  const more = examples.length - shown.length;
  return html`<div class="toolbar"><h2>Trials by example</h2><span class="muted small">lowest pass rate first</span></div>
    <div class="tablewrap"><table class="grid trials">
      <thead><tr><th>Example</th><th class="num">Trials</th><th class="num">Passed</th><th class="num">Pass rate</th><th class="num" title="at least one trial passed">pass@k</th><th class="num" title="every trial passed">pass^k</th></tr></thead>
      <tbody>${rows}</tbody>
    </table></div>
    ${more > 0 ? html`<p class="muted small">${fmtCount(more)} more examples not listed.</p>` : ""}`;
}
