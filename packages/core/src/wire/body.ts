// Reads a whole request body, undoing Content-Encoding (see content-encoding.ts: zstd and gzip from
// the langsmith SDK, deflate and br from other clients). The limit applies to the raw bytes AND to the
// decoded bytes, so a small compressed bomb cannot exhaust memory.
import type { IncomingMessage } from "node:http";
import { BodyError } from "./body-error.js";
import { checkEncodings, contentEncodings, decodeContent } from "./content-encoding.js";

export { BodyError, contentEncodings };

/** 64 MiB: the SDK's batches are ≤ 20–24 MiB uncompressed; examples with attachments can be larger. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/** Sizes of one body, for servers' byte counters. */
export interface BodySizes {
  /** As it came over the wire (compressed, if it was). */
  wire: number;
  /** After Content-Encoding was undone. */
  decoded: number;
}

/**
 * Collects the body of `req` and decodes it. Rejects with a BodyError: 413 when the raw or decoded
 * body exceeds `limitBytes`, 415 for a coding we cannot undo, 400 for a corrupt or truncated stream
 * or an aborted request. `onSizes` hears the wire and decoded sizes of a body that was read whole.
 */
export async function readBody(
  req: IncomingMessage,
  limitBytes: number = DEFAULT_BODY_LIMIT_BYTES,
  onSizes?: (sizes: BodySizes) => void,
): Promise<Buffer> {
  const encodings = contentEncodings(req.headers["content-encoding"]);
  try {
    checkEncodings(encodings);
  } catch (err) {
    req.resume(); // drain so the connection can still carry our 415 answer
    throw err;
  }
  const raw = await collectBody(req, limitBytes);
  const body = encodings.length > 0 ? await decodeContent(raw, encodings, limitBytes) : raw;
  onSizes?.({ wire: raw.length, decoded: body.length });
  return body;
}

/**
 * The body of `req` as sent (Content-Encoding not undone), for a transport that decodes later (see
 * decodeBody). BodyError 413 past `limitBytes` (before reading, when Content-Length says so), 400 for
 * an aborted request.
 */
export async function collectBody(req: IncomingMessage, limitBytes: number = DEFAULT_BODY_LIMIT_BYTES): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limitBytes) {
    req.resume(); // drain so the connection can still carry our 413 answer
    throw new BodyError(413, `request body of ${declared} bytes exceeds the limit of ${limitBytes} bytes`);
  }
  return collect(req, limitBytes);
}

/**
 * Undoes the `Content-Encoding` of a body read whole, with readBody's limits and errors (415 for a
 * coding we cannot undo, 413 past `limitBytes` decoded, 400 for a corrupt stream).
 */
export async function decodeBody(
  raw: Buffer,
  contentEncoding: string | string[] | undefined,
  limitBytes: number = DEFAULT_BODY_LIMIT_BYTES,
  onSizes?: (sizes: BodySizes) => void,
): Promise<Buffer> {
  if (raw.length > limitBytes) throw new BodyError(413, `request body of ${raw.length} bytes exceeds the limit of ${limitBytes} bytes`);
  const encodings = contentEncodings(contentEncoding);
  checkEncodings(encodings);
  const body = encodings.length > 0 ? await decodeContent(raw, encodings, limitBytes) : raw;
  onSizes?.({ wire: raw.length, decoded: body.length });
  return body;
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
