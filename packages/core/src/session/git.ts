import { execFileSync } from "node:child_process";

export interface GitInfo {
  commit?: string;
  branch?: string;
  dirty?: boolean;
}

// Git metadata is a nice-to-have: a checkout without git (a container, a tarball) still closes its
// experiment with `dataset_version` and `end_time`.
export function readGit(cwd: string): GitInfo {
  const git = (...args: string[]) =>
    execFileSync("git", args, { cwd, stdio: ["ignore", "pipe", "ignore"], timeout: 5000 }).toString().trim();
  try {
    const commit = git("rev-parse", "HEAD");
    let branch: string | undefined;
    try {
      branch = git("rev-parse", "--abbrev-ref", "HEAD");
    } catch {
      branch = undefined;
    }
    const dirty = git("status", "--porcelain", "--untracked-files=no").length > 0;
    return { commit, branch, dirty };
  } catch {
    return {};
  }
}
