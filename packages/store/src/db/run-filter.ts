// A subset of LangSmith's run filter language (`and(eq(run_type, "llm"), gt(latency, 2))`), applied
// to materialised runs. A filter using anything outside the subset is reported as unsupported and
// the caller ignores it, rather than guessing and hiding runs.
import { normalizeTime, timeMs } from "./time.js";

type Value = string | number | boolean | null | Value[];
type Node = { fn: string; args: Arg[] };
type Arg = Node | { ident: string } | { value: Value };
export type RunPredicate = (run: Record<string, unknown>) => boolean;

class FilterSyntaxError extends Error {}

function tokenize(src: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(?:("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(-?\d+(?:\.\d+)?(?![\w.]))|([A-Za-z_][\w.]*)|([(),[\]]))/y;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(src);
    if (!m) throw new FilterSyntaxError(`unexpected character at ${pos}`);
    tokens.push(m[1] ?? m[2] ?? m[3] ?? m[4]!);
    pos = re.lastIndex;
  }
  return tokens;
}

function parse(src: string): Node {
  const tokens = tokenize(src);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => {
    const t = tokens[i++];
    if (t === undefined) throw new FilterSyntaxError("unexpected end of filter");
    return t;
  };
  const expect = (t: string) => {
    if (next() !== t) throw new FilterSyntaxError(`expected "${t}"`);
  };
  const literal = (t: string): Value | undefined => {
    if (t.startsWith('"') || t.startsWith("'")) return t.slice(1, -1).replace(/\\(.)/g, "$1");
    if (/^-?\d/.test(t)) return Number(t);
    if (t === "true" || t === "false") return t === "true";
    if (t === "null" || t === "None") return null;
    return undefined;
  };
  const arg = (): Arg => {
    const t = next();
    if (t === "[") {
      const items: Value[] = [];
      while (peek() !== "]") {
        const v = literal(next());
        if (v === undefined) throw new FilterSyntaxError("list items must be literals");
        items.push(v);
        if (peek() === ",") i++;
      }
      i++;
      return { value: items };
    }
    const lit = literal(t);
    if (lit !== undefined) return { value: lit };
    if (peek() === "(") {
      i--;
      return call();
    }
    return { ident: t };
  };
  const call = (): Node => {
    const fn = next();
    expect("(");
    const args: Arg[] = [];
    while (peek() !== ")") {
      args.push(arg());
      if (peek() === ",") i++;
      else if (peek() !== ")") throw new FilterSyntaxError(`expected "," or ")" after argument of ${fn}`);
    }
    i++;
    return { fn: fn.toLowerCase(), args };
  };
  const root = call();
  if (i !== tokens.length) throw new FilterSyntaxError("trailing input after filter");
  return root;
}

const TIME_FIELDS = new Set(["start_time", "end_time"]);
const FIELDS = new Set([
  "id",
  "name",
  "run_type",
  "status",
  "trace_id",
  "parent_run_id",
  "reference_example_id",
  "session_id",
  "start_time",
  "end_time",
  "latency",
  "tags",
  "error",
  "is_root",
  "total_tokens",
  "metadata_key",
  "metadata_value",
]);

function fieldValue(run: Record<string, unknown>, field: string): unknown {
  switch (field) {
    case "latency": {
      const s = timeMs(run.start_time as string);
      const e = timeMs(run.end_time as string);
      return s !== null && e !== null ? (e - s) / 1000 : null;
    }
    case "is_root":
      return run.parent_run_id === null || run.parent_run_id === undefined;
    default:
      return run[field] ?? null;
  }
}

function compare(a: unknown, b: Value, field: string): number | null {
  if (TIME_FIELDS.has(field)) {
    const x = normalizeTime(a);
    const y = normalizeTime(b);
    if (!x || !y) return null;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return null;
}

function metadataOf(run: Record<string, unknown>): Record<string, unknown> {
  const extra = run.extra as Record<string, unknown> | null | undefined;
  const m = extra?.metadata;
  return typeof m === "object" && m !== null ? (m as Record<string, unknown>) : {};
}

function compile(node: Node): RunPredicate {
  const sub = (a: Arg): RunPredicate => {
    if (!("fn" in a)) throw new FilterSyntaxError(`expected a condition inside ${node.fn}()`);
    return compile(a);
  };
  const fieldAndValue = (): [string, Value] => {
    const [f, v] = node.args;
    if (node.args.length !== 2 || !f || !v || !("ident" in f) || !("value" in v)) {
      throw new FilterSyntaxError(`${node.fn}() takes a field and a value`);
    }
    if (!FIELDS.has(f.ident)) throw new FilterSyntaxError(`unsupported field "${f.ident}"`);
    return [f.ident, v.value];
  };
  switch (node.fn) {
    case "and": {
      const subs = node.args.map(sub);
      return (r) => subs.every((p) => p(r));
    }
    case "or": {
      const subs = node.args.map(sub);
      return (r) => subs.some((p) => p(r));
    }
    case "not": {
      if (node.args.length !== 1) throw new FilterSyntaxError("not() takes one condition");
      const p = sub(node.args[0]!);
      return (r) => !p(r);
    }
    case "eq":
    case "neq": {
      const [field, value] = fieldAndValue();
      const negate = node.fn === "neq";
      let test: RunPredicate;
      if (field === "metadata_key") test = (r) => Object.hasOwn(metadataOf(r), String(value));
      else if (field === "metadata_value") test = (r) => Object.values(metadataOf(r)).some((v) => v === value);
      else if (field === "tags") test = (r) => Array.isArray(r.tags) && r.tags.includes(value);
      else
        test = (r) => {
          const actual = fieldValue(r, field);
          if (value === null) return actual === null;
          const c = compare(actual, value, field);
          return c === null ? actual === value : c === 0;
        };
      return negate ? (r) => !test(r) : test;
    }
    case "gt":
    case "gte":
    case "lt":
    case "lte": {
      const [field, value] = fieldAndValue();
      const ok = { gt: (c: number) => c > 0, gte: (c: number) => c >= 0, lt: (c: number) => c < 0, lte: (c: number) => c <= 0 }[node.fn];
      return (r) => {
        const c = compare(fieldValue(r, field), value, field);
        return c !== null && ok(c);
      };
    }
    case "has": {
      const [field, value] = fieldAndValue();
      return (r) => {
        const v = fieldValue(r, field);
        return Array.isArray(v) ? v.includes(value) : field === "metadata_key" ? Object.hasOwn(metadataOf(r), String(value)) : false;
      };
    }
    case "in": {
      const [field, value] = fieldAndValue();
      if (!Array.isArray(value)) throw new FilterSyntaxError("in() takes a list");
      return (r) => value.includes(fieldValue(r, field) as Value);
    }
    case "search": {
      const [q] = node.args;
      if (node.args.length !== 1 || !q || !("value" in q) || typeof q.value !== "string")
        throw new FilterSyntaxError("search() takes a string");
      const needle = q.value.toLowerCase();
      return (r) => JSON.stringify([r.name, r.inputs, r.outputs, r.error]).toLowerCase().includes(needle);
    }
    default:
      throw new FilterSyntaxError(`unsupported filter function "${node.fn}"`);
  }
}

/** Compiles a filter string; `unsupported` explains why a filter will be ignored. */
export function compileRunFilter(src: unknown): { predicate?: RunPredicate; unsupported?: string } {
  if (src === null || src === undefined || src === "") return {};
  if (typeof src !== "string") return { unsupported: "filter must be a string" };
  if (!src.trim()) return {};
  try {
    return { predicate: compile(parse(src)) };
  } catch (err) {
    if (err instanceof FilterSyntaxError) return { unsupported: err.message };
    throw err;
  }
}
