import { describe, expect, it } from "vitest";
import { normalizeTime, nowIso, timeMs } from "./time.js";

describe("normalizeTime", () => {
  it.each([
    [1704067200123, "2024-01-01T00:00:00.123000Z"],
    [1704067200123.456, "2024-01-01T00:00:00.123456Z"],
    ["1704067200123", "2024-01-01T00:00:00.123000Z"],
    ["2024-01-01T00:00:00.123456Z", "2024-01-01T00:00:00.123456Z"],
    ["2024-01-01T00:00:00.123456", "2024-01-01T00:00:00.123456Z"], // Python's naive UTC
    ["2024-01-01 00:00:00", "2024-01-01T00:00:00.000000Z"],
    ["2024-01-01T00:00:00.1Z", "2024-01-01T00:00:00.100000Z"],
    ["2024-01-01T00:00:00.123456789Z", "2024-01-01T00:00:00.123456Z"],
    ["2024-01-01T02:00:00.123456+02:00", "2024-01-01T00:00:00.123456Z"],
    ["2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00.000000Z"],
    [new Date(1704067200000), "2024-01-01T00:00:00.000000Z"],
  ])("%s → %s", (input, expected) => {
    expect(normalizeTime(input)).toBe(expected);
  });

  it.each([null, undefined, "", "yesterday", Number.NaN, 1e20, {}])("%s → null", (input) => {
    expect(normalizeTime(input)).toBeNull();
  });

  it("sorts as text in time order", () => {
    const a = normalizeTime("2024-01-01T00:00:00.000999Z")!;
    const b = normalizeTime("2024-01-01T00:00:00.001Z")!;
    expect(a < b).toBe(true);
  });
});

describe("timeMs / nowIso", () => {
  it("keeps microseconds", () => {
    expect(timeMs("2024-01-01T00:00:00.123456Z")).toBeCloseTo(1704067200123.456, 3);
    expect(timeMs(null)).toBeNull();
  });

  it("nowIso is strictly increasing", () => {
    const seen = Array.from({ length: 1000 }, () => nowIso());
    for (let i = 1; i < seen.length; i++) expect(seen[i]! > seen[i - 1]!).toBe(true);
  });
});
