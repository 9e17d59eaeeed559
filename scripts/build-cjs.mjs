// Builds the CommonJS copy of @tally/core's worker half (for Jest, whose module registry loads
// CommonJS only) and marks its folder as CommonJS inside the ESM package.
// `tsc -p` with `incremental` (dist-cjs/.tsbuildinfo) rewrites only what changed: packing runs
// this build again (prepack), possibly while tests elsewhere load these files.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
execFileSync(process.execPath, [tsc, "-p", join(root, "packages/core/tsconfig.cjs.json")], { stdio: "inherit" });
const out = join(root, "packages/core/dist-cjs");
const marker = join(out, "package.json");
const source = '{ "type": "commonjs" }\n';
mkdirSync(out, { recursive: true });
if (!existsSync(marker) || readFileSync(marker, "utf8") !== source) writeFileSync(marker, source);
