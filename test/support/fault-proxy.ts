import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { gunzipSync, zstdDecompressSync } from "node:zlib";

// A fault-injecting HTTP proxy to put between Tally's collector and the backend: a seeded share of
// requests gets a fault instead of (or on top of) being forwarded. It also counts, per run id, how
// many times the backend *accepted* that run's create, so a test can tell a retry that re-sent work
// the backend already had (a lost answer) from one that did not. No imports beyond node: the tests
// (through Vitest) and the reliability script (through Node's type stripping) share it.

export type Fault =
  | "429" // Too Many Requests, no Retry-After
  | "429-retry-after" // Too Many Requests, Retry-After: 1
  | "500"
  | "502"
  | "503"
  | "slow" // forwarded after `slowMs`
  | "drop" // connection destroyed before forwarding: the backend never saw it
  | "drop-after"; // forwarded, then the connection destroyed: the backend has it, the client never hears

export interface FaultProxyOptions {
  target: string;
  faults: Fault[];
  /** Share of requests that get a fault (0..1). */
  rate: number;
  seed?: number;
  slowMs?: number;
  /** Every request fails as if the backend were down (connection destroyed), until `setDown(false)`. */
  down?: boolean;
}

export interface FaultStats {
  requests: number;
  injected: Partial<Record<Fault | "down", number>>;
  /** Run creates the backend accepted, by run id. More than 1 for an id: it was sent again. */
  acceptedCreates: Map<string, number>;
}

export interface FaultProxy {
  url: string;
  stats: FaultStats;
  setDown(down: boolean): void;
  close(): Promise<void>;
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(opts.target);
  const random = mulberry32(opts.seed ?? 1);
  const slowMs = opts.slowMs ?? 2_000;
  let down = !!opts.down;
  const stats: FaultStats = { requests: 0, injected: {}, acceptedCreates: new Map() };
  const sockets = new Set<Socket>();
  const count = (f: Fault | "down") => (stats.injected[f] = (stats.injected[f] ?? 0) + 1);

  const server = createServer(async (req, res) => {
    stats.requests++;
    const body = await readBody(req);
    if (down) {
      count("down");
      return req.socket.destroy();
    }
    const fault = opts.faults.length > 0 && random() < opts.rate ? opts.faults[Math.floor(random() * opts.faults.length)]! : undefined;
    if (fault) count(fault);
    switch (fault) {
      case "429":
        return answer(res, 429, {});
      case "429-retry-after":
        return answer(res, 429, { "retry-after": "1" });
      case "500":
      case "502":
      case "503":
        return answer(res, Number(fault), {});
      case "drop":
        return req.socket.destroy();
      case "slow":
        await new Promise((r) => setTimeout(r, slowMs));
        break;
    }
    try {
      const upstream = await forward(target, req, body);
      if (upstream.status >= 200 && upstream.status < 300) {
        noteCreates(req.url ?? "", req.headers["content-type"] ?? "", decoded(body, req.headers["content-encoding"]), stats);
      }
      if (fault === "drop-after") return req.socket.destroy();
      res.writeHead(upstream.status, upstream.headers);
      res.end(upstream.body);
    } catch {
      req.socket.destroy();
    }
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    setDown: (d) => void (down = d),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Run ids whose create the backend accepted more than once. */
export function resentRuns(stats: FaultStats): number {
  return [...stats.acceptedCreates.values()].filter((n) => n > 1).length;
}

function answer(res: ServerResponse, status: number, headers: Record<string, string>) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify({ detail: `injected fault: ${status}` }));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function forward(target: URL, req: IncomingMessage, body: Buffer) {
  return new Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }>((resolve, reject) => {
    const headers = { ...req.headers, host: target.host, "content-length": String(body.length) };
    delete headers["transfer-encoding"];
    const out = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const h: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && k !== "transfer-encoding" && k !== "connection") h[k] = v;
        resolve({ status: res.statusCode ?? 502, headers: h, body: Buffer.concat(chunks) });
      });
      res.on("error", reject);
    });
    out.on("error", reject);
    out.end(body);
  });
}

/**
 * The body inside its Content-Encoding: Tally's sender compresses run batches when the backend offers
 * zstd or gzip, and a compressed body would hide its `post.<id>` parts from noteCreates. The backend
 * accepted it, so it decodes.
 */
function decoded(body: Buffer, encoding: string | undefined): Buffer {
  if (encoding === "zstd") return zstdDecompressSync(body);
  if (encoding === "gzip") return gunzipSync(body);
  return body;
}

/** Counts the run creates in an ingest request: multipart `post.<id>` parts, or a JSON batch's `post`. */
function noteCreates(url: string, contentType: string, body: Buffer, stats: FaultStats) {
  const ids: string[] = [];
  if (url.startsWith("/runs/multipart")) {
    for (const m of body.toString("latin1").matchAll(/name="post\.([0-9a-f-]{36})"/g)) ids.push(m[1]!);
  } else if (url.startsWith("/runs/batch") && contentType.includes("json")) {
    const batch = JSON.parse(body.toString("utf8")) as { post?: Array<{ id: string }> };
    for (const r of batch.post ?? []) ids.push(r.id);
  } else if (url === "/runs" && contentType.includes("json")) {
    ids.push((JSON.parse(body.toString("utf8")) as { id: string }).id);
  }
  for (const id of ids) stats.acceptedCreates.set(id, (stats.acceptedCreates.get(id) ?? 0) + 1);
}

/** A small seeded PRNG, so a scenario injects the same faults on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
