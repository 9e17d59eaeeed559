import { describe, expect, it } from "vitest";
import { HttpError, Router, qBool, qInt, qJsonObject, qList } from "./router.js";

describe("Router", () => {
  const h = (name: string) => () => name;
  const router = new Router()
    .get("/examples/:id", h("one"))
    .post("/examples/bulk", h("bulk"))
    .patch("/examples/bulk", h("patch-bulk"))
    .patch("/examples/:id", h("patch-one"))
    .get("/datasets/:id/versions", h("versions"));

  it("captures params and prefers literal segments", () => {
    const m = router.match("GET", "/examples/abc");
    expect(m.kind === "found" && m.params).toEqual({ id: "abc" });
    const bulk = router.match("PATCH", "/examples/bulk");
    expect(bulk.kind === "found" && bulk.pattern).toBe("/examples/bulk");
    const one = router.match("PATCH", "/examples/xyz");
    expect(one.kind === "found" && one.pattern).toBe("/examples/:id");
  });

  it("ignores trailing slashes and decodes params", () => {
    const m = router.match("GET", "/datasets/a%20b/versions/");
    expect(m.kind === "found" && m.params.id).toBe("a b");
  });

  it("tells a wrong method from an unknown path", () => {
    expect(router.match("DELETE", "/examples/bulk")).toEqual({ kind: "wrong-method", allowed: ["GET", "POST", "PATCH"] });
    expect(router.match("GET", "/nope")).toEqual({ kind: "none" });
    expect(router.match("GET", "/examples/%E0%A4%A")).toEqual({ kind: "none" });
  });
});

describe("query helpers", () => {
  const q = new URLSearchParams("id=a&id=b&flag=true&bad=maybe&n=5&meta=%7B%22k%22%3A1%7D&empty=");
  it("parse lists, booleans, ints and JSON objects", () => {
    expect(qList(q, "id")).toEqual(["a", "b"]);
    expect(qList(q, "empty")).toBeUndefined();
    expect(qBool(q, "flag")).toBe(true);
    expect(qBool(q, "missing")).toBeUndefined();
    expect(() => qBool(q, "bad")).toThrow(HttpError);
    expect(qInt(q, "n", 1, 0, 3)).toBe(3);
    expect(() => qInt(q, "id", 1, 0, 3)).toThrow(/integer/);
    expect(qJsonObject(q, "meta")).toEqual({ k: 1 });
    expect(() => qJsonObject(q, "id")).toThrow(/JSON object/);
  });
});
