import { appendFileSync } from "node:fs";
import { jobSummaryMarkdown, workflowCommands } from "../ci/markdown.js";
import type { RunSink } from "./sink.js";

/**
 * On GitHub Actions: the run's Markdown appended to the job summary, and the workflow commands
 * (experiment links, failing gates, regressed tests) on stdout, where the runner reads them.
 */
export const githubSink: RunSink = function github(_summary, { report, env, log }) {
  if (!report || env.GITHUB_ACTIONS !== "true") return;
  const file = env.GITHUB_STEP_SUMMARY;
  if (file) {
    try {
      appendFileSync(file, jobSummaryMarkdown(report));
    } catch (err) {
      log(`tally: could not write the job summary to ${file}: ${(err as Error).message}`);
    }
  }
  for (const line of workflowCommands(report)) process.stdout.write(`${line}\n`);
};
