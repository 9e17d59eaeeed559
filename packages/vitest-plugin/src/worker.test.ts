import { describe, expect, it } from "vitest";
import { filepathOf } from "./worker.js";

describe("filepathOf (the file an afterAll acks)", () => {
  it("reads the file of the suite Vitest passes, or the file itself (a file is a suite)", () => {
    expect(filepathOf([{ type: "suite", file: { filepath: "/p/a.test.ts" } }])).toBe("/p/a.test.ts");
    expect(filepathOf([{ type: "suite", filepath: "/p/b.test.ts" }])).toBe("/p/b.test.ts");
    expect(filepathOf([{ fixtures: true }, { type: "suite", filepath: "/p/c.test.ts" }])).toBe("/p/c.test.ts");
  });

  it("says so when no suite came", () => {
    expect(filepathOf([])).toBe("unknown file");
    expect(filepathOf([{ type: "test", filepath: "/p/x.test.ts" }])).toBe("unknown file");
  });
});
