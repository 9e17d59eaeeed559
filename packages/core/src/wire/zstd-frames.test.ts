import { randomBytes } from "node:crypto";
import * as zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { ZstdFrameError, zstdFrames } from "./zstd-frames.js";

// Frames made by Node's own zstd encoder, in the shapes clients send: one-shot, streamed in chunks
// (many blocks, as the SDK's CompressedRunBuffer writes one run at a time), with and without a checksum.

const zstd = (buf: Buffer, params: Record<number, number> = {}) => zlib.zstdCompressSync(buf, { params });

/** Text, random bytes (raw blocks) and zeros (RLE blocks): every block type a real body has. */
function mixed(): Buffer {
  return Buffer.concat([Buffer.from('{"run": "text that compresses", '.repeat(20_000)), randomBytes(300_000), Buffer.alloc(400_000)]);
}

function streamed(chunks: Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const enc = zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_compressionLevel]: 1 } });
    enc.on("data", (c: Buffer) => out.push(c));
    enc.on("end", () => resolve(Buffer.concat(out)));
    enc.on("error", reject);
    for (const c of chunks) enc.write(c);
    enc.end();
  });
}

describe("zstdFrames", () => {
  it("finds the one frame of a one-shot body, with and without a content checksum", () => {
    const data = mixed();
    for (const body of [zstd(data), zstd(data, { [zlib.constants.ZSTD_c_checksumFlag]: 1 })]) {
      const frames = zstdFrames(body);
      expect(frames).toHaveLength(1);
      expect(frames[0]!.length).toBe(body.length);
    }
  });

  it("walks a streamed body of many blocks to its exact end", async () => {
    const data = mixed();
    const body = await streamed([data.subarray(0, 100_000), data.subarray(100_000, 700_000), data.subarray(700_000)]);
    const frames = zstdFrames(body);
    // Node's stream ends a body written in several chunks with a second, empty frame (measured on 24.9).
    expect(frames.reduce((n, f) => n + f.length, 0)).toBe(body.length);
    // equals(), not toEqual(): a deep diff of a 1.3 MB buffer takes seconds.
    expect(Buffer.concat(frames.map((f) => zlib.zstdDecompressSync(f))).equals(data)).toBe(true);
  });

  it("splits concatenated frames and steps over skippable ones", () => {
    const a = zstd(Buffer.from("first"));
    const b = zstd(Buffer.from("second"));
    const skippable = Buffer.alloc(8 + 5);
    skippable.writeUInt32LE(0x184d2a5e, 0);
    skippable.writeUInt32LE(5, 4);
    const frames = zstdFrames(Buffer.concat([a, skippable, b]));
    expect(frames.map((f) => zlib.zstdDecompressSync(f).toString())).toEqual(["first", "second"]);
  });

  it("refuses a body cut anywhere inside a frame", () => {
    const body = zstd(mixed(), { [zlib.constants.ZSTD_c_checksumFlag]: 1 });
    for (const cut of [1, 4, 5, 9, Math.floor(body.length / 2), body.length - 4, body.length - 1]) {
      expect(() => zstdFrames(body.subarray(0, cut)), `cut at ${cut}`).toThrow(ZstdFrameError);
    }
    expect(() => zstdFrames(body.subarray(0, body.length - 1))).toThrow(/ends inside a content checksum/);
  });

  it("refuses trailing bytes, foreign data and an empty body, naming what is wrong", () => {
    const body = zstd(Buffer.from("{}"));
    expect(() => zstdFrames(Buffer.concat([body, Buffer.from("garbage!")]))).toThrow(new RegExp(`not a zstd frame at byte ${body.length}`));
    expect(() => zstdFrames(zlib.gzipSync("{}"))).toThrow(/not a zstd frame at byte 0/);
    expect(() => zstdFrames(Buffer.alloc(0))).toThrow(/no zstd frame/);
    const reserved = Buffer.from(body);
    reserved[4] = reserved[4]! | 0b1000;
    expect(() => zstdFrames(reserved)).toThrow(/reserved header bit/);
  });
});
