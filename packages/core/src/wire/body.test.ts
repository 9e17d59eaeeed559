import http from "node:http";
import type { AddressInfo } from "node:net";
import { Duplex } from "node:stream";
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
    ["zstd", zlib.zstdCompressSync],
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

  it("decodes a streamed (chunked) zstd body, as langsmith 0.12 builds it", async () => {
    const stream = new Blob([payload])
      .stream()
      .pipeThrough(Duplex.toWeb(zlib.createZstdCompress()) as ReadableWritablePair<Uint8Array, Uint8Array>);
    expect(await post(stream, { "content-encoding": "zstd" })).toEqual({ status: 200, text: payload });
  });

  it("answers 413 for a small zstd bomb", async () => {
    const bomb = zlib.zstdCompressSync(Buffer.alloc(LIMIT * 16));
    expect(bomb.length).toBeLessThan(LIMIT);
    expect((await post(bomb, { "content-encoding": "zstd" })).status).toBe(413);
  });

  it("answers 400 for a corrupt gzip or zstd body, a truncated zstd body, and 415 for an unknown coding", async () => {
    expect((await post("not gzip at all", { "content-encoding": "gzip" })).status).toBe(400);
    expect(await post("not zstd at all", { "content-encoding": "zstd" })).toEqual({
      status: 400,
      text: expect.stringMatching(/could not decode zstd request body: not a zstd frame/),
    });
    const zst = zlib.zstdCompressSync(Buffer.from(payload.repeat(100)));
    expect((await post(zst.subarray(0, zst.length - 3), { "content-encoding": "zstd" })).status).toBe(400);
    expect((await post(payload, { "content-encoding": "compress" })).status).toBe(415);
  });

  it("reports the wire and decoded sizes", async () => {
    const seen: Array<{ wire: number; decoded: number }> = [];
    const s = http.createServer((req, res) => {
      readBody(req, LIMIT, (sizes) => seen.push(sizes)).then(() => res.writeHead(204).end());
    });
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    try {
      const body = zlib.zstdCompressSync(Buffer.from(payload.repeat(50)));
      await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/`, {
        method: "POST",
        body,
        headers: { "content-encoding": "zstd" },
      });
      expect(seen).toEqual([{ wire: body.length, decoded: payload.length * 50 }]);
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
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
