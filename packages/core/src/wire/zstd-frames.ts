// Splits a zstd body into its frames by walking the frame and block headers (RFC 8878 §3.1), without
// decompressing. Node's zstd decoder needs this help: it returns the bytes of a *truncated* frame
// without an error, and it decodes only the first of several concatenated frames (checked on Node
// 24.9). Both would turn a damaged upload into a silently shorter body, so a body is accepted only if
// it is whole frames, end to end. Pure: no I/O.

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames carry metadata for the application, never content: 0x184D2A50–0x184D2A5F. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_HEADER = 3;
const CHECKSUM = 4;

/** A structurally broken zstd body; the message says where. */
export class ZstdFrameError extends Error {
  override name = "ZstdFrameError";
}

/** The data frames of `body` (views, not copies), in order. Throws ZstdFrameError unless `body` is whole frames. */
export function zstdFrames(body: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let pos = 0;
  while (pos < body.length) {
    const start = pos;
    const magic = need(body, pos, 4, "frame magic number").readUInt32LE(pos);
    pos += 4;
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      const size = need(body, pos, 4, "skippable frame size").readUInt32LE(pos);
      pos += 4;
      need(body, pos, size, "skippable frame");
      pos += size;
      continue;
    }
    if (magic !== ZSTD_MAGIC) {
      throw new ZstdFrameError(`not a zstd frame at byte ${start} (magic number 0x${magic.toString(16).padStart(8, "0")})`);
    }
    pos = frameEnd(body, pos, start);
    frames.push(body.subarray(start, pos));
  }
  if (frames.length === 0) throw new ZstdFrameError("the body holds no zstd frame");
  return frames;
}

/** Where the frame whose header starts at `pos` (after the magic) ends. */
function frameEnd(body: Buffer, pos: number, start: number): number {
  const descriptor = need(body, pos, 1, "frame header").readUInt8(pos);
  pos += 1;
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  if ((descriptor >> 3) & 1) throw new ZstdFrameError(`frame at byte ${start} sets the reserved header bit`);
  const checksum = (descriptor >> 2) & 1;
  const dictIdBytes = [0, 1, 2, 4][descriptor & 3]!;
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  const headerRest = (singleSegment ? 0 : 1) + dictIdBytes + fcsBytes;
  need(body, pos, headerRest, "frame header");
  pos += headerRest;
  for (;;) {
    const header = need(body, pos, BLOCK_HEADER, "block header").readUIntLE(pos, BLOCK_HEADER);
    pos += BLOCK_HEADER;
    const last = header & 1;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) throw new ZstdFrameError(`frame at byte ${start} has a block of the reserved type`);
    // An RLE block stores its one repeated byte; its size field is the regenerated size.
    const stored = type === 1 ? 1 : size;
    need(body, pos, stored, "block");
    pos += stored;
    if (last) break;
  }
  if (checksum) {
    need(body, pos, CHECKSUM, "content checksum");
    pos += CHECKSUM;
  }
  return pos;
}

function need(body: Buffer, pos: number, n: number, what: string): Buffer {
  if (pos + n > body.length) throw new ZstdFrameError(`the body ends inside a ${what} (truncated at byte ${body.length})`);
  return body;
}
