import { meansByKey } from "../compare/means.js";
import { scoreValue } from "../compare/outcomes.js";
import { CANCELLED_REASON, type ExperimentSummary, NO_RESULT_REASON, type RunSummary, UNREPORTED_REASON } from "./reconcile.js";
import { cacheCell, cacheSentence, cacheTotals } from "./cache-counts.js";
import { testScores } from "./ci/build-report.js";
import type { ReportCi, ReportExperiment } from "./json-report.js";
import { experimentSpread } from "./spread.js";

// Pure rendering of the end-of-run report: one table per experiment, then the delivery lines.
// Returns lines; the runner-specific reporter decides where they go.

const MAX_NAME = 44;
const MAX_KEYS = 6;

export interface RenderOptions {
  color?: boolean;
  /** Print the per-test table (the delivery lines are always printed). */
  tables?: boolean;
  /** Each experiment's baseline (by experiment name): its table gets a row of Δ against its means. */
  baselines?: ReadonlyMap<string, { name: string; scores?: Record<string, number> }>;
  /** Lines after the delivery lines and before where to look (the comparison with the baselines). */
  after?: readonly string[];
  /**
   * Each experiment's spread as the JSON report has it (by experiment name): the intervals under its
   * table, and its trials grouped by example. Without it, the spread is counted from the table's tests
   * (each a group of its own: the runner does not know their examples).
   */
  spread?: ReadonlyMap<string, ExperimentSpreadView>;
  /** Each experiment's tokens and cost line (by experiment name; see usage.ts), under its delivery line. */
  usage?: ReadonlyMap<string, string>;
}

/** What the table shows of an experiment's spread. */
export type ExperimentSpreadView = Pick<ReportExperiment, "passRate" | "passRateCi" | "scores" | "trials" | "passAtK" | "passHatK">;

export function renderReport(summary: RunSummary, opts: RenderOptions = {}): string[] {
  const c = colors(opts.color ?? false);
  const lines: string[] = [];
  for (const exp of summary.experiments) {
    if (opts.tables !== false)
      lines.push(...renderTable(exp, c, opts.baselines?.get(exp.name), opts.spread?.get(exp.name) ?? spreadOfTable(exp)), "");
  }
  if (summary.merged) {
    for (const exp of summary.experiments) {
      lines.push(c.dim(`tally: ${exp.expected} runs recorded in "${exp.name}" (merged report; each shard checked its own delivery)`));
    }
    return lines;
  }
  for (const exp of summary.experiments) {
    lines.push(deliveryLine(exp, c));
    const never = neverRunLine(exp, c);
    if (never) lines.push(never);
    const cache = cacheTotals(exp.tests);
    if (cache) lines.push((cache.miss > 0 ? c.yellow : c.dim)(`tally:   ${cacheSentence(cache)}`));
    const usage = opts.usage?.get(exp.name);
    if (usage) lines.push(c.dim(`tally:   ${usage}`));
  }
  for (const exp of summary.experiments)
    lines.push(
      ...missingLines(
        exp.missing.filter((m) => !m.unreported),
        c,
      ),
    );
  lines.push(...unreportedLines(summary.experiments, c));
  const other = summary.otherRuns;
  if (other.received > 0) {
    const where = Object.entries(other.byProject)
      .map(([project, n]) => `${project}: ${n}`)
      .join(", ");
    lines.push(c.dim(`tally: ${other.delivered}/${other.received} traces in other projects delivered (${where})`));
  }
  for (const p of summary.problems) lines.push(c.yellow(`tally: ${p}`));
  return lines;
}

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;

/** Where the run went, for the lines after the report. */
export interface RunEndContext {
  /** Recorded into the embedded store (then `backend` is "local store <path>"). */
  local: boolean;
  backend: string;
  /** Set when records are left in the spool. */
  spoolDir?: string;
  /** Spools of earlier runs that this run sent on the way. */
  leftBehind?: ReadonlyArray<{ dir: string; waiting: number; left: number; lastError?: string }>;
}

/**
 * Everything a reporter prints when a run ends, for Vitest and Jest alike: a blank line and the
 * report, then where offline data can be browsed, or what still waits in the spool and how to send it.
 */
export function renderRunEnd(summary: RunSummary, run: RunEndContext, opts: RenderOptions = {}): string[] {
  const c = colors(opts.color ?? false);
  const report = renderReport(summary, opts);
  const lines = report.length > 0 ? ["", ...report, ...(opts.after ?? [])] : [...(opts.after ?? [])];
  if (run.local && summary.experiments.length > 0) {
    lines.push(
      c.dim(
        `tally: recorded offline in ${run.backend.replace(/^local store /, "")}; browse it with \`npx tally ui\` and open a view link above`,
      ),
    );
  }
  if (run.spoolDir) {
    const w = summary.waitingParts;
    const what = w ? `${count(w.runs, "run")}, ${count(w.spans, "span")}, ${w.feedback} feedback` : `${summary.waiting} records`;
    lines.push(
      c.yellow(
        `tally: ${summary.waitingReason ?? "not sent yet"}: ${what} kept in the spool — run \`npx tally flush\` once the backend is reachable (the next run also sends them)`,
      ),
    );
    lines.push(c.yellow(`tally:   spool: ${run.spoolDir}`));
  }
  for (const l of run.leftBehind ?? []) {
    if (l.left === 0) lines.push(c.dim(`tally: also delivered the ${l.waiting} records an earlier run left in ${l.dir}`));
    else
      lines.push(
        c.yellow(
          `tally: ${l.left} of the ${l.waiting} records an earlier run left in ${l.dir} still wait${l.lastError ? ` (${l.lastError})` : ""}`,
        ),
      );
  }
  return lines;
}

/** Tests named on a line that stands for many (a died worker's, a reason's) before the rest are counted. */
const NAMED = 3;

/**
 * One line per file whose worker died with tests it never reported: their count and the first few
 * (`reportFile` lists them all, under each experiment's missing runs).
 */
export function unreportedLines(experiments: readonly ExperimentSummary[], c = colors(false)): string[] {
  const byFile = new Map<string, string[]>();
  for (const exp of experiments) {
    for (const m of exp.missing) if (m.unreported) byFile.set(m.file, [...(byFile.get(m.file) ?? []), m.test]);
  }
  return [...byFile].map(([file, tests]) => {
    const named = tests.slice(0, NAMED).join(", ") + (tests.length > NAMED ? ", …" : "");
    return c.red(`tally: worker for ${file} died before reporting: ${count(tests.length, "test")} (${named})`);
  });
}

/** Missing runs listed one by one while few share a reason; one line per reason beyond that. */
function missingLines(missing: ExperimentSummary["missing"], c: ReturnType<typeof colors>): string[] {
  const byReason = new Map<string, ExperimentSummary["missing"]>();
  for (const m of missing) byReason.set(m.reason, [...(byReason.get(m.reason) ?? []), m]);
  const lines: string[] = [];
  for (const [reason, list] of byReason) {
    if (list.length <= NAMED) {
      for (const m of list) lines.push(c.red(`tally:   missing run: ${m.file} > ${m.test}: ${m.reason}`));
      continue;
    }
    const first = list.slice(0, NAMED).map((m) => `${m.file} > ${m.test}`);
    lines.push(
      c.red(
        `tally:   ${list.length} missing runs: ${reason}: ${first.join(", ")} and ${list.length - NAMED} more (\`reportFile\` lists them all)`,
      ),
    );
  }
  return lines;
}

/** What a reason of a never-run test is called on its experiment's line. */
function neverRunCause(reason: string): string {
  if (reason === UNREPORTED_REASON || reason === NO_RESULT_REASON) return "worker died";
  if (reason === CANCELLED_REASON) return "run cancelled: bail";
  return reason;
}

/**
 * The tests of an experiment that never ran to a result, their count and causes, and that they count
 * as failed: `tally:   2 tests never ran (worker died) in "x": counted as failed in the pass rate (a, b)`.
 */
export function neverRunLine(exp: ExperimentSummary, c = colors(false)): string | undefined {
  const never = exp.neverRun ?? [];
  if (never.length === 0) return undefined;
  const causes = [...new Set(never.map((t) => neverRunCause(t.reason)))].join(", ");
  const named =
    never
      .slice(0, NAMED)
      .map((t) => t.test)
      .join(", ") + (never.length > NAMED ? ", …" : "");
  return c.red(
    `tally:   ${count(never.length, "test")} never ran (${causes}) in "${exp.name}": counted as failed in the pass rate (${named})`,
  );
}

export function deliveryLine(exp: ExperimentSummary, c = colors(false)): string {
  const ok = exp.delivered === exp.expected && exp.missing.length === 0;
  const text = `tally: ${exp.delivered}/${exp.expected} runs · ${exp.spans} spans · ${exp.feedback} feedback delivered to "${exp.name}"`;
  return ok ? c.green(text) : c.red(text);
}

/** The spread from the table's own tests, when there is no report: each test a group of its own. */
function spreadOfTable(exp: ExperimentSummary): ExperimentSpreadView {
  const tests = exp.tests.map((t) => ({ name: t.name, status: t.state, exampleId: null, scores: testScores(t) }));
  const never = exp.neverRun?.length ?? 0;
  const s = experimentSpread(tests, exp.name, never);
  const ran = exp.tests.filter((t) => t.state === "passed" || t.state === "failed");
  const scores: ExperimentSpreadView["scores"] = {};
  for (const [k, m] of Object.entries(meansByKey(tests.map((t) => t.scores)))) scores[k] = { ...m, ci: s.scoreCi[k] ?? null };
  return {
    passRate: ran.length + never > 0 ? ran.filter((t) => t.state === "passed").length / (ran.length + never) : null,
    passRateCi: s.passRateCi,
    scores,
    trials: s.trials,
  };
}

/** An interval as the terminal shows it: `[0.74, 0.88]`. */
export function fmtCi(ci: ReportCi | readonly [number, number]): string {
  return `[${fmt(ci[0])}, ${fmt(ci[1])}]`;
}

/**
 * The line under an experiment's table: its pass rate with its 95 % interval, and with 2 trials or
 * more per example, pass@k and pass^k at k = trials: `pass 0.82 [0.74, 0.88] · trials 3 · pass@3 0.95 · pass^3 0.61`.
 */
export function spreadLine(spread: ExperimentSpreadView): string | undefined {
  if (spread.passRate === null || spread.passRate === undefined) return undefined;
  const parts = [`pass ${fmt(spread.passRate)}${spread.passRateCi ? ` ${fmtCi(spread.passRateCi)}` : ""}`];
  const k = spread.trials ?? 0;
  if (k >= 2 && spread.passAtK !== undefined && spread.passHatK !== undefined) {
    parts.push(`trials ${k}`, `pass@${k} ${fmt(spread.passAtK)}`, `pass^${k} ${fmt(spread.passHatK)}`);
  }
  return parts.join(" · ");
}

function renderTable(
  exp: ExperimentSummary,
  c: ReturnType<typeof colors>,
  baseline: { name: string; scores?: Record<string, number> } | undefined,
  spread: ExperimentSpreadView,
): string[] {
  const keys = [...new Set(exp.tests.flatMap((t) => (t.feedback ?? []).map((f) => f.key)))].filter((k) => k !== "pass").slice(0, MAX_KEYS);
  const cached = exp.tests.some((t) => t.cache);
  const header = ["Test", "Status", ...keys, ...(cached ? ["Cache"] : [])];
  const rows: string[][] = [];
  const sums = keys.map(() => ({ total: 0, n: 0 }));
  for (const t of exp.tests) {
    const scores = keys.map((k, i) => {
      const f = (t.feedback ?? []).filter((x) => x.key === k).at(-1);
      const v = scoreValue(f?.score);
      if (v === undefined) return "";
      sums[i]!.total += v;
      sums[i]!.n++;
      return fmt(v);
    });
    // Pending: the runner has no result of it (its worker died, say); that is not a skip.
    const status = t.state === "passed" ? "✓ pass" : t.state === "failed" ? "✗ fail" : t.state === "pending" ? "? no result" : "- skip";
    rows.push([truncateMiddle(tableName(t.name, exp.dataset), MAX_NAME), status, ...scores, ...(cached ? [cacheCell(t.cache)] : [])]);
  }
  // The tests that never ran and have no row of the runner's (declared, never reported; cancelled).
  const inTable = new Set(exp.tests.map((t) => `${t.file}\u0000${t.name}`));
  for (const t of exp.neverRun ?? []) {
    if (inTable.has(`${t.file}\u0000${t.test}`)) continue;
    rows.push([truncateMiddle(tableName(t.test, exp.dataset), MAX_NAME), "✗ never ran", ...keys.map(() => ""), ...(cached ? [""] : [])]);
  }
  const tail = cached ? [""] : [];
  // Each mean with its 95 % interval (over examples, from the report), where there is one.
  const ciOf = (k: string) => spread.scores[k]?.ci;
  const avg = [
    "average",
    "",
    ...sums.map((s, i) => {
      if (!s.n) return "";
      const ci = ciOf(keys[i]!);
      return ci ? `${fmt(s.total / s.n)} ${fmtCi(ci)}` : fmt(s.total / s.n);
    }),
    ...tail,
  ];
  const before = (k: string) => baseline?.scores?.[k];
  const delta = baseline
    ? [
        "Δ vs baseline",
        "",
        ...keys.map((k, i) => (sums[i]!.n && before(k) !== undefined ? signed(sums[i]!.total / sums[i]!.n - before(k)!) : "")),
        ...tail,
      ]
    : undefined;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length), avg[i]!.length, delta?.[i]?.length ?? 0));
  const row = (cells: string[]) => `  ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ")}`;
  const passed = exp.tests.filter((t) => t.state === "passed").length;
  const out = [
    c.bold(` tally  ${exp.name}`) +
      c.dim(
        `  dataset "${exp.dataset}" · ${passed}/${rows.length} passed${exp.neverRun?.length ? ` · ${exp.neverRun.length} never ran` : ""}`,
      ),
    c.dim(row(header)),
    ...rows.map((r) => {
      const line = row(r);
      return r[1]!.startsWith("✗") ? c.red(line) : line;
    }),
  ];
  if (keys.length > 0) out.push(c.bold(row(avg)));
  if (keys.length > 0 && delta) out.push(c.dim(row(delta)));
  const line = spreadLine(spread);
  if (line) out.push(`  ${line}`);
  if (baseline) out.push(`  ${c.dim("baseline:")} ${baseline.name}`);
  if (exp.url) out.push(`  ${c.dim("view:")} ${exp.url}`);
  return out;
}

/** A number as the terminal shows it: integers as they are, else two decimals. */
export function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

/** A change as the terminal shows it: `+0.12`, `−0.60`, `±0` (rounded to what is shown first). */
export function signed(v: number): string {
  const r = Math.round(v * 100) / 100;
  return r > 0 ? `+${fmt(r)}` : r < 0 ? `−${fmt(-r)}` : "±0";
}

/** The dataset is in the table's title; what tells rows apart is the rest of the name. */
function tableName(name: string, dataset: string): string {
  return name.startsWith(`${dataset} > `) ? name.slice(dataset.length + 3) : name;
}

/** Keeps both ends: the start names the test, the end holds `, item 3` / `, run 2`. */
function truncateMiddle(s: string, n: number): string {
  if (s.length <= n) return s;
  const head = Math.ceil((n - 1) * 0.6);
  return `${s.slice(0, head)}…${s.slice(s.length - (n - 1 - head))}`;
}

export function colors(on: boolean) {
  const wrap = (a: number, b: number) => (s: string) => (on ? `\x1b[${a}m${s}\x1b[${b}m` : s);
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
  };
}
