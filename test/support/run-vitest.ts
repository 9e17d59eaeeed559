import { spawn } from "node:child_process";
import { join } from "node:path";

export const REPO = join(import.meta.dirname, "..", "..");
export const MATRIX = join(REPO, "test", "matrix");

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Node's arguments for `vitest run` of a matrix package (test/matrix/<pkg>). */
export function vitestArgv(pkg: string, args: string[]): string[] {
  return [join(MATRIX, pkg, "node_modules", "vitest", "vitest.mjs"), "run", ...args];
}

/** Node's arguments for `jest --ci` of a matrix package (test/matrix/<pkg>). */
export function jestArgv(pkg: string, args: string[]): string[] {
  return [join(MATRIX, pkg, "node_modules", "jest", "bin", "jest.js"), "--ci", ...args];
}

/** Runs the vitest of a matrix package (test/matrix/<pkg>) in `cwd`, on the repo's Node. */
export function runVitest(pkg: string, cwd: string, args: string[], env: Record<string, string | undefined>): Promise<ProcessResult> {
  return runNode(vitestArgv(pkg, args), cwd, env);
}

/** Runs the jest of a matrix package (test/matrix/<pkg>) in `cwd`, on the repo's Node. */
export function runJest(pkg: string, cwd: string, args: string[], env: Record<string, string | undefined>): Promise<ProcessResult> {
  return runNode(jestArgv(pkg, args), cwd, env);
}

export function runNode(args: string[], cwd: string, env: Record<string, string | undefined>, timeoutMs = 300_000): Promise<ProcessResult> {
  return runProcess(process.execPath, args, cwd, cleanEnv(env), timeoutMs);
}

/** Runs a command to its end, collecting its output; killed after `timeoutMs`. */
export function runProcess(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ProcessResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The parent's environment minus anything that would leak the outer run into the inner one. */
export function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(VITEST|JEST_|TALLY_|LANGSMITH_|LANGCHAIN_|GITHUB_|CI$|NODE_OPTIONS)/.test(k)) continue;
    env[k] = v;
  }
  env.NO_COLOR = "1";
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}
