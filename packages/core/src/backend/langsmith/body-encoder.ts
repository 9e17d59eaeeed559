import { type BodyEncoding, encodeContent, ZSTD_AVAILABLE } from "../../wire/content-encoding.js";
import { isRecord } from "../../wire/json-object.js";
import { BackendError, type WireStats } from "../port.js";
import type { Upstream } from "./http.js";

// How the REST adapter's bodies go over the wire. Run batches are compressed with the best encoding the
// backend's /info advertises (zstd, else gzip, else none), read once per sender; the bytes sent,
// before and after compression, are counted for reports. Only `/runs/multipart` is compressed: it is
// where LangSmith documents the two flags (the SDK compresses nothing else), and it carries nearly
// all the bytes.

/** The best encoding `info` (a `GET /info` answer) advertises that this Node can produce and was not refused. */
export function pickEncoding(
  info: unknown,
  zstdAvailable: boolean = ZSTD_AVAILABLE,
  refused: ReadonlySet<BodyEncoding> = new Set(),
): BodyEncoding | undefined {
  const flags = isRecord(info) && isRecord(info.instance_flags) ? info.instance_flags : {};
  if (flags.zstd_compression_enabled === true && zstdAvailable && !refused.has("zstd")) return "zstd";
  if (flags.gzip_body_enabled === true && !refused.has("gzip")) return "gzip";
  return undefined;
}

/** A request body ready to send, and resend as is. */
export interface EncodedBody {
  body: Buffer;
  contentType: string;
  /** Bytes before compression. */
  rawBytes: number;
  encoding?: BodyEncoding;
}

export class BodyEncoder {
  /** The backend's /info (undefined when it has none we can use). */
  private info: Promise<unknown> | undefined;
  private readonly refused = new Set<BodyEncoding>();
  private readonly wire: WireStats = { requests: 0, rawBytes: 0, wireBytes: 0, byEncoding: {} };

  constructor(private readonly upstream: Upstream) {}

  /** Starts reading /info now, so the first batch does not wait a round trip for it. */
  prefetch(): void {
    void this.encoding();
  }

  /** The encoding for the next run batch. */
  async encoding(): Promise<BodyEncoding | undefined> {
    this.info ??= this.upstream.json<unknown>("GET", "/info").catch((err: unknown) => {
      // Unreachable or overloaded now: send this batch plain and ask again with the next one. A
      // backend that answered otherwise (404 on an old server, say) has no flags to wait for.
      if (err instanceof BackendError && err.retryable) this.info = undefined;
      return undefined;
    });
    return pickEncoding(await this.info, ZSTD_AVAILABLE, this.refused);
  }

  /** Compresses a run batch once; a retry of the batch resends these very bytes. */
  async encode(raw: { body: Buffer; contentType: string }): Promise<EncodedBody> {
    const encoding = await this.encoding();
    const plain = { body: raw.body, contentType: raw.contentType, rawBytes: raw.body.length };
    return encoding ? { ...plain, body: await encodeContent(raw.body, encoding), encoding } : plain;
  }

  /** The backend answered 415 to `encoding` although /info advertised it (a proxy in between, say). */
  refuse(encoding: BodyEncoding): void {
    this.refused.add(encoding);
  }

  /** Sends `body` and counts it once the backend answered. */
  async send(method: string, path: string, body: EncodedBody): Promise<Response> {
    const headers: Record<string, string> = { "content-type": body.contentType };
    if (body.encoding) headers["content-encoding"] = body.encoding;
    const res = await this.upstream.request(method, path, body.body, headers);
    const key = body.encoding ?? "identity";
    this.wire.requests++;
    this.wire.rawBytes += body.rawBytes;
    this.wire.wireBytes += body.body.length;
    this.wire.byEncoding[key] = (this.wire.byEncoding[key] ?? 0) + 1;
    return res;
  }

  stats(): WireStats {
    return { ...this.wire, byEncoding: { ...this.wire.byEncoding } };
  }
}

/** A body sent as it is (examples, JSON). */
export function plainBody(body: Buffer | string, contentType: string): EncodedBody {
  const buf = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  return { body: buf, contentType, rawBytes: buf.length };
}
