import { randomBytes } from "node:crypto";

/** Where the run key came from, for the summary line ("run key from GITHUB_RUN_ID"). */
export interface RunKey {
  key: string;
  source: string;
}

type Env = Record<string, string | undefined>;

// Every CI shard of one pipeline run must derive the same key, so that they converge on one
// experiment per dataset; a retry of the pipeline gets a new one.
const CI_KEYS: Array<{ source: string; derive: (env: Env) => string | undefined }> = [
  { source: "TALLY_RUN_ID", derive: (e) => e.TALLY_RUN_ID },
  {
    source: "GITHUB_RUN_ID",
    derive: (e) => e.GITHUB_RUN_ID && `gh-${e.GITHUB_RUN_ID}-${e.GITHUB_RUN_ATTEMPT ?? "1"}`,
  },
  { source: "CI_PIPELINE_ID", derive: (e) => e.GITLAB_CI && e.CI_PIPELINE_ID && `gl-${e.CI_PIPELINE_ID}` },
  {
    source: "BUILDKITE_BUILD_ID",
    derive: (e) => e.BUILDKITE_BUILD_ID && `bk-${e.BUILDKITE_BUILD_ID}-${e.BUILDKITE_RETRY_COUNT ?? "0"}`,
  },
  { source: "CIRCLE_WORKFLOW_ID", derive: (e) => e.CIRCLE_WORKFLOW_ID && `cc-${e.CIRCLE_WORKFLOW_ID}` },
  { source: "BUILD_BUILDID", derive: (e) => e.TF_BUILD && e.BUILD_BUILDID && `az-${e.BUILD_BUILDID}` },
  { source: "JENKINS BUILD_TAG", derive: (e) => e.JENKINS_URL && e.BUILD_TAG },
];

export function deriveRunKey(env: Env = process.env, now = new Date()): RunKey {
  for (const { source, derive } of CI_KEYS) {
    const key = derive(env)?.trim();
    if (key) return { key: sanitize(key), source };
  }
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return { key: `${stamp}-${randomBytes(2).toString("hex")}`, source: "fresh for this invocation" };
}

function sanitize(key: string): string {
  return key.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 80);
}
