import Anthropic from "@anthropic-ai/sdk";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http, { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zlib from "node:zlib";
import OpenAI from "openai";
import { afterEach, describe, expect, test } from "vitest";
import { type Standin, startAnthropicStandin, startOpenAiStandin } from "../../../../test/support/model-standins.js";
import { ZSTD_AVAILABLE } from "../wire/content-encoding.js";
import type { CacheEntry } from "./entry.js";
import type { CacheCall, CacheHooks, CacheOutcome } from "./hooks.js";
import { createModelCache } from "./intercept.js";
import { cacheKey, canonicalBody } from "./key.js";
import { type CacheMode, cacheSettingsFromEnv } from "./settings.js";

// The interceptor end to end, in this process: the real openai and @anthropic-ai/sdk clients (and
// plain fetch and node:http) against local stand-ins of the providers, recorded then replayed.

const TEST_ID = "test-1";
const TEST_NAME = "suite > records a call";
const RUN_KEY = "run-1";

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function tmpDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tally-cache-intercept-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function openAiStandin(): Promise<Standin> {
  const s = await startOpenAiStandin();
  cleanup.push(() => s.close());
  return s;
}

async function anthropicStandin(): Promise<Standin> {
  const s = await startAnthropicStandin();
  cleanup.push(() => s.close());
  return s;
}

interface Harness {
  cache: ReturnType<typeof createModelCache>;
  calls: Array<CacheCall & { testId: string | undefined }>;
  spans: CacheOutcome[];
  dispose(): void;
}

interface CacheOptions {
  mode?: CacheMode;
  exclude?: string[];
  maxEntryBytes?: number;
  test?: { id: string; name: string } | undefined;
  variant?: () => string | undefined;
  attach?: boolean;
}

/** A cache in this process, disposed after the test (or before, by the test, to start another). */
function startCache(dir: string, hosts: string[], opts: CacheOptions = {}): Harness {
  const cache = createModelCache({
    mode: opts.mode ?? "auto",
    dir,
    hosts,
    exclude: opts.exclude ?? [],
    maxEntryBytes: opts.maxEntryBytes ?? 1_000_000,
  });
  let disposed = false;
  const dispose = () => {
    if (disposed) return;
    disposed = true;
    cache.dispose();
  };
  cleanup.push(dispose);
  const calls: Harness["calls"] = [];
  const spans: CacheOutcome[] = [];
  const test = "test" in opts ? opts.test : { id: TEST_ID, name: TEST_NAME };
  const hooks: CacheHooks = {
    runKey: RUN_KEY,
    currentTest: () => test,
    markSpan: (outcome) => spans.push(outcome),
    onCall: (testId, call) => calls.push({ testId, ...call }),
    ...(opts.variant ? { variant: opts.variant } : {}),
  };
  if (opts.attach !== false) cache.attach(hooks);
  return { cache, calls, spans, dispose };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** "settled", or what is still pending: a hanging settled() must fail a test, not time it out. */
function settledWithin(h: Harness, ms: number, testId?: string): Promise<string> {
  return Promise.race([h.cache.settled(testId).then(() => "settled"), sleep(ms).then(() => `still pending after ${ms} ms`)]);
}

const hostOf = (s: { port: number }) => `127.0.0.1:${s.port}`;
const hostDir = (dir: string, s: { port: number }) => join(dir, `127.0.0.1_${s.port}`);

/** The entries stored under dir, parsed. */
function storedEntries(dir: string): CacheEntry[] {
  if (!existsSync(dir)) return [];
  const out: CacheEntry[] = [];
  for (const host of readdirSync(dir, { withFileTypes: true })) {
    if (!host.isDirectory() || host.name === ".usage") continue;
    for (const name of readdirSync(join(dir, host.name))) {
      if (name.endsWith(".json")) out.push(JSON.parse(readFileSync(join(dir, host.name, name), "utf8")) as CacheEntry);
    }
  }
  return out;
}

function allFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

const openAi = (s: Standin, apiKey = "test-key") => new OpenAI({ apiKey, baseURL: s.url, maxRetries: 0 });
const anthropic = (s: Standin) => new Anthropic({ apiKey: "test-key", baseURL: s.url, maxRetries: 0 });
const user = (content: string) => [{ role: "user" as const, content }];

/**
 * Records `call` against a stand-in (auto mode), then closes the stand-in and replays the same call
 * from a new cache in replay mode.
 */
async function recordThenReplay<T>(s: Standin, call: () => Promise<T>) {
  const dir = tmpDir();
  const rec = startCache(dir, [hostOf(s)]);
  const recorded = await call();
  await rec.cache.settled();
  rec.dispose();
  const requestsWhenRecorded = s.requests.length;
  await s.close();
  const rep = startCache(dir, [hostOf(s)], { mode: "replay" });
  const replayed = await call();
  await rep.cache.settled();
  return { dir, rec, rep, recorded, replayed, requestsWhenRecorded };
}

/** A throwaway HTTP server for answers the stand-ins do not give. */
async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }));
  cleanup.push(close);
  return { port, url: `http://127.0.0.1:${port}`, close };
}

/** A POST through node:http, answered as status, headers and the whole body. */
function httpPost(url: string, body: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("OpenAI chat completions", () => {
  test("a plain call is recorded, then replayed identically without calling the model", async () => {
    const s = await openAiStandin();
    const { dir, rec, rep, recorded, replayed, requestsWhenRecorded } = await recordThenReplay(s, () =>
      openAi(s).chat.completions.create({ model: "gpt-test", messages: user("hello") }),
    );
    expect(recorded.choices[0]!.message.content).toBe("echo: hello #1");
    expect(requestsWhenRecorded).toBe(1);
    // The stand-in is closed: the answer, with its #1, can only have come from the entry.
    expect(replayed).toEqual(recorded);
    expect(replayed.choices[0]!.message.content).toBe("echo: hello #1");

    expect(rec.spans).toEqual(["recorded"]);
    expect(rec.calls).toEqual([
      {
        testId: TEST_ID,
        outcome: "recorded",
        method: "POST",
        url: `${s.url}/chat/completions`,
        key: expect.stringMatching(/^[0-9a-f]{64}$/),
        problem: undefined,
      },
    ]);
    expect(rep.spans).toEqual(["hit"]);
    expect(rep.calls).toEqual([
      { testId: TEST_ID, outcome: "hit", method: "POST", url: `${s.url}/chat/completions`, key: rec.calls[0]!.key },
    ]);

    const [entry, ...more] = storedEntries(dir);
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      version: 1,
      key: rec.calls[0]!.key,
      request: { method: "POST", url: `${s.url}/chat/completions`, body: { json: { messages: user("hello"), model: "gpt-test" } } },
      response: { status: 200, headers: { "content-type": "application/json", "x-request-id": "req_standin_1" }, bodyEncoding: "utf8" },
      test: TEST_NAME,
    });
    expect(JSON.parse(entry!.response.body!)).toEqual(JSON.parse(JSON.stringify(recorded)));
    expect(existsSync(join(hostDir(dir, s), `${entry!.key}.json`))).toBe(true);
    // The key is the one key.ts gives for this request.
    const body = canonicalBody(
      new TextEncoder().encode(JSON.stringify({ model: "gpt-test", messages: user("hello") })),
      "application/json",
    );
    expect(entry!.key).toBe(cacheKey("POST", `${s.url}/chat/completions`, body));
  });

  test("a replayed answer says it is a hit (x-tally-cache) and keeps the request id", async () => {
    const s = await openAiStandin();
    const { replayed } = await recordThenReplay(s, () =>
      openAi(s)
        .chat.completions.create({ model: "gpt-test", messages: user("hi") })
        .withResponse(),
    );
    expect(replayed.response.headers.get("x-tally-cache")).toBe("hit");
    expect(replayed.response.headers.get("x-request-id")).toBe("req_standin_1");
    expect((replayed.data as { _request_id?: string })._request_id).toBe("req_standin_1");
  });

  test("auto mode: the second identical call is a hit; fields in another order are the same call", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    const h = startCache(dir, [hostOf(s)]);
    const client = openAi(s);
    const first = await client.chat.completions.create({ model: "gpt-test", messages: user("again"), temperature: 0 });
    await h.cache.settled();
    const second = await client.chat.completions.create({ temperature: 0, messages: user("again"), model: "gpt-test" });
    expect(s.requests).toHaveLength(1);
    expect(second).toEqual(first);
    expect(h.calls.map((c) => c.outcome)).toEqual(["recorded", "hit"]);
    expect(h.calls[1]!.key).toBe(h.calls[0]!.key);
    // The usage log names the key once for this run.
    expect(readFileSync(join(dir, ".usage", `${RUN_KEY}.log`), "utf8")).toMatch(new RegExp(`^\\S+ ${h.calls[0]!.key}\\n$`));
    // Another request is another entry, and a call to the model.
    const third = await client.chat.completions.create({ model: "gpt-test", messages: user("other") });
    expect(third.choices[0]!.message.content).toBe("echo: other #2");
    await h.cache.settled();
    expect(storedEntries(dir)).toHaveLength(2);
  });

  test("a streamed answer is stored as its chunks and replayed as the same chunks", async () => {
    const s = await openAiStandin();
    const collect = async () => {
      const stream = await openAi(s).chat.completions.create({
        model: "gpt-test",
        messages: user("stream this please"),
        stream: true,
        stream_options: { include_usage: true },
      });
      const chunks = [];
      for await (const c of stream) chunks.push(c);
      return chunks;
    };
    const { dir, rep, recorded, replayed } = await recordThenReplay(s, collect);
    const text = (cs: typeof recorded) => cs.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(text(recorded)).toBe("echo: stream this please #1");
    expect(recorded.at(-1)!.usage?.total_tokens).toBeGreaterThan(0);
    expect(replayed).toEqual(recorded);
    expect(text(replayed)).toBe("echo: stream this please #1");
    expect(rep.calls.map((c) => c.outcome)).toEqual(["hit"]);

    const [entry] = storedEntries(dir);
    expect(entry!.response.body).toBeUndefined();
    expect(entry!.response.headers["content-type"]).toMatch(/^text\/event-stream/);
    const chunks = entry!.response.chunks!;
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join("")).toMatch(/^data: \{.*\n\ndata: \[DONE\]\n\n$/s);
    expect(chunks.join("").match(/^data: /gm)).toHaveLength(recorded.length + 1);
  });

  describe("tool calls and JSON mode", () => {
    const weatherTool = {
      type: "function" as const,
      function: {
        name: "get_weather",
        parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
      },
    };

    test("a tool call round-trips", async () => {
      const s = await openAiStandin();
      const { recorded, replayed } = await recordThenReplay(s, () =>
        openAi(s).chat.completions.create({ model: "gpt-test", messages: user("weather in Paris?"), tools: [weatherTool] }),
      );
      const call = recorded.choices[0]!.message.tool_calls![0]!;
      expect(call).toMatchObject({
        id: "call_standin_1",
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"Paris"}' },
      });
      expect(recorded.choices[0]!.finish_reason).toBe("tool_calls");
      expect(replayed).toEqual(recorded);
    });

    test("a streamed tool call round-trips", async () => {
      const s = await openAiStandin();
      const { recorded, replayed } = await recordThenReplay(s, async () => {
        const stream = await openAi(s).chat.completions.create({
          model: "gpt-test",
          messages: user("weather?"),
          tools: [weatherTool],
          stream: true,
        });
        const args: string[] = [];
        for await (const c of stream) for (const t of c.choices[0]?.delta.tool_calls ?? []) args.push(t.function?.arguments ?? "");
        return args;
      });
      expect(recorded.join("")).toBe('{"city":"Paris"}');
      expect(replayed).toEqual(recorded);
    });

    test("JSON mode round-trips", async () => {
      const s = await openAiStandin();
      const { recorded, replayed } = await recordThenReplay(s, () =>
        openAi(s).chat.completions.create({ model: "gpt-test", messages: user("as json"), response_format: { type: "json_object" } }),
      );
      expect(JSON.parse(recorded.choices[0]!.message.content!)).toEqual({ answer: "echo: as json", n: 1 });
      expect(replayed).toEqual(recorded);
    });

    test("the same messages with and without tools are different entries", async () => {
      const s = await openAiStandin();
      const dir = tmpDir();
      const h = startCache(dir, [hostOf(s)]);
      await openAi(s).chat.completions.create({ model: "gpt-test", messages: user("q") });
      await openAi(s).chat.completions.create({ model: "gpt-test", messages: user("q"), tools: [weatherTool] });
      await h.cache.settled();
      expect(s.requests).toHaveLength(2);
      expect(h.calls.map((c) => c.outcome)).toEqual(["recorded", "recorded"]);
      expect(storedEntries(dir)).toHaveLength(2);
    });
  });
});

describe("Anthropic messages", () => {
  const params = (content: string) => ({ model: "claude-test", max_tokens: 64, messages: user(content) });

  test("a plain call round-trips", async () => {
    const s = await anthropicStandin();
    const { dir, recorded, replayed, rep } = await recordThenReplay(s, () => anthropic(s).messages.create(params("bonjour")));
    expect(recorded.content).toEqual([{ type: "text", text: "echo: bonjour #1" }]);
    expect(replayed).toEqual(recorded);
    expect(rep.calls.map((c) => c.outcome)).toEqual(["hit"]);
    expect(storedEntries(dir)[0]!.response.headers).toMatchObject({ "request-id": "req_standin_1" });
  });

  test("a streamed call (messages.stream, finalMessage) round-trips, text deltas included", async () => {
    const s = await anthropicStandin();
    const { dir, recorded, replayed } = await recordThenReplay(s, async () => {
      const stream = anthropic(s).messages.stream(params("stream it"));
      const deltas: string[] = [];
      stream.on("text", (t) => deltas.push(t));
      const final = await stream.finalMessage();
      return { deltas, final };
    });
    expect(recorded.final.content).toEqual([{ type: "text", text: "echo: stream it #1" }]);
    expect(recorded.final.stop_reason).toBe("end_turn");
    expect(recorded.deltas.length).toBeGreaterThan(1);
    expect(recorded.deltas.join("")).toBe("echo: stream it #1");
    expect(replayed).toEqual(recorded);
    const [entry] = storedEntries(dir);
    expect(entry!.response.chunks!.length).toBeGreaterThan(1);
    expect(entry!.response.chunks!.join("")).toContain("event: message_stop");
  });

  test("a streamed tool use round-trips", async () => {
    const s = await anthropicStandin();
    const tool = { name: "get_weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } };
    const { recorded, replayed } = await recordThenReplay(s, () =>
      anthropic(s)
        .messages.stream({ ...params("weather?"), tools: [tool] })
        .finalMessage(),
    );
    expect(recorded.content[0]).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Paris" } });
    expect(replayed).toEqual(recorded);
  });
});

describe("replay misses", () => {
  test("OpenAI: the call rejects with the method, URL and key; onCall hears a fatal miss; the model is not called", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    const h = startCache(dir, [hostOf(s)], { mode: "replay" });
    const error = await openAi(s)
      .chat.completions.create({ model: "gpt-test", messages: user("never recorded") })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    const message = (error as Error).message;
    const body = canonicalBody(new TextEncoder().encode(JSON.stringify({ model: "gpt-test", messages: user("never recorded") })), null);
    const key = cacheKey("POST", `${s.url}/chat/completions`, body);
    expect(message).toContain("POST");
    expect(message).toContain(`${s.url}/chat/completions`);
    expect(message).toContain(key);
    expect(message).toContain("TALLY_CACHE=replay");
    expect(s.requests).toHaveLength(0);
    expect(h.spans).toEqual(["miss"]);
    expect(h.calls).toEqual([
      {
        testId: TEST_ID,
        outcome: "miss",
        method: "POST",
        url: `${s.url}/chat/completions`,
        key,
        problem: expect.stringContaining(`no cache entry for POST ${s.url}/chat/completions (key ${key}) in ${dir}`),
        fatal: true,
      },
    ]);
    // Nothing is stored or logged for a refused call.
    expect(storedEntries(dir)).toEqual([]);
    expect(existsSync(join(dir, ".usage"))).toBe(false);
  });

  test("Anthropic: the SDK shows the same message", async () => {
    const s = await anthropicStandin();
    const h = startCache(tmpDir(), [hostOf(s)], { mode: "replay" });
    const error = await anthropic(s)
      .messages.create({ model: "claude-test", max_tokens: 8, messages: user("x") })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect((error as Error).message).toContain(`no cache entry for POST ${s.url}/v1/messages (key ${h.calls[0]!.key})`);
    expect(h.calls[0]).toMatchObject({ outcome: "miss", fatal: true });
    expect(s.requests).toHaveLength(0);
  });

  test("a call outside any test still fails, with no test id", async () => {
    const s = await openAiStandin();
    const h = startCache(tmpDir(), [hostOf(s)], { mode: "replay", test: undefined });
    await expect(openAi(s).chat.completions.create({ model: "m", messages: user("x") })).rejects.toThrow(/no cache entry/);
    expect(h.calls).toEqual([expect.objectContaining({ testId: undefined, outcome: "miss", fatal: true })]);
  });
});

describe("node:http", () => {
  test("a POST through http.request is recorded and replayed", async () => {
    const s = await openAiStandin();
    const body = JSON.stringify({ model: "gpt-test", messages: user("via node:http") });
    const url = `${s.url}/chat/completions`;
    const { dir, rec, rep, recorded, replayed } = await recordThenReplay(s, () => httpPost(url, body, { authorization: "Bearer k" }));
    expect(recorded.status).toBe(200);
    expect(JSON.parse(recorded.body).choices[0].message.content).toBe("echo: via node:http #1");
    expect(replayed.status).toBe(200);
    expect(replayed.body).toBe(recorded.body);
    expect(replayed.headers["content-type"]).toBe("application/json");
    expect(replayed.headers["x-tally-cache"]).toBe("hit");
    expect(rec.calls.map((c) => c.outcome)).toEqual(["recorded"]);
    expect(rep.calls.map((c) => c.outcome)).toEqual(["hit"]);
    // node:http and fetch share entries: the same request is the same key.
    const key = cacheKey("POST", url, canonicalBody(new TextEncoder().encode(body), "application/json"));
    expect(storedEntries(dir).map((e) => e.key)).toEqual([key]);
  });

  test("a streamed answer through http.request is stored as chunks and replayed", async () => {
    const s = await openAiStandin();
    const body = JSON.stringify({ model: "gpt-test", messages: user("stream via node:http"), stream: true });
    const { dir, recorded, replayed } = await recordThenReplay(s, () =>
      httpPost(`${s.url}/chat/completions`, body, { authorization: "Bearer k" }),
    );
    expect(recorded.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(recorded.body).toMatch(/data: \[DONE\]\n\n$/);
    expect(replayed.body).toBe(recorded.body);
    const [entry] = storedEntries(dir);
    expect(entry!.response.chunks!.length).toBeGreaterThan(1);
    expect(entry!.response.chunks!.join("")).toBe(recorded.body);
  });

  test("a replay miss through node:http is a 404 with the message", async () => {
    const s = await openAiStandin();
    const h = startCache(tmpDir(), [hostOf(s)], { mode: "replay" });
    const res = await httpPost(`${s.url}/chat/completions`, "{}", {});
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({
      type: "error",
      error: { type: "tally_cache_miss", message: expect.stringContaining("no cache entry") },
    });
    expect(h.calls[0]).toMatchObject({ outcome: "miss", fatal: true });
    expect(s.requests).toHaveLength(0);
  });
});

describe("what is not cached", () => {
  test("hosts not in the list pass through untouched and are not stored", async () => {
    const s = await openAiStandin();
    const other = await anthropicStandin();
    const dir = tmpDir();
    // The same address on another port is another host.
    const h = startCache(dir, [hostOf(other)]);
    const a = await openAi(s).chat.completions.create({ model: "m", messages: user("pass") });
    const b = await openAi(s).chat.completions.create({ model: "m", messages: user("pass") });
    await h.cache.settled();
    expect(a.choices[0]!.message.content).toBe("echo: pass #1");
    expect(b.choices[0]!.message.content).toBe("echo: pass #2");
    expect(s.requests).toHaveLength(2);
    expect(s.requests[0]!.headers.authorization).toBe("Bearer test-key");
    expect(h.calls).toEqual([]);
    expect(h.spans).toEqual([]);
    expect(allFiles(dir)).toEqual([]);
  });

  test("in replay mode too: a host not in the list is called", async () => {
    const s = await openAiStandin();
    const h = startCache(tmpDir(), ["api.openai.com"], { mode: "replay" });
    const a = await openAi(s).chat.completions.create({ model: "m", messages: user("pass") });
    expect(a.choices[0]!.message.content).toBe("echo: pass #1");
    expect(h.calls).toEqual([]);
  });

  test("off mode, or no hooks attached: nothing is intercepted", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    const off = startCache(dir, [hostOf(s)], { mode: "off" });
    await openAi(s).chat.completions.create({ model: "m", messages: user("x") });
    await off.cache.settled();
    off.dispose();
    const detached = startCache(dir, [hostOf(s)], { attach: false });
    await openAi(s).chat.completions.create({ model: "m", messages: user("x") });
    await detached.cache.settled();
    expect(s.requests).toHaveLength(2);
    expect(off.calls).toEqual([]);
    expect(allFiles(dir)).toEqual([]);
  });

  test("after dispose, calls are no longer intercepted", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    const h = startCache(dir, [hostOf(s)]);
    h.dispose();
    await openAi(s).chat.completions.create({ model: "m", messages: user("x") });
    expect(h.calls).toEqual([]);
    expect(allFiles(dir)).toEqual([]);
  });

  /** A stand-in of Tally's collector: answers each request with its number and what it was sent. */
  async function startCollector() {
    let n = 0;
    const server = await startServer(async (req, res) => {
      let body = "";
      for await (const c of req) body += c;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ n: ++n, auth: req.headers.authorization ?? null, body }));
    });
    return { ...server, count: () => n };
  }

  test.each(["auto", "record", "replay"] as const)(
    "%s mode: the collector passes through untouched though a listed pattern (127.0.0.1) matches it; nothing is stored",
    async (mode) => {
      const collector = await startCollector();
      const model = await openAiStandin();
      const dir = tmpDir();
      // As the workers get them: the collector's host in exclude, the pattern left in hosts.
      const settings = cacheSettingsFromEnv(
        { TALLY_CACHE: mode, TALLY_CACHE_DIR: dir, TALLY_CACHE_HOSTS: "127.0.0.1", TALLY_COLLECTOR_URL: `${collector.url}/` },
        "/",
      );
      expect(settings.hosts).toEqual(["127.0.0.1"]);
      expect(settings.exclude).toContain(hostOf(collector));
      const h = startCache(settings.dir, settings.hosts, { mode: settings.mode, exclude: settings.exclude });

      const post = () =>
        fetch(`${collector.url}/v1/runs/batch`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer collector-key" },
          body: '{"runs":[]}',
        });
      const first = await post();
      const second = await post();
      expect(first.headers.get("x-tally-cache")).toBeNull();
      expect(await first.json()).toEqual({ n: 1, auth: "Bearer collector-key", body: '{"runs":[]}' });
      expect(await second.json()).toMatchObject({ n: 2 });
      // node:http (the worker's loopback) too.
      const viaHttp = await httpPost(`${collector.url}/v1/runs/batch`, "{}", { authorization: "Bearer collector-key" });
      expect(viaHttp.status).toBe(200);
      expect(viaHttp.headers["x-tally-cache"]).toBeUndefined();
      expect(JSON.parse(viaHttp.body)).toMatchObject({ n: 3, auth: "Bearer collector-key" });
      expect(collector.count()).toBe(3);
      await h.cache.settled();
      expect(h.calls).toEqual([]);
      expect(h.spans).toEqual([]);
      expect(allFiles(dir)).toEqual([]);

      // The pattern still catches the model on that address.
      const model_ = await openAi(model)
        .chat.completions.create({ model: "m", messages: user("cached") })
        .catch((e: unknown) => e);
      await h.cache.settled();
      expect(h.calls.map((c) => c.outcome)).toEqual([mode === "replay" ? "miss" : "recorded"]);
      if (mode === "replay") expect(model_).toBeInstanceOf(OpenAI.NotFoundError);
      else expect(storedEntries(dir).map((e) => e.request.url)).toEqual([`${model.url}/chat/completions`]);
    },
  );

  const post401 = (s: Standin) =>
    // No Authorization header: the stand-in answers 401.
    fetch(`${s.url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });

  test("a non-2xx answer reaches the caller whole and is not stored", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    const h = startCache(dir, [hostOf(s)]);
    const res = await post401(s);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { message: "You didn't provide an API key.", type: "invalid_request_error", param: null, code: null },
    });
    await h.cache.settled();
    expect(storedEntries(dir)).toEqual([]);
    expect(h.calls.map((c) => c.outcome)).toEqual(["miss"]);
    // Not stored, so the next call goes to the model again.
    expect((await post401(s)).status).toBe(401);
    expect(s.requests).toHaveLength(2);
  });

  // The event's own Response is read (no clone: an unread branch of a tee would never let the
  // recording end), to its end, and the call is reported.
  test("a non-2xx answer settles even when the caller reads none of it", async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "x".repeat(50_000) }));
    });
    const dir = tmpDir();
    const h = startCache(dir, [hostOf(server)]);
    const res = await fetch(`${server.url}/v1/x`, { method: "POST", body: "{}" });
    expect(res.status).toBe(500);
    expect(await settledWithin(h, 1000)).toBe("settled");
    expect(h.calls).toEqual([
      expect.objectContaining({
        outcome: "miss",
        problem: `POST ${server.url}/v1/x answered 500: not stored (only successful answers are)`,
      }),
    ]);
    expect(storedEntries(dir)).toEqual([]);
    expect((await res.json()).error).toHaveLength(50_000);
  });

  test("a non-2xx answer settles, reported as a miss saying why", async () => {
    const s = await openAiStandin();
    const h = startCache(tmpDir(), [hostOf(s)]);
    await (await post401(s)).text();
    expect(await settledWithin(h, 1000)).toBe("settled");
    expect(h.calls).toEqual([
      {
        testId: TEST_ID,
        outcome: "miss",
        method: "POST",
        url: `${s.url}/chat/completions`,
        key: expect.any(String),
        problem: `POST ${s.url}/chat/completions answered 401: not stored (only successful answers are)`,
      },
    ]);
  });

  const long = "x".repeat(3000);

  test("an answer over maxEntryBytes is not stored, and the caller still gets all of it", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    const h = startCache(dir, [hostOf(s)], { maxEntryBytes: 1000 });
    const res = await openAi(s).chat.completions.create({ model: "m", messages: user(long) });
    expect(res.choices[0]!.message.content).toBe(`echo: ${long} #1`);
    const stream = await openAi(s).chat.completions.create({ model: "m", messages: user(long), stream: true });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    expect(text).toBe(`echo: ${long} #2`);
    await h.cache.settled();
    expect(storedEntries(dir)).toEqual([]);
    const problem = `the answer to POST ${s.url}/chat/completions is over 1000 bytes (TALLY_CACHE_MAX_ENTRY_BYTES): not stored`;
    expect(h.calls).toEqual([expect.objectContaining({ outcome: "miss", problem }), expect.objectContaining({ outcome: "miss", problem })]);
  });

  // Read to its end though it will not be stored: cancelling the copy would stall the caller's.
  test("a streamed answer over maxEntryBytes settles, reported as a miss saying why", async () => {
    const s = await openAiStandin();
    const h = startCache(tmpDir(), [hostOf(s)], { maxEntryBytes: 1000 });
    const stream = await openAi(s).chat.completions.create({ model: "m", messages: user(long), stream: true });
    for await (const _ of stream) {
      // read it all
    }
    expect(await settledWithin(h, 1000)).toBe("settled");
    expect(h.calls).toEqual([
      expect.objectContaining({
        outcome: "miss",
        problem: `the answer to POST ${s.url}/chat/completions is over 1000 bytes (TALLY_CACHE_MAX_ENTRY_BYTES): not stored`,
      }),
    ]);
  });

  test("a smaller answer under the same limit is stored", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    const h = startCache(dir, [hostOf(s)], { maxEntryBytes: 1000 });
    await openAi(s).chat.completions.create({ model: "m", messages: user("short") });
    await h.cache.settled();
    expect(h.calls.map((c) => c.outcome)).toEqual(["recorded"]);
    expect(storedEntries(dir)).toHaveLength(1);
  });
});

describe("record mode and variants", () => {
  test("record mode calls the model even when an entry exists, and replaces it", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    const call = () => openAi(s).chat.completions.create({ model: "m", messages: user("fresh") });
    const auto = startCache(dir, [hostOf(s)]);
    await call();
    await auto.cache.settled();
    auto.dispose();
    const record = startCache(dir, [hostOf(s)], { mode: "record" });
    const again = await call();
    await record.cache.settled();
    record.dispose();
    expect(again.choices[0]!.message.content).toBe("echo: fresh #2");
    expect(record.calls.map((c) => c.outcome)).toEqual(["recorded"]);
    const entries = storedEntries(dir);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.response.body).toContain("echo: fresh #2");
  });

  test("a variant separates otherwise identical calls", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    let variant: string | undefined = "trial-0";
    const h = startCache(dir, [hostOf(s)], { variant: () => variant });
    const call = () => openAi(s).chat.completions.create({ model: "m", messages: user("same") });
    expect((await call()).choices[0]!.message.content).toBe("echo: same #1");
    variant = "trial-1";
    expect((await call()).choices[0]!.message.content).toBe("echo: same #2");
    variant = "trial-0";
    expect((await call()).choices[0]!.message.content).toBe("echo: same #1");
    await h.cache.settled();
    expect(h.calls.map((c) => c.outcome)).toEqual(["recorded", "recorded", "hit"]);
    expect(storedEntries(dir)).toHaveLength(2);
  });

  test("an entry recorded outside any test has no test name", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    const h = startCache(dir, [hostOf(s)], { test: undefined });
    await openAi(s).chat.completions.create({ model: "m", messages: user("x") });
    await h.cache.settled();
    expect(h.calls).toEqual([expect.objectContaining({ testId: undefined, outcome: "recorded" })]);
    expect(storedEntries(dir)[0]).not.toHaveProperty("test");
  });
});

describe("unusable entries", () => {
  async function recordOne(s: Standin, dir: string) {
    const h = startCache(dir, [hostOf(s)]);
    await openAi(s).chat.completions.create({ model: "m", messages: user("corrupt me") });
    await h.cache.settled();
    h.dispose();
    const file = join(hostDir(dir, s), `${h.calls[0]!.key}.json`);
    const whole = readFileSync(file, "utf8");
    writeFileSync(file, whole.slice(0, whole.length / 2));
    return { file, key: h.calls[0]!.key };
  }

  test("auto mode: a truncated entry is recorded again, reported once, as recorded with a problem naming the file", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    const { file, key } = await recordOne(s, dir);
    const h = startCache(dir, [hostOf(s)]);
    const res = await openAi(s).chat.completions.create({ model: "m", messages: user("corrupt me") });
    await h.cache.settled();
    expect(res.choices[0]!.message.content).toBe("echo: corrupt me #2");
    expect(h.calls).toEqual([
      {
        testId: TEST_ID,
        outcome: "recorded",
        method: "POST",
        url: `${s.url}/chat/completions`,
        key,
        problem: expect.stringMatching(new RegExp(`^cache entry ${file} is unusable \\(not valid JSON .*\\): recorded again$`)),
      },
    ]);
    expect(h.calls[0]!.fatal).toBeUndefined();
    expect(h.spans).toEqual(["recorded"]);
    const entry = JSON.parse(readFileSync(file, "utf8")) as CacheEntry;
    expect(entry.response.body).toContain("echo: corrupt me #2");
  });

  test("replay mode: a truncated entry fails the call, naming the file", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    const { file, key } = await recordOne(s, dir);
    const h = startCache(dir, [hostOf(s)], { mode: "replay" });
    const error = await openAi(s)
      .chat.completions.create({ model: "m", messages: user("corrupt me") })
      .catch((e: unknown) => e);
    expect((error as Error).message).toContain(`cache entry ${file} is unusable`);
    expect(h.calls).toEqual([
      expect.objectContaining({
        outcome: "miss",
        fatal: true,
        problem: expect.stringContaining(`cache entry ${file} is unusable (not valid JSON`),
      }),
    ]);
    expect(h.calls[0]!.problem).toContain(`in replay mode that fails the call POST ${s.url}/chat/completions (key ${key})`);
    expect(s.requests).toHaveLength(1);
  });
});

describe("when the cache itself fails", () => {
  /** Records one call, then puts a file where the usage log's folder goes: noting a hit then throws. */
  async function recordThenBlockUsage(s: Standin, dir: string): Promise<void> {
    const h = startCache(dir, [hostOf(s)]);
    await openAi(s).chat.completions.create({ model: "m", messages: user("break me") });
    await h.cache.settled();
    h.dispose();
    rmSync(join(dir, ".usage"), { recursive: true });
    writeFileSync(join(dir, ".usage"), "not a folder");
  }

  test("auto mode: an error in the cache's request handling passes the call on (not msw's 500); onCall hears a miss naming it", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    await recordThenBlockUsage(s, dir);
    const h = startCache(dir, [hostOf(s)]);
    const res = await openAi(s).chat.completions.create({ model: "m", messages: user("break me") });
    await h.cache.settled();
    // From the model (#2), though an entry was there.
    expect(res.choices[0]!.message.content).toBe("echo: break me #2");
    expect(s.requests).toHaveLength(2);
    expect(h.calls).toEqual([
      expect.objectContaining({
        testId: TEST_ID,
        outcome: "miss",
        method: "POST",
        url: `${s.url}/chat/completions`,
        problem: expect.stringContaining(`POST ${s.url}/chat/completions: the cache failed (EEXIST: `),
      }),
    ]);
    expect(h.calls[0]!.problem).toContain(join(dir, ".usage"));
    expect(h.calls[0]!.fatal).toBeFalsy();
    expect(h.spans).toEqual([]);
  });

  test("replay mode: the same error fails the call with the 404 miss answer naming it; the model is not called", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    await recordThenBlockUsage(s, dir);
    const h = startCache(dir, [hostOf(s)], { mode: "replay" });
    const error = await openAi(s)
      .chat.completions.create({ model: "m", messages: user("break me") })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as Error).message).toContain(`POST ${s.url}/chat/completions: the cache failed (EEXIST: `);
    expect(s.requests).toHaveLength(1);
    expect(h.calls).toEqual([
      expect.objectContaining({
        outcome: "miss",
        fatal: true,
        problem: expect.stringContaining(`POST ${s.url}/chat/completions: the cache failed (EEXIST: `),
      }),
    ]);
  });

  test("a cache folder that is a file: the caller still gets its answer; onCall hears a miss naming the problem", async () => {
    const s = await openAiStandin();
    const dir = join(tmpDir(), "cache");
    writeFileSync(dir, "not a folder");
    const h = startCache(dir, [hostOf(s)]);
    const res = await openAi(s).chat.completions.create({ model: "m", messages: user("nowhere to go") });
    expect(res.choices[0]!.message.content).toBe("echo: nowhere to go #1");
    expect(await settledWithin(h, 1000)).toBe("settled");
    expect(h.calls).toEqual([
      expect.objectContaining({
        testId: TEST_ID,
        outcome: "miss",
        problem: expect.stringContaining(`POST ${s.url}/chat/completions: not stored: ENOTDIR: `),
      }),
    ]);
    expect(readFileSync(dir, "utf8")).toBe("not a folder");
  });

  test("replay mode: an entry that cannot be read fails the call with the 404 message naming the error", async () => {
    const s = await openAiStandin();
    const dir = join(tmpDir(), "cache");
    writeFileSync(dir, "not a folder");
    const h = startCache(dir, [hostOf(s)], { mode: "replay" });
    const error = await openAi(s)
      .chat.completions.create({ model: "m", messages: user("unreadable") })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    const file = join(hostDir(dir, s), `${h.calls[0]!.key}.json`);
    expect((error as Error).message).toContain(`cache entry ${file} is unusable (ENOTDIR: `);
    expect((error as Error).message).toContain(`in replay mode that fails the call POST ${s.url}/chat/completions`);
    expect(h.calls).toEqual([
      expect.objectContaining({ outcome: "miss", fatal: true, problem: expect.stringContaining(`cache entry ${file}`) }),
    ]);
    expect((error as Error).message).toContain(h.calls[0]!.problem);
    expect(s.requests).toHaveLength(0);
  });
});

describe("secrets", () => {
  test("API keys, credential query parameters and response cookies never reach the cache folder", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    const h = startCache(dir, [hostOf(s)]);
    await openAi(s, "sk-live-SECRET123").chat.completions.create({ model: "m", messages: user("secret-free") });
    const res = await fetch(`${s.url}/chat/completions?key=SECRET456&api-version=2024-10-21&subscription-key=SECRET246`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer sk-live-SECRET123", "x-api-key": "sk-live-SECRET123" },
      body: JSON.stringify({ model: "m", messages: user("query") }),
    });
    expect(res.status).toBe(200);
    await res.text();
    // An answer carrying what a real provider may add: cookies, organisation ids.
    const server = await startServer((_req, res) => {
      res.writeHead(200, {
        "content-type": "application/json",
        "set-cookie": "__cf_bm=SECRET789; path=/",
        "openai-organization": "org-SECRET789",
        "x-request-id": "req_ok",
      });
      res.end('{"ok":true}');
    });
    h.dispose();
    const h2 = startCache(dir, [hostOf(s), hostOf(server)]);
    expect(await (await fetch(`${server.url}/v1/x`, { method: "POST", body: "{}" })).json()).toEqual({ ok: true });
    await h.cache.settled();
    await h2.cache.settled();
    expect([...h.calls, ...h2.calls].map((c) => c.outcome)).toEqual(["recorded", "recorded", "recorded"]);

    const files = allFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const secret of ["SECRET123", "SECRET456", "SECRET246", "SECRET789"])
        expect(text, `${file} holds ${secret}`).not.toContain(secret);
    }
    const urls = storedEntries(dir).map((e) => e.request.url);
    expect(urls).toContain(`${s.url}/chat/completions?api-version=2024-10-21`);
    expect(storedEntries(dir).find((e) => e.request.url.endsWith("/v1/x"))!.response.headers).toEqual({
      "content-type": "application/json",
      "x-request-id": "req_ok",
    });

    // Another key in the query finds the same entry.
    h2.dispose();
    const rep = startCache(dir, [hostOf(s)], { mode: "replay" });
    const again = await fetch(`${s.url}/chat/completions?subscription-key=OTHER&api-version=2024-10-21&key=OTHER`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: user("query"), model: "m" }),
    });
    expect(again.status).toBe(200);
    expect(rep.calls.map((c) => c.outcome)).toEqual(["hit"]);
  });
});

describe("settled", () => {
  /** An SSE server that sends one event, then waits for release() to send the rest. */
  async function heldStream() {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const server = await startServer(async (req, res) => {
      for await (const _ of req) {
        // drain the request body
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write('data: {"n":1}\n\n');
      await released;
      res.write('data: {"n":2}\n\n');
      res.end("data: [DONE]\n\n");
    });
    return { server, release };
  }

  test("resolves only once the entry file exists; another test's settled does not wait for it", async () => {
    const { server, release } = await heldStream();
    const dir = tmpDir();
    const h = startCache(dir, [hostOf(server)]);
    const res = await fetch(`${server.url}/v1/stream`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(200);
    const entryFiles = () => storedEntries(dir);

    let fileWhenSettled: boolean | undefined;
    const mine = h.cache.settled(TEST_ID).then(() => {
      fileWhenSettled = entryFiles().length === 1;
    });
    let allWhenSettled: boolean | undefined;
    const all = h.cache.settled().then(() => {
      allWhenSettled = entryFiles().length === 1;
    });
    await h.cache.settled("another-test");
    await sleep(50);
    expect(fileWhenSettled).toBeUndefined();
    expect(allWhenSettled).toBeUndefined();
    expect(entryFiles()).toEqual([]);

    release();
    // The caller need not read the answer for it to be recorded.
    await Promise.all([mine, all]);
    expect(fileWhenSettled).toBe(true);
    expect(allWhenSettled).toBe(true);
    expect(entryFiles()[0]!.response.chunks!.join("")).toBe('data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n');
    expect(await res.text()).toBe('data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n');
    expect(h.calls.map((c) => c.outcome)).toEqual(["recorded"]);
  });

  test("with nothing in flight it resolves at once", async () => {
    const h = startCache(tmpDir(), ["api.openai.com"]);
    await expect(h.cache.settled()).resolves.toBeUndefined();
    await expect(h.cache.settled(TEST_ID)).resolves.toBeUndefined();
  });

  test("parallel calls of one test are all stored when it settles", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    const h = startCache(dir, [hostOf(s)]);
    const client = openAi(s);
    await Promise.all(["a", "b", "c"].map((m) => client.chat.completions.create({ model: "m", messages: user(m) })));
    await h.cache.settled(TEST_ID);
    expect(storedEntries(dir)).toHaveLength(3);
    expect(h.calls.map((c) => c.outcome)).toEqual(["recorded", "recorded", "recorded"]);
  });

  // BUG (still there): a fetch caller that stops reading a stream early (`break` out of the SDK's
  // stream, which aborts its fetch) is not noticed, so the recording's copy of the body never ends
  // (@mswjs/interceptors 0.45 frees its response parser on the socket's close without ending the
  // body it feeds) and settled(testId), which the worker's beforeTestEnd awaits, never resolves.
  // callerGone() listens to the event's `request.signal`, but for a passed-through call that is the
  // request msw parsed from the socket, which nobody aborts; the fetch caller's own signal is on the
  // `initiator` (the Request the patched fetch made, `new Request(input, init)`). Fix: listen to
  // `(initiator as Request).signal` too (checked: the recording then ends with "the caller stopped
  // reading"). Even then a caller that cancels the body without aborting (`res.body.cancel()`) hangs
  // it; an idle timeout on the reads would bound both.
  test("settles when a fetch caller abandons a stream part way (through the SDK)", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    const h = startCache(dir, [hostOf(s)]);
    const stream = await openAi(s).chat.completions.create({ model: "m", messages: user("a long answer to abandon"), stream: true });
    for await (const _ of stream) break;
    expect(await settledWithin(h, 300, TEST_ID)).toBe("settled");
    expect(h.calls).toEqual([
      expect.objectContaining({
        outcome: "miss",
        problem: `POST ${s.url}/chat/completions: the caller stopped reading the answer before its end: not stored`,
      }),
    ]);
    expect(storedEntries(dir)).toEqual([]);
  });

  test("settles when a node:http caller abandons a stream part way: a miss saying so, nothing stored", async () => {
    const { server, release } = await heldStream();
    cleanup.push(release);
    const dir = tmpDir();
    const h = startCache(dir, [hostOf(server)]);
    const first = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${server.url}/v1/stream`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
        res.setEncoding("utf8");
        res.once("data", (chunk: string) => {
          req.destroy();
          resolve(chunk);
        });
      });
      req.on("error", (err) => ((err as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(err)));
      req.end("{}");
    });
    expect(first).toBe('data: {"n":1}\n\n');
    expect(await settledWithin(h, 1000, TEST_ID)).toBe("settled");
    expect(h.calls).toEqual([
      {
        testId: TEST_ID,
        outcome: "miss",
        method: "POST",
        url: `${server.url}/v1/stream`,
        key: expect.stringMatching(/^[0-9a-f]{64}$/),
        problem: `POST ${server.url}/v1/stream: the caller stopped reading the answer before its end: not stored`,
      },
    ]);
    expect(storedEntries(dir)).toEqual([]);
  });

  test("a node:http caller that reads the whole stream is recorded (its request's close is not taken for abandoning)", async () => {
    const s = await openAiStandin();
    const dir = tmpDir();
    const h = startCache(dir, [hostOf(s)]);
    const body = JSON.stringify({ model: "m", messages: user("all of it"), stream: true });
    const res = await httpPost(`${s.url}/chat/completions`, body, { authorization: "Bearer k" });
    expect(res.body).toMatch(/data: \[DONE\]\n\n$/);
    expect(await settledWithin(h, 1000, TEST_ID)).toBe("settled");
    expect(h.calls.map((c) => c.outcome)).toEqual(["recorded"]);
    expect(storedEntries(dir)[0]!.response.chunks!.join("")).toBe(res.body);
  });
});

describe("compressed answers", () => {
  const compressors: Array<[string, (b: Buffer) => Buffer]> = [
    ["gzip", zlib.gzipSync],
    ["deflate", zlib.deflateSync],
    ["br", zlib.brotliCompressSync],
    ...(ZSTD_AVAILABLE ? [["zstd", zlib.zstdCompressSync] as [string, (b: Buffer) => Buffer]] : []),
  ];

  // The event's Response is parsed from the socket bytes, not decoded: the entry would otherwise hold
  // compressed bytes that a replay hands on without their content-encoding.
  test.each(compressors)("a %s-encoded answer is stored decoded and replayed readable", async (encoding, compress) => {
    const server = await startServer((req, res) => {
      const body = compress(Buffer.from(JSON.stringify({ hello: "wörld", accept: req.headers["accept-encoding"] })));
      res.writeHead(200, { "content-type": "application/json", "content-encoding": encoding, "content-length": body.length });
      res.end(body);
    });
    const dir = tmpDir();
    const call = async () =>
      (await fetch(`${server.url}/v1/x`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).json();
    const rec = startCache(dir, [hostOf(server)]);
    const recorded = await call();
    expect(recorded).toEqual({ hello: "wörld", accept: expect.stringContaining("gzip") });
    await rec.cache.settled();
    rec.dispose();
    expect(rec.calls.map((c) => c.outcome)).toEqual(["recorded"]);
    const [entry] = storedEntries(dir);
    expect(entry!.response).toEqual({
      status: 200,
      statusText: "OK",
      headers: { "content-type": "application/json" },
      bodyEncoding: "utf8",
      body: JSON.stringify(recorded),
    });
    await server.close();
    const rep = startCache(dir, [hostOf(server)], { mode: "replay" });
    expect(await call()).toEqual(recorded);
    expect(rep.calls.map((c) => c.outcome)).toEqual(["hit"]);
  });

  test("a gzip-encoded event stream is stored decoded, one chunk per event, and replayed as those events", async () => {
    const events = ['data: {"n":1}\n\n', "event: ping\ndata: {}\n\n", 'data: {"n":"é"}\r\n\r\n', "data: [DONE]\n\n"];
    const server = await startServer(async (req, res) => {
      for await (const _ of req) {
        // drain the request body
      }
      res.writeHead(200, { "content-type": "text/event-stream", "content-encoding": "gzip" });
      const gzip = zlib.createGzip();
      gzip.pipe(res);
      for (const event of events) {
        gzip.write(event);
        await new Promise<void>((r) => gzip.flush(() => r()));
        await sleep(2);
      }
      gzip.end();
    });
    const dir = tmpDir();
    const call = async () => (await fetch(`${server.url}/v1/stream`, { method: "POST", body: "{}" })).text();
    const rec = startCache(dir, [hostOf(server)]);
    expect(await call()).toBe(events.join(""));
    await rec.cache.settled();
    rec.dispose();
    expect(rec.calls.map((c) => c.outcome)).toEqual(["recorded"]);
    const [entry] = storedEntries(dir);
    expect(entry!.response.chunks).toEqual(events);
    expect(entry!.response.body).toBeUndefined();
    expect(entry!.response.headers).toEqual({ "content-type": "text/event-stream" });
    await server.close();
    startCache(dir, [hostOf(server)], { mode: "replay" });
    expect(await call()).toBe(events.join(""));
  });

  test("a compressed answer over maxEntryBytes once decoded reaches the caller whole and is not stored", async () => {
    const big = JSON.stringify({ text: "x".repeat(5000) });
    const server = await startServer((_req, res) => {
      const body = zlib.gzipSync(big);
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip", "content-length": body.length });
      res.end(body);
    });
    const dir = tmpDir();
    const h = startCache(dir, [hostOf(server)], { maxEntryBytes: 1000 });
    const res = await fetch(`${server.url}/v1/x`, { method: "POST", body: "{}" });
    expect(await res.text()).toBe(big);
    expect(await settledWithin(h, 1000)).toBe("settled");
    expect(h.calls).toEqual([
      expect.objectContaining({
        outcome: "miss",
        problem: `the answer to POST ${server.url}/v1/x is over 1000 bytes once decoded (TALLY_CACHE_MAX_ENTRY_BYTES): not stored`,
      }),
    ]);
    expect(storedEntries(dir)).toEqual([]);
  });
});
