import http from "node:http";
import type { AddressInfo } from "node:net";
import * as zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BodyError, contentEncodings, parseJsonBody, readBody } from "./body.js";

// A server that echoes the decoded body, or the BodyError status, so readBody runs against real sockets.
let server: http.Server;
let url: string;
const LIMIT = 64 * 1024;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    readBody(req, LIMIT).then(
      (buf) => res.writeHead(200).end(buf),
      (err: unknown) => {
        const status = err instanceof BodyError ? err.status : 500;
        res.writeHead(status).end((err as Error).message);
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function post(body: BodyInit, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: "POST", body, headers, duplex: "half" } as RequestInit);
  return { status: res.status, text: await res.text() };
}

describe("readBody", () => {
  const payload = JSON.stringify({ hello: "world", n: [1, 2, 3] });

  it("returns a plain body", async () => {
    expect(await post(payload)).toEqual({ status: 200, text: payload });
  });

  it.each([
    ["gzip", zlib.gzipSync],
    ["deflate", zlib.deflateSync],
    ["deflate", zlib.deflateRawSync],
    ["br", zlib.brotliCompressSync],
  ] as const)("decodes Content-Encoding: %s", async (enc, fn) => {
    expect(await post(fn(Buffer.from(payload)), { "content-encoding": enc })).toEqual({ status: 200, text: payload });
  });

  it("decodes a streamed (chunked) gzip body, as the SDK sends it", async () => {
    const stream = new Blob([payload]).stream().pipeThrough(new CompressionStream("gzip"));
    expect(await post(stream, { "content-encoding": "gzip" })).toEqual({ status: 200, text: payload });
  });

  it("answers 413 for a raw body over the limit (declared or streamed)", async () => {
    expect((await post(Buffer.alloc(LIMIT + 1))).status).toBe(413);
    const chunked = new Blob([Buffer.alloc(LIMIT + 1)]).stream();
    expect((await post(chunked)).status).toBe(413);
  });

  it("answers 413 for a small gzip bomb", async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(LIMIT * 16));
    expect(bomb.length).toBeLessThan(LIMIT);
    const res = await post(bomb, { "content-encoding": "gzip" });
    expect(res.status).toBe(413);
  });

  it("answers 400 for a corrupt gzip body and 415 for an unknown coding", async () => {
    expect((await post("not gzip at all", { "content-encoding": "gzip" })).status).toBe(400);
    expect((await post(payload, { "content-encoding": "zstd" })).status).toBe(415);
  });

  it("keeps serving after errors", async () => {
    await post("garbage", { "content-encoding": "gzip" });
    expect((await post(payload)).status).toBe(200);
  });
});

describe("contentEncodings", () => {
  it("lists codings in applied order without identity", () => {
    expect(contentEncodings("gzip, identity, br")).toEqual(["gzip", "br"]);
    expect(contentEncodings(undefined)).toEqual([]);
  });
});

describe("parseJsonBody", () => {
  it("parses JSON and names the problem otherwise", () => {
    expect(parseJsonBody(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    expect(() => parseJsonBody(Buffer.from("{oops"))).toThrow(/not valid JSON/);
    expect(() => parseJsonBody(Buffer.alloc(0))).toThrow(/empty/);
    try {
      parseJsonBody(Buffer.from("{"));
    } catch (err) {
      expect((err as BodyError).status).toBe(422);
    }
  });
});
