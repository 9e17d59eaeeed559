import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { validateGates } from "../compare/gates.js";
import { jobSummaryMarkdown, workflowCommands } from "../report/ci/markdown.js";
import { mergeReports, type ShardReport } from "../report/ci/merge.js";
import { isTallyReport } from "../report/json-report.js";
import { colors } from "../report/render.js";
import { comparisonLines } from "../report/sinks/comparison.js";
import { usageSentence } from "../report/usage.js";

// `tally report merge`: the job after a CI matrix. Reads the shards' JSON reports, merges them (the
// experiment is already shared), writes the merged report and the job summary, and judges the gates.

export interface ReportMergeArgs {
  files: string[];
  /** Where to write the merged report. */
  out?: string;
  /** Gates as JSON (`{"passRate":0.9}`); TALLY_GATES when not given. */
  gates?: string;
  env: Readonly<Record<string, string | undefined>>;
  log: (line: string) => void;
  color: boolean;
}

/** 0: merged and every gate holds; 1: a gate failed; 2: bad input (named). */
export function reportMerge(args: ReportMergeArgs): number {
  const c = colors(args.color);
  try {
    const shards: ShardReport[] = args.files.map((file) => ({ file, report: readReport(file) }));
    const gatesText = args.gates ?? args.env.TALLY_GATES;
    let gates = {};
    if (gatesText) {
      try {
        gates = validateGates(JSON.parse(gatesText));
      } catch (err) {
        throw new Error(err instanceof SyntaxError ? `--gates is not JSON: ${err.message}` : (err as Error).message);
      }
    }
    const merged = mergeReports(shards, gates);
    if (args.out) {
      writeFileSync(resolve(args.out), `${JSON.stringify(merged, null, 2)}\n`);
      args.log(`tally report merge: ${shards.length} reports of run ${merged.run.key} → ${resolve(args.out)}`);
    }
    for (const e of merged.experiments) {
      const rate = e.passRate === null ? "—" : e.passRate.toFixed(2);
      args.log(
        `tally: "${e.name}": ${e.tests.length} tests · pass rate ${rate} · ${e.delivered.runs}/${e.delivered.expected} runs delivered`,
      );
      const usage = usageSentence(e);
      if (usage) args.log(c.dim(`tally:   ${usage}`));
    }
    for (const line of comparisonLines(merged, args.color)) args.log(line);
    if (args.env.GITHUB_ACTIONS === "true") {
      if (args.env.GITHUB_STEP_SUMMARY) appendFileSync(args.env.GITHUB_STEP_SUMMARY, jobSummaryMarkdown(merged));
      for (const line of workflowCommands(merged)) process.stdout.write(`${line}\n`);
    }
    const failed = merged.gates.filter((g) => !g.ok);
    for (const g of failed) args.log(c.red(`Tally gate failed: ${g.message}`));
    return failed.length > 0 ? 1 : 0;
  } catch (err) {
    args.log(c.red((err as Error).message));
    return 2;
  }
}

function readReport(file: string): ShardReport["report"] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`tally report merge: cannot read ${file}: ${(err as Error).message}`);
  }
  if (!isTallyReport(value))
    throw new Error(`tally report merge: ${file} is not a Tally report (write one with the reportFile option or TALLY_REPORT_FILE)`);
  return value;
}
