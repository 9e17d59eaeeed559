import { afterEach, describe, expect, it } from "vitest";
import { type Listening, listen, nodeListener } from "./node.js";
import { HttpError, Reply, Router, type HttpRequest } from "./router.js";

// The node adapter: a router's plain requests and responses over a real socket.

const router = new Router<HttpRequest>()
  .get("/hello/:name", (req) => ({ hello: req.path, q: req.query.get("q"), ua: req.headers["x-test"] }))
  .post("/echo", async (req) => new Reply(200, await req.body(), { "content-type": "text/plain" }))
  .get("/boom", () => {
    throw new HttpError(418, "teapot");
  });
const handle = async (req: HttpRequest) => (await router.dispatch(req, { context: (r) => r })).response;

let server: Listening | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("node adapter", () => {
  it("serves plain requests: path, query, lower-case headers, body on demand", async () => {
    server = await listen(nodeListener(handle));
    const got = await fetch(`${server.url}/hello/w%20x?q=1`, { headers: { "X-Test": "yes" } });
    expect(await got.json()).toEqual({ hello: "/hello/w%20x", q: "1", ua: "yes" });
    const echoed = await fetch(`${server.url}/echo`, { method: "POST", body: "abc" });
    expect([echoed.status, echoed.headers.get("content-type"), await echoed.text()]).toEqual([200, "text/plain", "abc"]);
    const boom = await fetch(`${server.url}/boom`);
    expect([boom.status, await boom.json()]).toEqual([418, { detail: "teapot" }]);
  });

  it("answers HEAD without a body, and refuses a body over the limit with 413", async () => {
    server = await listen(nodeListener(handle, { bodyLimitBytes: 4 }));
    const head = await fetch(`${server.url}/hello/a`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const big = await fetch(`${server.url}/echo`, { method: "POST", body: "too long" });
    expect(big.status).toBe(413);
  });

  it("closes once, however often asked", async () => {
    const s = await listen(nodeListener(handle), { port: 0 });
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await Promise.all([s.close(), s.close()]);
    await expect(fetch(`${s.url}/hello/a`)).rejects.toThrow();
  });
});
