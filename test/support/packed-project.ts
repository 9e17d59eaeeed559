import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { cleanEnv, REPO, runProcess, type ProcessResult } from "./run-vitest.js";

// A user's project outside this repository: its own folder under the system temp dir (so nothing
// resolves from the workspace's node_modules), installed with plain npm from packed tarballs and the
// registry, and run through npx, all on the repo's Node 24.

/**
 * The folder of the repo's real Node 24 binary (nothing else is in it). Not node_modules/.bin, whose
 * `node` shim sets NODE_PATH to the workspace's packages and which holds the workspace's vitest.
 */
const NODE24_DIR = existsSync(join(REPO, "node_modules", "node", "bin", "node"))
  ? join(REPO, "node_modules", "node", "bin")
  : dirname(process.execPath);
/** npm's cache for these installs: the registry is asked once, reruns install from here. */
const NPM_CACHE = join(REPO, "node_modules", ".cache", "packed-install-npm");

/** The environment of a user's shell: Node 24 first on PATH, no pnpm/npm-script or workspace leftovers. */
export function userEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env = cleanEnv(extra);
  for (const key of Object.keys(env)) {
    if (/^(npm_|pnpm_|NODE_PATH$|INIT_CWD$)/i.test(key)) delete env[key];
  }
  const path = (process.env.PATH ?? "").split(delimiter).filter((p) => p && !p.includes("node_modules"));
  env.PATH = [NODE24_DIR, ...path].join(delimiter);
  env.npm_config_cache = NPM_CACHE;
  env.npm_config_update_notifier = "false";
  return env;
}

export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<ProcessResult> {
  return runProcess(cmd, args, cwd, env, timeoutMs);
}

export interface PackedProject {
  dir: string;
  /** `npm install`'s result, for the test to assert on. */
  install: ProcessResult;
}

/**
 * A fresh npm project with `specs` (tarball paths and name@version) installed as devDependencies,
 * as the README's `npm install -D …` does. It is also a git repository with one commit, as a user's
 * project is (the experiment's close records the commit).
 */
export async function createPackedProject(name: string, specs: string[]): Promise<PackedProject> {
  const dir = mkdtempSync(join(tmpdir(), `tally-packed-${name}-`));
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: `packed-${name}`, version: "0.0.0", private: true }, null, 2)}\n`);
  writeFileSync(join(dir, ".gitignore"), "node_modules/\n.tally/\n");
  mkdirSync(NPM_CACHE, { recursive: true });
  const env = userEnv();
  const git = await run("git", ["init", "-q"], dir, env);
  if (git.code !== 0) throw new Error(`git init: ${git.stderr}`);
  const commit = await run(
    "git",
    ["-c", "user.name=tally", "-c", "user.email=tally@example.invalid", "commit", "-q", "--allow-empty", "-m", "init"],
    dir,
    env,
  );
  if (commit.code !== 0) throw new Error(`git commit: ${commit.stderr}`);
  // Plain npm, strict peers as a user gets them (no --legacy-peer-deps); --prefer-offline reuses the cache.
  const install = await run("npm", ["install", "--save-dev", "--prefer-offline", "--no-audit", "--no-fund", ...specs], dir, env);
  return { dir, install };
}
