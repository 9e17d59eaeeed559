// The floors of the architecture (docs/architecture.md), kept: a module may import from its own
// folder and from folders on lower floors, never from a higher one; a package only from the packages
// below it. Run by `pnpm lint`. Prints every import that runs back up, exits 1 if there is one.
// Tests are not floors of the house: a test may reach wherever it needs to (a real server, say).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

const root = resolve(import.meta.dirname, "..");

/** Folders of packages/core/src, lowest floor first; folders on one floor may not import each other. */
const CORE_FLOORS: string[][] = [
  ["ports.ts", "wire", "stats"],
  ["identity", "http"],
  ["protocol", "cache"],
  ["spool", "ledger", "worker"],
  ["backend"],
  ["delivery", "compare"],
  ["report"],
  ["collector"],
  ["run"],
  ["index.ts"],
];

/** Workspace packages, lowest first. */
const PACKAGE_FLOORS: string[][] = [["core"], ["store"], ["vitest-plugin", "jest-preset"]];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|mts|cts)$/.test(name) && !/\.(d|test)\.[mc]?ts$/.test(name)) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) out.push((m[1] ?? m[2])!);
  return out;
}

function floorOf(floors: string[][], name: string): number {
  return floors.findIndex((f) => f.includes(name));
}

const problems: string[] = [];
const coreSrc = join(root, "packages/core/src");

for (const file of files(coreSrc)) {
  const from = relative(coreSrc, file).split(sep)[0]!;
  const fromFloor = floorOf(CORE_FLOORS, from);
  if (fromFloor < 0) {
    problems.push(`packages/core/src/${from}: not on any floor; add it to CORE_FLOORS in scripts/check-layers.ts`);
    continue;
  }
  for (const spec of importsOf(file)) {
    if (spec.startsWith("@tally/")) problems.push(`${relative(root, file)} imports ${spec}: core imports no other Tally package`);
    if (!spec.startsWith(".")) continue;
    const target = relative(coreSrc, resolve(dirname(file), spec))
      .split(sep)[0]!
      .replace(/\.js$/, ".ts");
    if (target === from || target.startsWith("..")) continue;
    const toFloor = floorOf(CORE_FLOORS, target);
    if (toFloor >= fromFloor) {
      problems.push(
        `${relative(root, file)} imports ${spec}: ${target} is ${toFloor === fromFloor ? "on the same floor as" : "above"} ${from}`,
      );
    }
  }
}

for (const pkg of PACKAGE_FLOORS.flat()) {
  const src = join(root, "packages", pkg, "src");
  const floor = floorOf(PACKAGE_FLOORS, pkg);
  for (const file of files(src)) {
    for (const spec of importsOf(file)) {
      if (
        spec.startsWith(".") &&
        resolve(dirname(file), spec).startsWith(join(root, "packages")) &&
        !resolve(dirname(file), spec).startsWith(join(root, "packages", pkg))
      ) {
        problems.push(`${relative(root, file)} imports ${spec}: another package by path (use its public entry)`);
      }
      const m = /^@tally\/([^/]+)/.exec(spec);
      if (!m || m[1] === pkg) continue;
      const other = floorOf(PACKAGE_FLOORS, m[1]!);
      if (other >= floor) problems.push(`${relative(root, file)} imports ${spec}: @tally/${m[1]} is not below @tally/${pkg}`);
    }
  }
}

if (problems.length > 0) {
  console.error(`check-layers: ${problems.length} import(s) run back up a floor:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log("check-layers: every import runs down a floor");
