import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";

// The JSON report checked against the schema file the package ships (packages/core/schema), with a
// real JSON Schema validator: what a CI consumer of the report would do. Formats are checked as
// Date.parse reads them (no ajv-formats needed for the one format the schema uses).

const schema = JSON.parse(
  readFileSync(join(import.meta.dirname, "..", "..", "packages", "core", "schema", "report.v1.json"), "utf8"),
) as object;
export const reportAjv = new Ajv2020({
  strict: true,
  allErrors: true,
  formats: { "date-time": (s: string) => !Number.isNaN(Date.parse(s)) },
});
export const validateReportSchema = reportAjv.compile(schema);

/** The schema's complaints about `report`, one line each (empty when it is valid). */
export function validateReport(report: unknown): string[] {
  if (validateReportSchema(report)) return [];
  return (validateReportSchema.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`.trim());
}
