#!/usr/bin/env node
// Entry point for the README's commands (`npm run demo`, `npm test`, `npm run bench`, `npm run ui`,
// `npm run check:packages`, `npm run typecheck`, `npm run lint`).
// It runs on whatever Node the machine has (the system Node may be 20): it installs the
// workspace with a pinned pnpm, and pnpm then runs the real script on the pinned Node 24
// that the root devDependency `node` provides (pnpm puts node_modules/.bin first on PATH).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const PNPM = "pnpm@10.34.8";
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const task = process.argv[2];
const rest = process.argv.slice(3);
if (!["demo", "demo:jest", "test", "bench", "reliability", "ui", "check:packages", "typecheck", "lint"].includes(task)) {
  console.error(`usage: node scripts/bootstrap.mjs <demo|demo:jest|test|bench|reliability|ui|check:packages|typecheck|lint> [args]`);
  process.exit(2);
}

function run(args) {
  const r = spawnSync("npx", ["--yes", PNPM, ...args], { cwd: root, stdio: "inherit", env: process.env });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

// Install only when the lockfile or manifests changed since the last install.
const stamp = join(root, "node_modules", ".tally-install-stamp");
const manifests = ["pnpm-lock.yaml", "package.json", "pnpm-workspace.yaml"]
  .filter((f) => existsSync(join(root, f)))
  .map((f) => readFileSync(join(root, f)));
const digest = createHash("sha256").update(Buffer.concat(manifests)).digest("hex");
if (!existsSync(stamp) || readFileSync(stamp, "utf8") !== digest) {
  const frozen = existsSync(join(root, "pnpm-lock.yaml")) ? ["--frozen-lockfile"] : [];
  const status = run(["install", ...frozen, "--config.confirmModulesPurge=false"]);
  if (status !== 0) process.exit(status);
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, digest);
}
process.exit(run(["run", `run:${task}`, ...rest]));
