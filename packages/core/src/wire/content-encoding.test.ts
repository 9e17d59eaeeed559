import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { BodyError } from "./body-error.js";
import { checkEncodings, decodeContent, encodeContent, ZSTD_AVAILABLE } from "./content-encoding.js";

const LIMIT = 1024 * 1024;
const json = Buffer.from(JSON.stringify({ post: [{ id: "x", inputs: { q: "how long do I have to return a grinder?" } }] }));

async function status(p: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BodyError);
    return { status: (err as BodyError).status, message: (err as BodyError).message };
  }
  throw new Error("expected a BodyError");
}

describe("decodeContent", () => {
  it("runs on a Node with zstd (the repository's Node 24)", () => {
    expect(ZSTD_AVAILABLE).toBe(true);
  });

  it("undoes zstd and gzip, one and several frames or members", async () => {
    expect(await decodeContent(zlib.zstdCompressSync(json), ["zstd"], LIMIT)).toEqual(json);
    expect(await decodeContent(zlib.gzipSync(json), ["gzip"], LIMIT)).toEqual(json);
    // Node's decoder alone would return only "ab" here.
    const twoFrames = Buffer.concat([zlib.zstdCompressSync("ab"), zlib.zstdCompressSync("cd")]);
    expect((await decodeContent(twoFrames, ["zstd"], LIMIT)).toString()).toBe("abcd");
    expect((await decodeContent(Buffer.concat([zlib.gzipSync("ab"), zlib.gzipSync("cd")]), ["gzip"], LIMIT)).toString()).toBe("abcd");
  });

  it("undoes stacked codings from last to first", async () => {
    const body = zlib.gzipSync(zlib.zstdCompressSync(json));
    expect(await decodeContent(body, ["zstd", "gzip"], LIMIT)).toEqual(json);
  });

  it("answers 400 for a truncated or trailing-garbage zstd body, which Node would partly accept", async () => {
    const big = zlib.zstdCompressSync(Buffer.from(JSON.stringify({ text: "lorem ipsum ".repeat(50_000) })));
    const cut = await status(decodeContent(big.subarray(0, big.length - 10), ["zstd"], LIMIT));
    expect(cut).toEqual({
      status: 400,
      message: expect.stringMatching(/^could not decode zstd request body: the body ends inside a block/),
    });
    const trailing = await status(decodeContent(Buffer.concat([zlib.zstdCompressSync(json), Buffer.from("junk")]), ["zstd"], LIMIT));
    expect(trailing).toEqual({ status: 400, message: expect.stringMatching(/not a zstd frame at byte \d+/) });
    expect((await status(decodeContent(Buffer.from("not zstd at all"), ["zstd"], LIMIT))).status).toBe(400);
    expect((await status(decodeContent(Buffer.alloc(0), ["zstd"], LIMIT))).message).toMatch(/no zstd frame/);
  });

  it("answers 400 for a corrupt zstd block inside a well-formed frame", async () => {
    const body = Buffer.from(zlib.zstdCompressSync(Buffer.from("abc".repeat(10_000) + "xyz".repeat(10_000))));
    // Scramble the compressed block's payload, keeping the frame and block headers intact.
    for (let i = 12; i < body.length - 2; i++) body[i] = body[i]! ^ 0x5a;
    expect((await status(decodeContent(body, ["zstd"], LIMIT))).status).toBe(400);
  });

  it("answers 400 for a truncated gzip body", async () => {
    const gz = zlib.gzipSync(json);
    expect(await status(decodeContent(gz.subarray(0, gz.length - 4), ["gzip"], LIMIT))).toEqual({
      status: 400,
      message: expect.stringMatching(/^could not decode gzip request body/),
    });
  });

  it("answers 413 for small zstd and gzip bombs, and across frames", async () => {
    const zeros = Buffer.alloc(LIMIT * 8);
    expect((await status(decodeContent(zlib.zstdCompressSync(zeros), ["zstd"], LIMIT))).status).toBe(413);
    expect((await status(decodeContent(zlib.gzipSync(zeros), ["gzip"], LIMIT))).status).toBe(413);
    const half = zlib.zstdCompressSync(Buffer.alloc(LIMIT / 2 + 1));
    expect((await status(decodeContent(Buffer.concat([half, half]), ["zstd"], LIMIT))).status).toBe(413);
  });
});

describe("checkEncodings", () => {
  it("takes every coding the SDKs use", () => {
    expect(() => checkEncodings(["zstd", "gzip", "x-gzip", "deflate", "br"])).not.toThrow();
  });

  it("answers 415 for zstd on a Node without it, saying what to do", () => {
    let err: unknown;
    try {
      checkEncodings(["zstd"], false);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BodyError);
    expect(err).toMatchObject({ status: 415, message: expect.stringMatching(/zstd needs Node ≥ 22\.15 \(this is v[\d.]+\); send gzip/) });
    expect(() => checkEncodings(["gzip"], false)).not.toThrow();
  });

  it("answers 415 for an unknown coding", () => {
    expect(() => checkEncodings(["compress"])).toThrow(/unsupported Content-Encoding: compress/);
  });
});

describe("encodeContent", () => {
  it("compresses so that the decoder gives back the same bytes", async () => {
    const body = Buffer.from(JSON.stringify({ text: "the same words again and again ".repeat(1000) }));
    for (const enc of ["zstd", "gzip"] as const) {
      const wire = await encodeContent(body, enc);
      expect(wire.length, enc).toBeLessThan(body.length / 10);
      expect(await decodeContent(wire, [enc], LIMIT)).toEqual(body);
    }
  });
});
