import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import OpenAI from "openai";
import { expect, test } from "vitest";
import { startOpenAiStandin } from "../../../../test/support/model-standins.js";
import { createModelCache } from "./intercept.js";

const hooks = (calls: any[]) => ({
  runKey: "r1",
  currentTest: () => ({ id: "t1", name: "T" }),
  markSpan: (o: string) => calls.push(["span", o]),
  onCall: (id: any, c: any) => calls.push(["call", id, c]),
});

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name));
}

test("gzip", async () => {
  const server = createServer((req, res) => {
    console.log("accept-encoding", req.headers["accept-encoding"]);
    const body = gzipSync(JSON.stringify({ hello: "world" }));
    res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip", "content-length": body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as any).port;
  const dir = mkdtempSync(join(tmpdir(), "c-"));
  const calls: any[] = [];
  let cache = createModelCache({ mode: "auto", dir, hosts: [`127.0.0.1:${port}`], maxEntryBytes: 1e6 });
  cache.attach(hooks(calls));
  const r1 = await fetch(`http://127.0.0.1:${port}/x`, { method: "POST", body: "{}" });
  console.log("r1", await r1.text());
  await cache.settled();
  console.log(calls);
  for (const f of files(dir)) console.log(f, readFileSync(f, "utf8"));
  cache.dispose();
  cache = createModelCache({ mode: "replay", dir, hosts: [`127.0.0.1:${port}`], maxEntryBytes: 1e6 });
  cache.attach(hooks(calls));
  const r2 = await fetch(`http://127.0.0.1:${port}/x`, { method: "POST", body: "{}" });
  console.log("r2", r2.headers, await r2.text().catch((e) => `ERR ${e}`));
  cache.dispose();
  server.close();
});

test("abandoned stream", async () => {
  const s = await startOpenAiStandin();
  const dir = mkdtempSync(join(tmpdir(), "c-"));
  const calls: any[] = [];
  const cache = createModelCache({ mode: "auto", dir, hosts: [`127.0.0.1:${s.port}`], maxEntryBytes: 1e6 });
  cache.attach(hooks(calls));
  const client = new OpenAI({ apiKey: "k", baseURL: s.url, maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hello there long text" }], stream: true });
  for await (const c of stream) { console.log("chunk", JSON.stringify(c.choices[0]?.delta)); break; }
  const r = await Promise.race([cache.settled().then(() => "settled"), new Promise((r) => setTimeout(() => r("timeout"), 2000))]);
  console.log("settled?", r, calls);
  console.log(files(dir));
  cache.dispose();
  await s.close();
});
