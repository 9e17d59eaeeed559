import type * as Http from "node:http";

// The worker's requests to the collector go through node:http, not fetch: a worker process that
// never calls fetch never loads undici, which costs its first request ~15-20 ms (measured on Node
// 24; with Vitest's isolation that is every test file). Connections are kept alive and reused; an
// idle one is unref'd by the agent, so it never holds a worker open.

// Not `import … from "node:http"`: building that ES module namespace reads each of its exports,
// and some (WebSocket, …) are getters that load undici, the very cost this file avoids.
const http = process.getBuiltinModule("node:http") as typeof Http;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

export class CollectorError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = "CollectorError";
  }
}

/** POSTs `body` (JSON text or bytes) to the collector; resolves to the answer's text. */
export function postToCollector(baseUrl: string, token: string, path: string, body: string | Uint8Array): Promise<string> {
  const url = new URL(path, baseUrl);
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": bytes.byteLength, "x-api-key": token },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(text);
          else reject(new CollectorError(`tally collector answered ${status} to ${path}: ${text.slice(0, 200)}`, status));
        });
      },
    );
    req.on("error", (err) => reject(new CollectorError(`tally collector unreachable for ${path}: ${err.message}`, undefined)));
    req.end(bytes);
  });
}
