// A test's inputs, reference outputs and outputs become JSON on their way to the backend (example,
// run, spool). Whatever JSON cannot hold faithfully is converted here, once, in the worker, and each
// conversion is described so the test can be named in a message: nothing fails later, silently, in
// a serializer that has lost track of which test the value came from.

/** Strings longer than this are cut: a backend refuses runs of tens of megabytes. */
export const MAX_STRING_CHARS = 4 * 1024 * 1024;
/** Deeper than this is cut (and a runaway recursion is impossible). */
export const MAX_DEPTH = 100;
const MAX_NOTES = 5;

export interface JsonSafe<T = unknown> {
  value: T;
  /** What was converted, with where (`$.a.b`): empty when the value was JSON-safe already. */
  notes: string[];
}

export function toJsonSafe<T = unknown>(value: unknown): JsonSafe<T> {
  const notes = new Set<string>();
  const note = (path: string, what: string) => {
    if (notes.size < MAX_NOTES) notes.add(`${what} at ${path}`);
  };
  const ancestors: object[] = [];

  const walk = (v: unknown, path: string, depth: number): unknown => {
    switch (typeof v) {
      case "string":
        return safeString(v, path, note);
      case "number":
        if (!Number.isFinite(v)) note(path, `${v} recorded as null`);
        return Number.isFinite(v) ? v : null;
      case "boolean":
        return v;
      case "bigint":
        note(path, "a BigInt recorded as a string");
        return v.toString();
      case "symbol":
        note(path, "a Symbol recorded as its description");
        return v.toString();
      case "function":
        note(path, "a function recorded as its name");
        return `[Function ${v.name || "anonymous"}]`;
      case "undefined":
        return undefined;
    }
    if (v === null) return null;
    const obj = v as object;
    if (ancestors.includes(obj)) {
      note(path, 'a circular reference recorded as "[Circular]"');
      return "[Circular]";
    }
    if (depth >= MAX_DEPTH) {
      note(path, `nesting deeper than ${MAX_DEPTH} levels cut`);
      return "[Truncated: too deep]";
    }
    if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
    if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) {
      const bytes = obj instanceof ArrayBuffer ? new Uint8Array(obj) : new Uint8Array(obj.buffer, obj.byteOffset, obj.byteLength);
      note(path, `${bytes.length} bytes of binary recorded as base64`);
      return safeString(Buffer.from(bytes).toString("base64"), path, note);
    }
    ancestors.push(obj);
    try {
      if (obj instanceof Error) {
        return {
          name: obj.name,
          message: walk(obj.message, `${path}.message`, depth + 1),
          stack: walk(obj.stack, `${path}.stack`, depth + 1),
        };
      }
      if (obj instanceof Map) {
        note(path, "a Map recorded as an object");
        const out: Record<string, unknown> = {};
        for (const [k, item] of obj) out[String(k)] = walk(item, `${path}.${String(k)}`, depth + 1);
        return out;
      }
      if (obj instanceof Set) {
        note(path, "a Set recorded as an array");
        return [...obj].map((item, i) => walk(item, `${path}[${i}]`, depth + 1));
      }
      if (Array.isArray(obj)) return obj.map((item, i) => walk(item, `${path}[${i}]`, depth + 1) ?? null);
      if (typeof (obj as { toJSON?: unknown }).toJSON === "function") {
        return walk((obj as { toJSON(): unknown }).toJSON(), path, depth + 1);
      }
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(obj)) {
        const safe = walk(item, `${path}.${k}`, depth + 1);
        if (safe !== undefined) out[k] = safe;
      }
      return out;
    } finally {
      ancestors.pop();
    }
  };
  return { value: walk(value, "$", 0) as T, notes: [...notes] };
}

function safeString(s: string, path: string, note: (path: string, what: string) => void): string {
  let out = s;
  if (out.length > MAX_STRING_CHARS) {
    note(path, `a string of ${(out.length / 1048576).toFixed(1)} M characters cut to ${MAX_STRING_CHARS / 1048576} M`);
    out = `${out.slice(0, MAX_STRING_CHARS)}…[truncated ${s.length - MAX_STRING_CHARS} characters]`;
  }
  // String.prototype.toWellFormed (Node 20+), typed by hand: the project's lib is ES2023.
  const wellFormed = (out as unknown as { toWellFormed(): string }).toWellFormed();
  if (wellFormed !== out) {
    note(path, "lone UTF-16 surrogates replaced by U+FFFD");
    out = wellFormed;
  }
  return out;
}
