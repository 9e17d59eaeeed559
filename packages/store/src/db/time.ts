// Timestamps are stored as fixed-width UTC ISO strings with microseconds
// ("2025-01-02T03:04:05.123456Z"), so text order in SQLite is time order and the SDK's microsecond
// start times (it encodes execution order in the sub-millisecond digits) survive.

const ISO_RE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/i;

function fromEpochMs(ms: number): string | null {
  const totalMicros = Math.round(ms * 1000);
  const d = new Date(Math.floor(totalMicros / 1000));
  if (Number.isNaN(d.getTime())) return null;
  const micros = String(((totalMicros % 1000) + 1000) % 1000).padStart(3, "0");
  return `${d.toISOString().slice(0, 23)}${micros}Z`;
}

/**
 * Normalises what clients send as a time — epoch milliseconds (the JS SDK's end_time), ISO strings
 * with or without zone or fraction (the JS SDK's start_time, Python's naive UTC) — or null if none.
 */
export function normalizeTime(value: unknown): string | null {
  if (typeof value === "number") return Number.isFinite(value) ? fromEpochMs(value) : null;
  if (value instanceof Date) return fromEpochMs(value.getTime());
  if (typeof value !== "string" || value === "") return null;
  if (/^\d+(\.\d+)?$/.test(value)) return fromEpochMs(Number(value));
  const m = ISO_RE.exec(value.trim());
  if (m) {
    const fraction = (m[3] ?? "").padEnd(6, "0").slice(0, 6);
    const zone = (m[4] ?? "Z").toUpperCase();
    if (zone === "Z" || /^[+-]00:?00$/.test(zone)) return `${m[1]}T${m[2]}.${fraction}Z`;
    // A real offset: let Date shift it, then put the sub-millisecond digits back.
    const ms = Date.parse(`${m[1]}T${m[2]}.${fraction.slice(0, 3)}${zone}`);
    if (Number.isNaN(ms)) return null;
    return `${new Date(ms).toISOString().slice(0, 23)}${fraction.slice(3)}Z`;
  }
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : fromEpochMs(ms);
}

/** Milliseconds since the epoch (fractional) of a normalised time. */
export function timeMs(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  const m = /\.\d{3}(\d{3})Z$/.exec(iso);
  return m ? ms + Number(m[1]) / 1000 : ms;
}

let lastMicros = 0;

/**
 * The current time, strictly increasing within this process: two upserts in the same millisecond
 * still get distinct, ordered `modified_at` values (dataset versions are picked by max modified_at).
 */
export function nowIso(): string {
  let micros = Date.now() * 1000;
  if (micros <= lastMicros) micros = lastMicros + 1;
  lastMicros = micros;
  return fromEpochMs(micros / 1000)!;
}
