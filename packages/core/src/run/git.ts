import { execFile } from "node:child_process";

export interface GitInfo {
  commit?: string;
  branch?: string;
  dirty?: boolean;
  /** The remote's default branch (`origin/HEAD`), where a clone knows it: baselines prefer it in CI. */
  defaultBranch?: string;
}

// Git metadata is a nice-to-have: a checkout without git (a container, a tarball) still closes its
// experiment with `dataset_version` and `end_time`. Read in the background while the tests run.
export async function readGit(cwd: string): Promise<GitInfo> {
  const git = (...args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile("git", args, { cwd, timeout: 5000 }, (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))),
    );
  try {
    const [commit, branch, status, originHead] = await Promise.all([
      git("rev-parse", "HEAD"),
      git("rev-parse", "--abbrev-ref", "HEAD").catch(() => undefined),
      git("status", "--porcelain", "--untracked-files=no"),
      git("symbolic-ref", "--short", "refs/remotes/origin/HEAD").catch(() => undefined),
    ]);
    const defaultBranch = originHead?.replace(/^origin\//, "") || undefined;
    return { commit, branch, dirty: status.length > 0, ...(defaultBranch ? { defaultBranch } : {}) };
  } catch {
    return {};
  }
}
