// UUID helpers on node:crypto, so the core needs no `uuid` dependency.
// uuid5 must match the `uuid` package byte for byte: the official Vitest/Jest integration derives
// example ids with `v5(JSON.stringify({datasetId, inputsHash, outputsHash}), NAMESPACE_URL)` and we
// have to land on the same ids to stay compatible with datasets it created.
import { createHash, randomBytes, randomUUID } from "node:crypto";

/** RFC 4122 namespaces. The SDK's example-id namespace is NAMESPACE_URL. */
export const NAMESPACE_DNS = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
export const NAMESPACE_URL = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for any canonical 8-4-4-4-12 hex UUID (any version, either case). */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID_RE.test(value);
}

export function uuid4(): string {
  return randomUUID();
}

function uuidToBytes(uuid: string): Buffer {
  if (!isUuid(uuid)) throw new TypeError(`not a uuid: ${uuid}`);
  return Buffer.from(uuid.replace(/-/g, ""), "hex");
}

function bytesToUuid(b: Uint8Array): string {
  const h = Buffer.from(b.subarray(0, 16)).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Name-based UUID (SHA-1). A string name is hashed as UTF-8, like the `uuid` package does. */
export function uuid5(name: string | Uint8Array, namespace: string): string {
  const hash = createHash("sha1").update(uuidToBytes(namespace)).update(name).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  return bytesToUuid(hash);
}

/** Time-ordered UUID (v7), the kind the SDK uses for run and feedback ids. */
export function uuid7(nowMs: number = Date.now()): string {
  const b = randomBytes(16);
  const ms = BigInt(Math.max(0, Math.floor(nowMs)));
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return bytesToUuid(b);
}
