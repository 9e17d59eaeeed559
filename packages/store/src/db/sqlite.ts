// Loads node:sqlite. Two reasons not to `import` it statically:
// - Node prints "ExperimentalWarning: SQLite is an experimental feature" on first load. That line
//   would land in every user's test output for Tally's offline default; we drop exactly that
//   warning and nothing else.
// - Bundlers (vite, in vitest) strip the `node:` prefix of builtins they know, and `sqlite` without
//   the prefix is not a builtin; `createRequire` keeps the load out of their hands.
import { createRequire } from "node:module";
import type * as SqliteModule from "node:sqlite";

let cached: typeof SqliteModule | undefined;

export function loadSqlite(): typeof SqliteModule {
  if (cached) return cached;
  const original = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const text = typeof warning === "string" ? warning : warning?.message;
    if (typeof text === "string" && text.includes("SQLite is an experimental feature")) return;
    return (original as (...a: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    cached = createRequire(import.meta.url)("node:sqlite") as typeof SqliteModule;
  } catch (err) {
    throw new Error(
      `Tally's local store needs node:sqlite (Node >= 22.13). This is Node ${process.versions.node}: ${(err as Error).message}`,
    );
  } finally {
    process.emitWarning = original;
  }
  return cached;
}

export type Database = SqliteModule.DatabaseSync;
export type Statement = SqliteModule.StatementSync;
export type SqlValue = null | number | bigint | string | Uint8Array;
