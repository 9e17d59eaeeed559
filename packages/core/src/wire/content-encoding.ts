// Content-Encoding, both ways. Decoding: what langsmith clients compress with (zstd from 0.12 when
// /info has `zstd_compression_enabled`, gzip when `gzip_body_enabled`), and what other clients may
// use (deflate, br). Encoding: what the upstream sender compresses its batches with.
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import { BodyError } from "./body-error.js";
import { zstdFrames } from "./zstd-frames.js";

/** zlib has zstd from Node 22.15 / 23.8; the packages run on 22.12 too. */
export const ZSTD_AVAILABLE = typeof (zlib as Partial<typeof zlib>).zstdDecompress === "function";

/** What the upstream sender can compress with. */
export type BodyEncoding = "zstd" | "gzip";

type Decoder = (buf: Buffer, maxOutputLength: number) => Promise<Buffer>;
type ZlibCall = (buf: Buffer, opts: zlib.ZlibOptions & zlib.BrotliOptions & zlib.ZstdOptions) => Promise<Buffer>;
const call = (fn: unknown) => promisify(fn as (...args: unknown[]) => void) as unknown as ZlibCall;

const gunzip: Decoder = (buf, max) => call(zlib.gunzip)(buf, { maxOutputLength: max });
const decoders: Record<string, Decoder> = {
  gzip: gunzip,
  "x-gzip": gunzip,
  // "deflate" is meant to be zlib-wrapped, but some clients send raw deflate: inflate tries both.
  deflate: (buf, max) =>
    call(zlib.inflate)(buf, { maxOutputLength: max }).catch(() => call(zlib.inflateRaw)(buf, { maxOutputLength: max })),
  br: (buf, max) => call(zlib.brotliDecompress)(buf, { maxOutputLength: max }),
  zstd: decodeZstd,
};

/**
 * Decodes frame by frame, since Node's decoder alone would drop every frame after the first; a body
 * that is not whole frames throws a ZstdFrameError, which decodeContent turns into a 400.
 */
async function decodeZstd(buf: Buffer, max: number): Promise<Buffer> {
  const out: Buffer[] = [];
  let size = 0;
  for (const frame of zstdFrames(buf)) {
    const part = await call(zlib.zstdDecompress)(frame, { maxOutputLength: Math.max(1, max - size) });
    size += part.length;
    if (size > max) throw Object.assign(new RangeError("decoded body too large"), { code: "ERR_BUFFER_TOO_LARGE" });
    out.push(part);
  }
  return out.length === 1 ? out[0]! : Buffer.concat(out, size);
}

/** The codings listed in a Content-Encoding header, in the order they were applied. */
export function contentEncodings(header: string | string[] | undefined): string[] {
  const raw = Array.isArray(header) ? header.join(",") : (header ?? "");
  return raw
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "" && s !== "identity");
}

/** Throws BodyError(415) for a coding this server (or this Node) cannot undo, before the body is read. */
export function checkEncodings(encodings: string[], zstdAvailable: boolean = ZSTD_AVAILABLE): void {
  for (const enc of encodings) {
    if (enc === "zstd" && !zstdAvailable) {
      throw new BodyError(415, `Content-Encoding zstd needs Node ≥ 22.15 (this is ${process.version}); send gzip or an uncompressed body`);
    }
    if (!decoders[enc]) throw new BodyError(415, `unsupported Content-Encoding: ${enc} (accepted: zstd, gzip, deflate, br)`);
  }
}

/**
 * Undoes `encodings` (as listed in the header, so from last to first). Each decoded stage is capped at
 * `limitBytes`: 413 past it, 400 for a corrupt or truncated stream.
 */
export async function decodeContent(raw: Buffer, encodings: string[], limitBytes: number): Promise<Buffer> {
  let body = raw;
  for (const enc of [...encodings].reverse()) {
    try {
      body = await decoders[enc]!(body, limitBytes);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError) {
        throw new BodyError(413, `decoded request body exceeds the limit of ${limitBytes} bytes`);
      }
      throw new BodyError(400, `could not decode ${enc} request body: ${e.message}`);
    }
  }
  return body;
}

/** zstd level 1, as the langsmith SDKs use: most of the gain for half the CPU of the default 3. */
const ZSTD_LEVEL = 1;

/** Compresses an upstream request body. Runs on libuv's pool, off the main thread the runner uses. */
export function encodeContent(body: Buffer, encoding: BodyEncoding): Promise<Buffer> {
  if (encoding === "zstd") return call(zlib.zstdCompress)(body, { params: { [zlib.constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } });
  return call(zlib.gzip)(body, {});
}
