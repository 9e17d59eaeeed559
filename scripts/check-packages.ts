// `pnpm check:packages`: packs every publishable package as `pnpm publish` would (prepack builds it)
// and checks the tarballs themselves, not the working tree:
//   - every file package.json points at (exports, main, types, bin, typesVersions) is in it;
//   - nothing that should stay home is (source maps whose sources are not shipped, tsbuildinfo,
//     compiled tests), and no output is stale (built from a source file that no longer exists);
//   - a README.md and a LICENSE are in it, and no `workspace:` range is left;
//   - publint (warnings are errors) and @arethetypeswrong/cli (profiles in scripts/packages.ts) pass.
// Runs offline. `--keep` leaves the tarballs in the temp folder it prints.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packAll, readFromTarball, ROOT, type Packed } from "./packages.ts";

const FORBIDDEN = [/\.map$/, /(^|\/)(\.|[^/]*\.)tsbuildinfo$/, /\.test\.(d\.)?[cm]?[jt]s$/];

type PackageJson = Record<string, unknown>;

/** File paths package.json names (wildcard patterns are left to publint). */
function referencedPaths(pkg: PackageJson): string[] {
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === "string") found.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  for (const field of ["main", "types", "bin", "exports", "typesVersions"]) walk(pkg[field]);
  return found.filter((p) => !p.includes("*")).map((p) => p.replace(/^\.\//, ""));
}

function fileProblems(p: Packed, pkg: PackageJson): string[] {
  const problems: string[] = [];
  const files = new Set(p.files);
  for (const ref of referencedPaths(pkg)) if (!files.has(ref)) problems.push(`package.json points at ${ref}, which is not in the tarball`);
  for (const f of p.files) if (FORBIDDEN.some((re) => re.test(f))) problems.push(`ships ${f}`);
  // What a registry page and a licence audit read: pnpm packs the package's README and, when the
  // package has no LICENSE of its own, the workspace root's.
  for (const required of ["README.md", "LICENSE"]) if (!files.has(required)) problems.push(`ships no ${required}`);
  for (const f of p.files) {
    const out = /^(?:dist|dist-cjs)\/(.+?)(?:\.d\.ts|\.js)$/.exec(f);
    if (out && !existsSync(join(ROOT, p.spec.dir, "src", `${out[1]}.ts`))) {
      problems.push(`ships ${f}, built from src/${out[1]}.ts, which no longer exists (delete the build output and pack again)`);
    }
  }
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    for (const [dep, range] of Object.entries((pkg[field] ?? {}) as Record<string, string>)) {
      if (range.startsWith("workspace:")) problems.push(`${field}.${dep} is still "${range}"`);
    }
  }
  return problems;
}

/** Runs a root devDependency's CLI; its output is printed only when it fails. */
function tool(bin: string, args: string[]): boolean {
  const r = spawnSync(join(ROOT, "node_modules", ".bin", bin), args, { cwd: ROOT, encoding: "utf8" });
  if (r.status === 0) return true;
  process.stdout.write(`\n$ ${bin} ${args.join(" ")}\n${r.error?.message ?? ""}${r.stdout}${r.stderr}\n`);
  return false;
}

const keep = process.argv.includes("--keep");
const dest = mkdtempSync(join(tmpdir(), "tally-packages-"));
let failed = false;
try {
  const packed = packAll(dest);
  for (const p of packed) {
    const pkg = JSON.parse(readFromTarball(p.tarball, "package.json")) as PackageJson;
    const problems = fileProblems(p, pkg);
    for (const problem of problems) process.stdout.write(`${p.spec.name}: ${problem}\n`);
    const publint = tool("publint", ["run", "--strict", p.tarball]);
    // --no-definitely-typed: the packages ship their own types, so there is no @types package to fetch.
    const attw = p.spec.attw.map((args) => tool("attw", ["--no-definitely-typed", "--format", "table-flipped", p.tarball, ...args]));
    const ok = problems.length === 0 && publint && attw.every(Boolean);
    failed ||= !ok;
    const size = `${(p.bytes / 1024).toFixed(1)} kB`.padStart(9);
    process.stdout.write(
      `${ok ? "ok  " : "FAIL"} ${p.spec.name.padEnd(21)} ${size}  ${String(p.files.length).padStart(3)} files  ` +
        `files ${problems.length ? "✗" : "✓"}  publint ${publint ? "✓" : "✗"}  attw ${attw.map((a) => (a ? "✓" : "✗")).join("")}\n`,
    );
  }
} finally {
  if (keep) process.stdout.write(`tarballs kept in ${dest}\n`);
  else rmSync(dest, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
