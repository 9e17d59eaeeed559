import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { describe, expect, test } from "vitest";
import { REPO } from "../support/run-vitest.js";

// "Only the import changes": every name that langsmith's own entry points export (values and types,
// read from the type declarations of the langsmith this workspace installs, 0.12 today) must be
// exported by Tally's entry under the same kind. A new export upstream fails here until Tally has it.

interface ExportList {
  values: string[];
  types: string[];
}

function exportsOfDeclarations(file: string): ExportList {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`no module symbol for ${file}`);
  const values: string[] = [];
  const types: string[] = [];
  for (const sym of checker.getExportsOfModule(moduleSymbol)) {
    const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
    (target.flags & ts.SymbolFlags.Value ? values : types).push(sym.name);
  }
  return { values: values.sort(), types: types.sort() };
}

/** The declaration file a specifier resolves to from the repo root, as ESM (`import`) or CJS (`require`). */
function declarationsOf(specifier: string, mode: "import" | "require"): string {
  const from = join(REPO, mode === "import" ? "resolve-from.mts" : "resolve-from.cts");
  const r = ts.resolveModuleName(
    specifier,
    from,
    { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
    ts.sys,
  );
  const file = r.resolvedModule?.resolvedFileName;
  if (!file) throw new Error(`cannot resolve the declarations of ${specifier} (${mode})`);
  return file;
}

const langsmithVersion: string = createRequire(join(REPO, "package.json"))("langsmith/package.json").version;

const TALLY_VITEST = pathToFileURL(join(REPO, "packages/vitest-plugin/dist/index.js")).href;

const cases = [
  { official: "langsmith/vitest", mode: "import", tally: "packages/vitest-plugin/dist/index.d.ts", wrapper: "wrapVitest" },
  { official: "langsmith/jest", mode: "require", tally: "packages/jest-preset/dist/index.d.ts", wrapper: "wrapJest" },
] as const;

describe(`the ls API exports every name of langsmith ${langsmithVersion}`, () => {
  test.each(cases)("$official → $tally", ({ official, mode, tally, wrapper }) => {
    const theirs = exportsOfDeclarations(declarationsOf(official, mode));
    const ours = exportsOfDeclarations(join(REPO, tally));
    // The lists are not empty by accident (a resolution to the wrong file would make this vacuous).
    expect(theirs.values).toEqual(expect.arrayContaining(["test", "describe", "expect", wrapper]));
    expect({ missingValues: theirs.values.filter((n) => !ours.values.includes(n)) }).toEqual({ missingValues: [] });
    expect({ missingTypes: theirs.types.filter((n) => !ours.types.includes(n) && !ours.values.includes(n)) }).toEqual({ missingTypes: [] });
  });

  test("the runtime module exports the same values as langsmith/vitest's", async () => {
    const theirs = Object.keys(await import("langsmith/vitest")).sort();
    const ours = Object.keys(await import(TALLY_VITEST)).sort();
    expect(theirs.filter((n) => !ours.includes(n))).toEqual([]);
  });

  test("wrapVitest binds the API to the runner it is given, and says what is missing", async () => {
    const { wrapVitest } = await import(TALLY_VITEST);
    const calls: string[] = [];
    const fake = Object.fromEntries(
      ["expect", "it", "test", "describe", "beforeAll", "afterAll"].map((n) => [
        n,
        (...args: unknown[]) => void calls.push(`${n}:${String(args[0])}`),
      ]),
    );
    const api = wrapVitest(fake);
    expect(Object.keys(api).sort()).toEqual(["describe", "expect", "it", "logFeedback", "logOutputs", "test", "wrapEvaluator"]);
    api.describe("ds", () => {});
    expect(calls).toEqual(["describe:ds"]);
    expect(() => wrapVitest({ ...fake, beforeAll: undefined })).toThrow(/wrapVitest\(\) has no `beforeAll` function/);
    expect(() => wrapVitest(null as never)).toThrow(/wrapVitest\(\) takes the runner's methods/);
  });
});
