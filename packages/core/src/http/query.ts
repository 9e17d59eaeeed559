// Query-string helpers for route handlers: a bad value is an HttpError 422 that names the parameter.
import { HttpError } from "./router.js";

/** Every non-empty value of a repeated parameter (`?id=a&id=b`), or undefined when there is none. */
export function qList(q: URLSearchParams, name: string): string[] | undefined {
  const all = q.getAll(name).filter((v) => v !== "");
  return all.length ? all : undefined;
}

export function qBool(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  throw new HttpError(422, `query parameter "${name}" must be true or false, got "${v}"`);
}

/** An integer clamped to [min, max]; `fallback` when absent. */
export function qInt(q: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const v = q.get(name);
  if (v === null || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new HttpError(422, `query parameter "${name}" must be an integer, got "${v}"`);
  return Math.min(max, Math.max(min, n));
}

/** A JSON object from a query parameter such as `metadata={"k":"v"}`. */
export function qJsonObject(q: URLSearchParams, name: string): Record<string, unknown> | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  try {
    const parsed = JSON.parse(v) as unknown;
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new HttpError(422, `query parameter "${name}" must be a JSON object`);
}
