// The publishable packages and how to pack them exactly as `pnpm publish` would: `pnpm pack` runs each
// package's `prepack` (the build) and turns `workspace:*` into real versions. Shared by
// scripts/check-packages.ts and the packed-install end-to-end test.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";

export const ROOT = join(import.meta.dirname, "..");
/** The pnpm that scripts/bootstrap.mjs installs with. */
export const PNPM = "pnpm@10.34.8";

export interface PackageSpec {
  name: string;
  dir: string;
  /**
   * Argument sets for one `attw` run each. ESM-only entry points use the esm-only profile (they are
   * ESM on purpose: nothing to resolve under node10, and `require` of them is Node's require(esm)).
   * The CommonJS surfaces (core's worker half, which the Jest preset's types import, and the whole
   * preset) get the default strict profile, node10 included: Jest projects often compile TypeScript
   * with `module: commonjs`, whose default resolution is node10.
   */
  attw: string[][];
}

/** In dependency order: packing runs each prepack build, and they share core's outputs. */
export const PACKAGES: PackageSpec[] = [
  {
    name: "@tally/core",
    dir: "packages/core",
    attw: [
      ["--profile", "esm-only"],
      ["--entrypoints", "./worker"],
    ],
  },
  { name: "@tally/store", dir: "packages/store", attw: [["--profile", "esm-only"]] },
  { name: "@tally/vitest-plugin", dir: "packages/vitest-plugin", attw: [["--profile", "esm-only"]] },
  { name: "@tally/jest-preset", dir: "packages/jest-preset", attw: [[]] },
];

export interface Packed {
  spec: PackageSpec;
  tarball: string;
  bytes: number;
  /** Paths inside the package, without tar's `package/` prefix. */
  files: string[];
}

/**
 * The pnpm that runs this script when it is a pnpm script (no npx round trip), else the pinned one.
 * Only pnpm's own path will do: under `pnpm exec` npm_execpath can still be npm's, whose `pack` would
 * leave `workspace:*` in the tarball.
 */
export function pnpmCommand(): { cmd: string; args: string[] } {
  const execPath = process.env.npm_execpath;
  if (execPath && /^pnpm\.c?js$/.test(basename(execPath))) return { cmd: process.execPath, args: [execPath] };
  return { cmd: "npx", args: ["--yes", PNPM] };
}

/** Packs one package into its own folder under `dest` (so the tarball is the folder's only file). */
export function pack(spec: PackageSpec, dest: string): Packed {
  const out = join(dest, spec.name.replace(/^@/, "").replace("/", "-"));
  mkdirSync(out, { recursive: true });
  const { cmd, args } = pnpmCommand();
  const r = spawnSync(cmd, [...args, "pack", "--pack-destination", out], { cwd: join(ROOT, spec.dir), encoding: "utf8" });
  // pnpm lists every file it packs: print that only when something went wrong.
  if (r.status !== 0)
    throw new Error(`pnpm pack in ${spec.dir} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}\n${r.stderr}`);
  const name = readdirSync(out).find((f) => f.endsWith(".tgz"));
  if (!name) throw new Error(`pnpm pack in ${spec.dir} wrote no tarball:\n${r.stdout}`);
  const tarball = join(out, name);
  return { spec, tarball, bytes: statSync(tarball).size, files: listTarball(tarball) };
}

/** Packs every package, one after the other: their prepack builds write the same core outputs. */
export function packAll(dest: string): Packed[] {
  return PACKAGES.map((spec) => pack(spec, dest));
}

function listTarball(tarball: string): string[] {
  const r = spawnSync("tar", ["-tzf", tarball], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`tar -tzf ${tarball}: ${r.stderr}`);
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ""));
}

/** One file of a tarball, as text. */
export function readFromTarball(tarball: string, path: string): string {
  const r = spawnSync("tar", ["-xzOf", tarball, `package/${path}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`tar: no ${path} in ${tarball}: ${r.stderr}`);
  return r.stdout;
}
