// Builds the CommonJS copy of @tally/core's worker half (for Jest, whose module registry loads
// CommonJS only) and marks its folder as CommonJS inside the ESM package.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
execFileSync(process.execPath, [tsc, "-p", join(root, "packages/core/tsconfig.cjs.json")], { stdio: "inherit" });
const out = join(root, "packages/core/dist-cjs");
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "package.json"), '{ "type": "commonjs" }\n');
