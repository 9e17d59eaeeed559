// `pnpm compat`: writes the README's compatibility table from the outcomes the last run of the e2e
// matrix recorded (.vitest-reports/compat/). Refuses when a case has no record or was recorded with
// other versions than the ones installed now.
import { JEST_CASES, VITEST_CASES } from "../support/matrix-cases.ts";
import { readCompatRecords, renderCompatTable, writeReadmeTable } from "../support/compat.ts";

const table = renderCompatTable([...VITEST_CASES, ...JEST_CASES], readCompatRecords());
writeReadmeTable(table);
console.log(table);
