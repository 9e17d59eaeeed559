import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";
import { MATRIX } from "./run-vitest.js";

/** Copies a scenario folder from test/fixtures into a matrix package, where its imports resolve. */
export function loadFixture(name: string, pkg = "vitest4"): string {
  const dir = join(MATRIX, pkg, ".suites", `fixture-${name}`);
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(import.meta.dirname, "..", "fixtures", name), dir, { recursive: true });
  return dir;
}
