import { describe, expect, it } from "vitest";
import { compileRunFilter } from "./run-filter.js";

const run = {
  id: "r1",
  name: "extractor",
  run_type: "llm",
  status: "success",
  start_time: "2024-01-01T00:00:00.000000Z",
  end_time: "2024-01-01T00:00:03.000000Z",
  parent_run_id: null,
  tags: ["beta", "x"],
  error: null,
  inputs: { q: "Hello World" },
  extra: { metadata: { model: "gpt", temp: 0.2 } },
};

function test(filter: string): boolean {
  const { predicate, unsupported } = compileRunFilter(filter);
  if (!predicate) throw new Error(`unsupported: ${unsupported}`);
  return predicate(run);
}

describe("compileRunFilter", () => {
  it.each([
    ['eq(name, "extractor")', true],
    ["eq(name, 'other')", false],
    ['neq(run_type, "chain")', true],
    ["gt(latency, 2)", true],
    ["lte(latency, 2.5)", false],
    ['gte(start_time, "2023-12-31T23:59:59Z")', true],
    ['lt(end_time, "2024-01-01T00:00:01Z")', false],
    ['has(tags, "beta")', true],
    ['eq(tags, "nope")', false],
    ["eq(is_root, true)", true],
    ["eq(error, null)", true],
    ["neq(error, null)", false],
    ['and(eq(metadata_key, "model"), eq(metadata_value, "gpt"))', true],
    ['eq(metadata_key, "absent")', false],
    ['or(eq(name, "a"), and(eq(run_type, "llm"), not(has(tags, "z"))))', true],
    ['in(run_type, ["llm", "tool"])', true],
    ['search("hello world")', true],
  ])("%s → %s", (filter, expected) => {
    expect(test(filter)).toBe(expected);
  });

  it("reports what it does not support instead of guessing", () => {
    expect(compileRunFilter('eq(feedback_key, "x")').unsupported).toMatch(/unsupported field "feedback_key"/);
    expect(compileRunFilter('like(name, "x")').unsupported).toMatch(/unsupported filter function/);
    expect(compileRunFilter("eq(name, ").unsupported).toBeDefined();
    expect(compileRunFilter('eq(name, "x") trailing').unsupported).toBeDefined();
    expect(compileRunFilter("%%%").unsupported).toBeDefined();
    expect(compileRunFilter(undefined)).toEqual({});
    expect(compileRunFilter(5).unsupported).toMatch(/must be a string/);
  });
});
