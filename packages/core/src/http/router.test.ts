import { describe, expect, it } from "vitest";
import { qBool, qInt, qJsonObject, qList } from "./query.js";
import { HttpError, type HttpRequest, Reply, Router } from "./router.js";

describe("Router", () => {
  const h = (name: string) => () => name;
  const router = new Router<unknown>()
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

function request(method: string, path: string, body = ""): HttpRequest {
  const url = new URL(path, "http://x");
  return { method, path: url.pathname, query: url.searchParams, search: url.search, headers: {}, body: async () => Buffer.from(body) };
}

describe("Router.dispatch", () => {
  const router = new Router<{ id: string; req: HttpRequest }>()
    .get("/things/:id", (ctx) => ({ id: ctx.id }))
    .post("/things/:id", async (ctx) => new Reply(201, await ctx.req.body(), { "content-type": "text/csv" }))
    .get("/text", () => new Reply(200, "hello"))
    .delete("/things/:id", () => {
      throw new HttpError(409, "in use");
    });
  const opts = { context: (req: HttpRequest, route: { params: Record<string, string> }) => ({ id: route.params.id!, req }) };

  it("answers a value as 200 JSON and names the route", async () => {
    const { response, pattern } = await router.dispatch(request("GET", "/things/a%2Fb"), opts);
    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({ "content-type": "application/json", "content-length": String(response.body.length) });
    expect(JSON.parse(response.body.toString())).toEqual({ id: "a/b" });
    expect(pattern).toBe("/things/:id");
  });

  it("answers Replies: bytes with their own content-type, strings as text", async () => {
    const posted = (await router.dispatch(request("POST", "/things/x", "a,b"), opts)).response;
    expect([posted.status, posted.headers["content-type"], posted.body.toString()]).toEqual([201, "text/csv", "a,b"]);
    const text = (await router.dispatch(request("GET", "/text"), opts)).response;
    expect([text.headers["content-type"], text.body.toString()]).toEqual(["text/plain; charset=utf-8", "hello"]);
  });

  it("answers HEAD with the GET route", async () => {
    const { response } = await router.dispatch(request("HEAD", "/things/a"), opts);
    expect(response.status).toBe(200);
  });

  it("turns errors, unknown paths and wrong methods into {detail} answers, or what onError makes of them", async () => {
    const conflict = (await router.dispatch(request("DELETE", "/things/a"), opts)).response;
    expect([conflict.status, JSON.parse(conflict.body.toString())]).toEqual([409, { detail: "in use" }]);
    expect((await router.dispatch(request("GET", "/nope"), opts)).response.status).toBe(404);
    const wrong = (await router.dispatch(request("PUT", "/things/a"), opts)).response;
    expect([wrong.status, wrong.headers.allow]).toEqual([405, "GET, POST, DELETE"]);
    const custom = await router.dispatch(request("GET", "/nope"), {
      ...opts,
      onError: (err) => new Reply((err as HttpError).status, "<h1>gone</h1>"),
    });
    expect([custom.response.status, custom.response.body.toString(), custom.pattern]).toEqual([404, "<h1>gone</h1>", undefined]);
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
