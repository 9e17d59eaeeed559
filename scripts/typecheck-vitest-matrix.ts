// Type-checks the Vitest plugin's sources against every Vitest the e2e matrix runs (test/matrix/vitestN,
// each with its own Vitest), not only the workspace's: the plugin uses Vitest's own types, and a
// member one version lacks must fail here rather than at a user's. `npm run typecheck` runs it after
// the build (scripts/bootstrap.mjs); each test/matrix/vitestN/tsconfig.plugin.json maps `vitest` there.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..");
const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
const matrix = join(ROOT, "test", "matrix");
const configs = readdirSync(matrix)
  .map((dir) => join(matrix, dir, "tsconfig.plugin.json"))
  .filter((f) => existsSync(f));

let failed = 0;
for (const config of configs) {
  const r = spawnSync(process.execPath, [tsc, "-p", config], { stdio: "inherit" });
  const ok = r.status === 0;
  if (!ok) failed++;
  console.log(`${ok ? "ok  " : "FAIL"} vitest-plugin against ${config.slice(ROOT.length + 1)}`);
}
if (configs.length === 0) {
  console.error("no test/matrix/*/tsconfig.plugin.json found");
  failed++;
}
process.exit(failed === 0 ? 0 : 1);
