import { expect, test } from "vitest";
import { objectHash } from "../identity/example-hash.js";
import { MAX_DEPTH, MAX_STRING_CHARS, toJsonSafe } from "./json-safe.js";

test("JSON-safe values pass unchanged, with no notes", () => {
  const v = { a: 1, b: "x", c: [true, null], d: { e: 10_000 } };
  expect(toJsonSafe(v)).toEqual({ value: v, notes: [] });
});

test("every value JSON cannot hold is converted, and each conversion is described with its path", () => {
  const circular: Record<string, unknown> = { name: "loop" };
  circular.self = circular;
  const { value, notes } = toJsonSafe({
    circular,
    big: 10n,
    sym: Symbol("s"),
    fn: function named() {},
    undef: undefined,
    map: new Map([["k", 1]]),
    set: new Set([1, 2]),
    date: new Date("2026-01-02T03:04:05.000Z"),
    buf: Buffer.from("hi"),
    err: new Error("boom"),
    lone: "a\uD800b",
  });
  expect(JSON.parse(JSON.stringify(value))).toMatchObject({
    circular: { name: "loop", self: "[Circular]" },
    big: "10",
    sym: "Symbol(s)",
    fn: "[Function named]",
    map: { k: 1 },
    set: [1, 2],
    date: "2026-01-02T03:04:05.000Z",
    buf: "aGk=",
    err: { name: "Error", message: "boom" },
    lone: "a\uFFFDb",
  });
  expect(value).not.toHaveProperty("undef");
  expect(notes.join("\n")).toContain('a circular reference recorded as "[Circular]" at $.circular.self');
  expect(notes).toHaveLength(5); // capped: the first five conversions
});

test("huge strings are cut and deep nesting is cut, both named", () => {
  const long = toJsonSafe({ text: "x".repeat(MAX_STRING_CHARS + 10) });
  expect((long.value as { text: string }).text).toMatch(/…\[truncated 10 characters\]$/);
  expect(long.notes[0]).toMatch(/a string of 4\.0 M characters cut to 4 M at \$\.text/);
  let deep: Record<string, unknown> = {};
  const root = deep;
  for (let i = 0; i < MAX_DEPTH + 50; i++) deep = (deep.next = {}) as Record<string, unknown>;
  expect(toJsonSafe(root).notes[0]).toMatch(/nesting deeper than 100 levels cut/);
});

test("the example hash ends on circular and very deep values, and ignores key order", () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  expect(objectHash(circular)).toMatch(/^[0-9a-f]{64}$/);
  expect(objectHash({ a: 1, b: 2 })).toBe(objectHash({ b: 2, a: 1 }));
});
