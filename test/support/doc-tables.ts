import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { REPO } from "./run-vitest.ts";

// What the generated documents (docs/bench.md, docs/reliability.md) share: their tables and the
// provenance lines that say where and on which code the numbers were measured.

export function textTable(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join(" │ ")
      .trimEnd();
  return [line(head), widths.map((w) => "─".repeat(w)).join("─┼─"), ...body.map(line)].join("\n");
}

export function mdTable(head: string[], body: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...body.map(line)].join("\n");
}

export function nprocOf(): string {
  try {
    return execFileSync("nproc", { encoding: "utf8" }).trim();
  } catch {
    return String(availableParallelism());
  }
}

export function codeVersion(): string {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "packages"], { cwd: REPO, encoding: "utf8" }).trim();
    return `commit ${commit}${dirty ? " + uncommitted changes in packages/" : ""}`;
  } catch {
    return "unknown (no git)";
  }
}
