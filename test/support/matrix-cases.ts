import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MATRIX } from "./run-vitest.ts";

// The runner × langsmith × pool combinations the end-to-end matrix runs (vitest-matrix.test.ts,
// jest.test.ts), and what the README's compatibility table is generated from (compat.ts).

export interface VitestCase {
  runner: "vitest";
  pkg: string;
  pool: "threads" | "forks" | "vmThreads";
  isolate: boolean;
}
export interface JestCase {
  runner: "jest";
  pkg: "jest29" | "jest30";
  mode: "workers" | "workerThreads" | "inBand";
}
export type MatrixCase = VitestCase | JestCase;

const vitest = (pkg: string, pool: VitestCase["pool"], isolate = true): VitestCase => ({ runner: "vitest", pkg, pool, isolate });
const jest = (pkg: JestCase["pkg"], mode: JestCase["mode"]): JestCase => ({ runner: "jest", pkg, mode });

export const VITEST_CASES: VitestCase[] = [
  vitest("vitest3", "threads"),
  vitest("vitest3", "forks"),
  vitest("vitest3", "vmThreads"),
  vitest("vitest3", "forks", false),
  vitest("vitest4", "threads"),
  vitest("vitest4", "forks"),
  vitest("vitest4", "vmThreads"),
  vitest("vitest4", "threads", false),
  vitest("vitest5", "threads"),
  vitest("vitest5", "forks"),
  vitest("vitest5", "vmThreads"),
  vitest("vitest5", "forks", false),
  // The older langsmith lines, each on Vitest 4.1.
  vitest("langsmith011", "forks"),
  vitest("langsmith010", "threads"),
  vitest("langsmith03", "threads"),
];

export const JEST_CASES: JestCase[] = [
  jest("jest30", "workers"),
  jest("jest30", "workerThreads"),
  jest("jest30", "inBand"),
  jest("jest29", "workers"),
  jest("jest29", "inBand"),
];

export const caseLabel = (c: MatrixCase): string =>
  c.runner === "vitest" ? `${c.pkg} pool=${c.pool} isolate=${c.isolate}` : `${c.pkg} ${c.mode}`;

/** The version of a package as installed in a matrix package (what actually runs). */
export function installedVersion(pkg: string, dep: string): string {
  return (JSON.parse(readFileSync(join(MATRIX, pkg, "node_modules", dep, "package.json"), "utf8")) as { version: string }).version;
}
