import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { compatRow, README, readmeCompatRows } from "../support/compat.js";
import { JEST_CASES, VITEST_CASES } from "../support/matrix-cases.js";

// The README's compatibility table is generated (`pnpm compat`) from the matrix's recorded outcomes.
// This keeps it from drifting: its rows must be exactly the matrix cases, with the versions that the
// matrix packages install today, each with a passing result.
test("the README's compatibility table lists the matrix as it runs now", () => {
  const rows = readmeCompatRows(readFileSync(README, "utf8"));
  const expected = [...VITEST_CASES, ...JEST_CASES].map(compatRow);
  expect(
    rows.map((r) => r.slice(0, -1)),
    "regenerate it: run the e2e matrix, then `pnpm compat`",
  ).toEqual(expected);
  for (const r of rows) expect(r.at(-1), r.join(" | ")).toMatch(/^✓ \d+\/\d+ runs delivered$/);
});
