import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";

// The JSON report checked against the schema files the package ships (packages/core/schema), with a
// real JSON Schema validator: what a CI consumer of the report would do. Formats are checked as
// Date.parse reads them (no ajv-formats needed for the one format the schema uses). Tally writes
// version 2; version 1 (older reports, still merged) is checked against its own schema.

const schemaOf = (version: number) =>
  JSON.parse(
    readFileSync(join(import.meta.dirname, "..", "..", "packages", "core", "schema", `report.v${version}.json`), "utf8"),
  ) as object;
export const reportAjv = new Ajv2020({
  strict: true,
  allErrors: true,
  formats: { "date-time": (s: string) => !Number.isNaN(Date.parse(s)) },
});
/** The current schema (version 2). */
export const validateReportSchema = reportAjv.compile(schemaOf(2));
export const validateReportSchemaV1 = reportAjv.compile(schemaOf(1));

/** The schema's complaints about `report`, one line each (empty when it is valid); a version 1 report against v1's. */
export function validateReport(report: unknown): string[] {
  const v1 = typeof report === "object" && report !== null && (report as { version?: unknown }).version === 1;
  const validate = v1 ? validateReportSchemaV1 : validateReportSchema;
  if (validate(report)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`.trim());
}
