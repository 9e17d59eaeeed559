import { describe, expect, it } from "vitest";
import { NAMESPACE_DNS, NAMESPACE_URL, isUuid, uuid4, uuid5, uuid7 } from "./ids.js";

describe("ids", () => {
  it("uuid5 matches the RFC 4122 / python uuid reference values", () => {
    expect(uuid5("www.example.com", NAMESPACE_DNS)).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
    expect(uuid5("python.org", NAMESPACE_DNS)).toBe("886313e1-3b8a-5372-9b90-0c9aee199e5d");
    expect(uuid5("http://python.org/", NAMESPACE_URL)).toBe("4c565f0d-3f5a-5890-b41b-20cf47701c5e");
  });

  it("uuid5 hashes strings as UTF-8, like the uuid package", () => {
    expect(uuid5("é", NAMESPACE_URL)).toBe(uuid5(Buffer.from("é", "utf8"), NAMESPACE_URL));
  });

  it("uuid5 rejects a namespace that is not a uuid", () => {
    expect(() => uuid5("x", "nope")).toThrow(/not a uuid/);
  });

  it("uuid4 and uuid7 are well-formed and carry their version", () => {
    const a = uuid4();
    const b = uuid7();
    expect(isUuid(a) && a[14] === "4").toBe(true);
    expect(isUuid(b) && b[14] === "7").toBe(true);
    expect(["8", "9", "a", "b"]).toContain(b[19]);
  });

  it("uuid7 sorts by time", () => {
    const early = uuid7(1_700_000_000_000);
    const late = uuid7(1_700_000_000_001);
    expect(early < late).toBe(true);
    expect(early.slice(0, 13)).toBe("018bcfe5-6800");
  });

  it("isUuid accepts any version and case, rejects everything else", () => {
    expect(isUuid("6BA7B810-9DAD-11D1-80B4-00C04FD430C8")).toBe(true);
    expect(isUuid("6ba7b810-9dad-11d1-80b4-00c04fd430c")).toBe(false);
    expect(isUuid("6ba7b8109dad11d180b400c04fd430c8")).toBe(false);
    expect(isUuid(42)).toBe(false);
    expect(isUuid(undefined)).toBe(false);
  });
});
