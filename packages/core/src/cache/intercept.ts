import { BatchInterceptor } from "@mswjs/interceptors";
import { ClientRequestInterceptor } from "@mswjs/interceptors/ClientRequest";
import { FetchInterceptor } from "@mswjs/interceptors/fetch";
import { type CacheEntry, ENTRY_VERSION, isEventStream, keptResponseHeaders, responseOf } from "./entry.js";
import { cacheKey, cacheUrl, canonicalBody, type CanonicalBody, utf8 } from "./key.js";
import { contentEncodings, decodeContent } from "../wire/content-encoding.js";
import { type CacheSettings, matchesHost } from "./settings.js";
import { CacheStore } from "./store.js";
import type { CacheHooks, ModelCache } from "./hooks.js";

// The worker half of the cache: outgoing HTTP(S) through `fetch` and `node:http(s)` is intercepted
// (by @mswjs/interceptors, which the openai, anthropic, ai and LangChain clients all go through), and a
// call to a cached host is answered from its entry or passed on and recorded.
//
// One per realm and never removed: Jest gives every test file a module registry of its own, so this
// module is loaded outside it (see worker/model-cache.ts) and each file's runtime attaches its hooks.

interface Recording {
  /** Said with the call once it is recorded (an unusable entry it replaces). */
  note?: string;
  key: string;
  host: string;
  method: string;
  url: string;
  body: CanonicalBody;
  testId?: string;
  testName?: string;
  hooks: CacheHooks;
}

const KEY = Symbol.for("tally.model-cache");

/** The cache of this realm, installed on first use with these settings. */
export function installModelCache(settings: CacheSettings): ModelCache {
  const g = globalThis as unknown as Record<symbol, ModelCache | undefined>;
  return (g[KEY] ??= createModelCache(settings));
}

/** A cache of its own (tests); `installModelCache` is what workers use. Patches globals until disposed. */
export function createModelCache(settings: CacheSettings): ModelCache & { dispose(): void } {
  const store = new CacheStore(settings.dir);
  let hooks: CacheHooks | undefined;
  const recordings = new Map<string, Recording>();
  const inFlight = new Map<Promise<void>, string | undefined>();

  const interceptor = new BatchInterceptor({
    name: "tally-model-cache",
    interceptors: [new ClientRequestInterceptor(), new FetchInterceptor()],
  });

  interceptor.on("request", async ({ request, requestId, controller }) => {
    const h = hooks;
    if (!h || settings.mode === "off") return;
    const url = new URL(request.url);
    if (!matchesHost(settings.hosts, url.host) || settings.exclude.includes(url.host.toLowerCase())) return;
    try {
      await answer(h, url, request, requestId, controller);
    } catch (err) {
      // Never the interceptor's own 500: the call goes out (replay: fails) and the problem is named.
      const problem = `${request.method} ${cacheUrl(request.url)}: the cache failed (${(err as Error).message})`;
      h.onCall(h.currentTest()?.id, {
        method: request.method,
        url: cacheUrl(request.url),
        key: "",
        outcome: "miss",
        problem,
        fatal: settings.mode === "replay",
      });
      if (settings.mode === "replay") controller.respondWith(missResponse(problem));
    }
  });

  async function answer(
    h: CacheHooks,
    url: URL,
    request: Request,
    requestId: string,
    controller: { respondWith(r: Response): void },
  ): Promise<void> {
    const bytes = new Uint8Array(await request.clone().arrayBuffer());
    const body = canonicalBody(bytes, request.headers.get("content-type"));
    const key = cacheKey(request.method, request.url, body, h.variant?.());
    const test = h.currentTest();
    const call = { method: request.method, url: cacheUrl(request.url), key };

    let note: string | undefined;
    if (settings.mode !== "record") {
      const found = store.read(url.host, key);
      if ("entry" in found) {
        store.noteUse(h.runKey, key);
        h.markSpan("hit");
        h.onCall(test?.id, { ...call, outcome: "hit" });
        controller.respondWith(responseOf(found.entry, { "x-tally-cache": "hit" }));
        return;
      }
      const unusable = "corrupt" in found ? `cache entry ${found.file} is unusable (${found.corrupt})` : undefined;
      if (settings.mode === "replay") {
        const problem = unusable
          ? `${unusable}; in replay mode that fails the call ${request.method} ${call.url} (key ${key})`
          : `no cache entry for ${request.method} ${call.url} (key ${key}) in ${settings.dir}; TALLY_CACHE=replay never calls the model: record it with TALLY_CACHE=auto`;
        h.markSpan("miss");
        h.onCall(test?.id, { ...call, outcome: "miss", problem, fatal: true });
        controller.respondWith(missResponse(problem));
        return;
      }
      // auto: an unusable entry is recorded again, and said so.
      if (unusable) note = `${unusable}: recorded again`;
    }
    recordings.set(requestId, {
      note,
      key,
      host: url.host,
      method: request.method,
      url: call.url,
      body,
      testId: test?.id,
      testName: test?.name,
      hooks: h,
    });
    h.markSpan("recorded");
  }

  interceptor.on("response", ({ response, request, requestId, responseType, initiator }) => {
    const rec = recordings.get(requestId);
    if (!rec) return;
    recordings.delete(requestId);
    if (responseType === "mock") return;
    // The event's response is the listeners' own copy (parsed from the socket; the caller reads its
    // own), so it is read as it is, beside the caller: a streamed answer reaches the test as it arrives.
    const call = { method: rec.method, url: rec.url, key: rec.key };
    const done = record(response, rec, callerGone(request, initiator)).then(
      (problem) =>
        rec.hooks.onCall(rec.testId, problem ? { ...call, outcome: "miss", problem } : { ...call, outcome: "recorded", problem: rec.note }),
      (err) =>
        rec.hooks.onCall(rec.testId, {
          ...call,
          outcome: "miss",
          problem: `${rec.method} ${rec.url}: not stored: ${(err as Error).message}`,
        }),
    );
    inFlight.set(done, rec.testId);
    void done.finally(() => inFlight.delete(done));
  });

  /** Stores the answer; returns why it was not stored, or undefined. */
  async function record(res: Response, rec: Recording, gone: Promise<"gone">): Promise<string | undefined> {
    const what = `${rec.method} ${rec.url}`;
    const chunks: Uint8Array[] = [];
    let size = 0;
    let tooBig = false;
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        // A caller that stops reading (a stream broken off) leaves this copy unfinished for good.
        const next = await Promise.race([reader.read(), gone]);
        if (next === "gone") return `${what}: the caller stopped reading the answer before its end: not stored`;
        if (next.done) break;
        size += next.value.byteLength;
        // Read to the end even when it will not be stored: cancelling this copy would stall the socket's.
        if (size > settings.maxEntryBytes) tooBig = true;
        else chunks.push(next.value);
      }
    }
    if (res.status < 200 || res.status > 299) return `${what} answered ${res.status}: not stored (only successful answers are)`;
    if (tooBig) return `the answer to ${what} is over ${settings.maxEntryBytes} bytes (TALLY_CACHE_MAX_ENTRY_BYTES): not stored`;
    const response: CacheEntry["response"] = { status: res.status, statusText: res.statusText, headers: keptResponseHeaders(res.headers) };
    const encodings = contentEncodings(res.headers.get("content-encoding") ?? undefined);
    const streamed = isEventStream(res.headers);
    // Stored decoded (the header is not kept): a compressed stream's chunks are then its events.
    let whole: Buffer = Buffer.concat(chunks);
    if (encodings.length) {
      try {
        whole = await decodeContent(whole, encodings, settings.maxEntryBytes);
      } catch (err) {
        const tooLarge = (err as { status?: number }).status === 413;
        return tooLarge
          ? `the answer to ${what} is over ${settings.maxEntryBytes} bytes once decoded (TALLY_CACHE_MAX_ENTRY_BYTES): not stored`
          : `the answer to ${what} could not be decoded (${encodings.join(", ")}): not stored`;
      }
    }
    const text = utf8(whole);
    if (streamed && text !== undefined) response.chunks = encodings.length ? eventsOf(text) : chunksAsText(chunks);
    else if (text !== undefined) Object.assign(response, { body: text, bodyEncoding: "utf8" });
    else Object.assign(response, { body: whole.toString("base64"), bodyEncoding: "base64" });
    const entry: CacheEntry = {
      version: ENTRY_VERSION,
      key: rec.key,
      request: { method: rec.method, url: rec.url, body: rec.body },
      response,
      recordedAt: new Date().toISOString(),
      ...(rec.testName ? { test: rec.testName } : {}),
    };
    store.write(rec.host, entry);
    store.noteUse(rec.hooks.runKey, rec.key);
    return undefined;
  }

  interceptor.apply();
  return {
    settings,
    attach(h) {
      hooks = h;
    },
    async settled(testId) {
      const mine = [...inFlight].filter(([, id]) => testId === undefined || id === testId).map(([p]) => p);
      await Promise.all(mine);
    },
    dispose() {
      interceptor.dispose();
    },
  };
}

/**
 * Chunks as text, each whole: a network read may end inside a multi-byte character, which then
 * moves to the next chunk so that every stored chunk is valid UTF-8.
 */
function chunksAsText(chunks: Uint8Array[]): string[] {
  const decoder = new TextDecoder();
  const out: string[] = [];
  for (const c of chunks) {
    const text = decoder.decode(c, { stream: true });
    if (text) out.push(text);
  }
  const rest = decoder.decode();
  if (rest) out.push(rest);
  return out;
}

/**
 * Settles when the caller gives up on its answer: its fetch aborted (the caller's own request is the
 * initiator; the event's request is the interceptor's copy, which nothing aborts), or its node:http
 * request closed before the answer was complete.
 */
function callerGone(request: Request, initiator: unknown): Promise<"gone"> {
  return new Promise((resolve) => {
    const gone = () => resolve("gone");
    for (const signal of [request.signal, initiator instanceof Request ? initiator.signal : undefined]) {
      if (signal?.aborted) return gone();
      signal?.addEventListener("abort", gone, { once: true });
    }
    const req = initiator as { once?: (event: string, fn: () => void) => void; res?: { complete?: boolean } } | undefined;
    if (typeof req?.once === "function") req.once("close", () => (req.res?.complete ? undefined : gone()));
  });
}

/** A decoded event stream as stored chunks: one per event, as a provider sends them. */
function eventsOf(text: string): string[] {
  return text.split(/(?<=\r?\n\r?\n)/).filter((e) => e !== "");
}

/**
 * What a call gets when replay mode has no entry for it. 404, not 5xx or a network error: the
 * provider SDKs retry those (with back-off), and would hide this message behind "connection error".
 * Shaped so the openai and anthropic SDKs both show the message.
 */
function missResponse(message: string): Response {
  const body = { type: "error", error: { type: "tally_cache_miss", message }, message };
  return new Response(JSON.stringify(body), { status: 404, headers: { "content-type": "application/json", "x-tally-cache": "miss" } });
}
