// Reads a whole request body, undoing Content-Encoding. The langsmith SDK streams `/runs/multipart`
// through CompressionStream("gzip") when the server advertises `gzip_body_enabled`; other clients
// may use deflate or br. The limit applies to the raw bytes AND to the decoded bytes, so a small
// compressed bomb cannot exhaust memory.
import type { IncomingMessage } from "node:http";
import { promisify } from "node:util";
import * as zlib from "node:zlib";

/** 64 MiB: the SDK's batches are ≤ 20–24 MiB uncompressed; examples with attachments can be larger. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/** A request body problem, with the HTTP status a server should answer with. */
export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "BodyError";
  }
}

type Decoder = (buf: Buffer, opts: zlib.ZlibOptions & zlib.BrotliOptions) => Promise<Buffer>;
const decoders: Record<string, Decoder> = {
  gzip: promisify(zlib.gunzip) as Decoder,
  "x-gzip": promisify(zlib.gunzip) as Decoder,
  // "deflate" is meant to be zlib-wrapped, but some clients send raw deflate: inflate tries both.
  deflate: (buf, opts) =>
    (promisify(zlib.inflate) as Decoder)(buf, opts).catch(() => (promisify(zlib.inflateRaw) as Decoder)(buf, opts)),
  br: promisify(zlib.brotliDecompress) as Decoder,
};

/** The codings listed in a Content-Encoding header, in the order they were applied. */
export function contentEncodings(header: string | string[] | undefined): string[] {
  const raw = Array.isArray(header) ? header.join(",") : (header ?? "");
  return raw
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "" && s !== "identity");
}

/**
 * Collects the body of `req` and decodes it. Rejects with a BodyError: 413 when the raw or decoded
 * body exceeds `limitBytes`, 415 for an unknown coding, 400 for a corrupt stream or aborted request.
 */
export async function readBody(req: IncomingMessage, limitBytes: number = DEFAULT_BODY_LIMIT_BYTES): Promise<Buffer> {
  const encodings = contentEncodings(req.headers["content-encoding"]);
  for (const enc of encodings) {
    if (!decoders[enc]) throw new BodyError(415, `unsupported Content-Encoding: ${enc}`);
  }
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume(); // drain so the connection can still carry our 413 answer
    throw new BodyError(413, `request body of ${declared} bytes exceeds the limit of ${limitBytes} bytes`);
  }
  let raw = await collect(req, limitBytes);
  // Codings are listed in the order applied, so undo them from last to first.
  for (const enc of [...encodings].reverse()) {
    try {
      raw = await decoders[enc]!(raw, { maxOutputLength: limitBytes });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError) {
        throw new BodyError(413, `decoded request body exceeds the limit of ${limitBytes} bytes`);
      }
      throw new BodyError(400, `could not decode ${enc} request body: ${e.message}`);
    }
  }
  return raw;
}

function collect(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const onData = (chunk: Buffer) => {
      if (tooLarge) return; // keep draining, drop the bytes
      size += chunk.length;
      if (size > limitBytes) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
    };
    const onEnd = () => {
      cleanup();
      if (tooLarge) reject(new BodyError(413, `request body exceeds the limit of ${limitBytes} bytes`));
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new BodyError(400, `error reading request body: ${err.message}`));
    };
    const onAborted = () => {
      cleanup();
      reject(new BodyError(400, "request aborted by the client"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
  });
}

/** Parses a JSON body; a BodyError(422) names what was wrong instead of a bare SyntaxError. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new BodyError(422, "request body is empty; expected JSON");
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw new BodyError(422, `request body is not valid JSON: ${(err as Error).message}`);
  }
}
