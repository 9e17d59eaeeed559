import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// Local stand-ins of the OpenAI Chat Completions and Anthropic Messages HTTP APIs, for end-to-end
// tests of the record/replay cache of model calls. They answer deterministically from the request,
// with one twist: every answer carries ` #<n>`, n counting the model calls this server instance
// answered, so a test can tell a replayed answer (same n as when recorded) from a fresh call.
// Wire shapes (JSON bodies, SSE framing, event order, headers) follow the real APIs closely enough
// for the official SDKs to parse them, streamed or not. No imports beyond node:.

export interface RecordedRequest {
  method: string;
  path: string;
  /** Lower-cased names, as node:http gives them. */
  headers: Record<string, string>;
  /** Parsed JSON, or the raw text when it was not JSON (or undefined when there was no body). */
  body: unknown;
}

export interface StandinOptions {
  /** Delay before each answer starts (headers included). Default 0. */
  latencyMs?: number;
  /** Listen on this port, e.g. to restart a stand-in where a test's client already points. Default: any free port. */
  port?: number;
}

export interface Standin {
  /** Base URL to give the SDK: `http://127.0.0.1:PORT/v1` for OpenAI, `http://127.0.0.1:PORT` for Anthropic. */
  url: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** What a provider's handler gets: the recorded request, and the next call number when it answers a model call. */
interface Exchange {
  req: RecordedRequest;
  res: ServerResponse;
  nextCall(): number;
  requestId: string;
}

// A fixed `created` time keeps answers byte-for-byte deterministic for a given request and n.
const CREATED = 1_700_000_000;
const EVENT_GAP_MS = 5;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function startOpenAiStandin(opts: StandinOptions = {}): Promise<Standin> {
  return startStandin(opts, "/v1", "x-request-id", openAiHandler);
}

export function startAnthropicStandin(opts: StandinOptions = {}): Promise<Standin> {
  return startStandin(opts, "", "request-id", anthropicHandler);
}

async function startStandin(
  opts: StandinOptions,
  basePath: string,
  requestIdHeader: string,
  handle: (x: Exchange) => Promise<void>,
): Promise<Standin> {
  const requests: RecordedRequest[] = [];
  const latencyMs = opts.latencyMs ?? 0;
  let calls = 0;
  let seq = 0;

  const server = createServer(async (req, res) => {
    const recorded = { method: req.method ?? "", path: req.url ?? "", headers: flatHeaders(req), body: parseBody(await readBody(req)) };
    requests.push(recorded);
    const requestId = `req_standin_${++seq}`;
    res.setHeader(requestIdHeader, requestId);
    if (latencyMs > 0) await sleep(latencyMs);
    try {
      await handle({ req: recorded, res, nextCall: () => ++calls, requestId });
    } catch (err) {
      // A bug in the stand-in should fail the test loudly, not hang the client.
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(err) } });
      else res.destroy();
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  // Idempotent, so a test may close a stand-in itself (to restart it) and still leave it to a shared afterEach.
  let closing: Promise<void> | undefined;
  const closeServer = () =>
    new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      // Keep-alive sockets (and streams a test abandoned) would otherwise hold close() open.
      server.closeAllConnections();
    });
  return {
    url: `http://127.0.0.1:${port}${basePath}`,
    port,
    requests,
    close: () => (closing ??= closeServer()),
  };
}

// ---- OpenAI ---------------------------------------------------------------------------------------

interface OpenAiBody {
  model?: string;
  messages?: Array<{ role?: string; content?: unknown }>;
  tools?: Array<{ type?: string; function?: { name?: string } }>;
  response_format?: { type?: string };
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
}

async function openAiHandler({ req, res, nextCall }: Exchange) {
  if (!req.headers.authorization) {
    return sendJson(res, 401, openAiError("You didn't provide an API key.", "invalid_request_error", null));
  }
  if (req.method !== "POST" || pathOf(req) !== "/v1/chat/completions") {
    return sendJson(res, 404, openAiError(`Invalid URL (${req.method} ${req.path})`, "invalid_request_error", null));
  }
  if (!isObject(req.body)) return sendJson(res, 400, openAiError("Could not parse the JSON body.", "invalid_request_error", null));

  const body = req.body as OpenAiBody;
  const n = nextCall();
  const text = `echo: ${lastText(body.messages ?? [], "user")}`;
  const model = body.model ?? "gpt-standin";
  const id = `chatcmpl-standin-${n}`;
  const toolName = body.tools?.[0]?.function?.name;
  const toolCall = toolName ? { id: `call_standin_${n}`, type: "function", function: { name: toolName, arguments: TOOL_ARGUMENTS } } : null;
  const content = toolCall ? null : body.response_format?.type === "json_object" ? JSON.stringify({ answer: text, n }) : `${text} #${n}`;
  const finish = toolCall ? "tool_calls" : "stop";
  const promptTokens = countTokens(JSON.stringify(body.messages ?? []));
  const completionTokens = countTokens(content ?? TOOL_ARGUMENTS);
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };

  if (!body.stream) {
    const message = { role: "assistant", content, refusal: null, annotations: [], ...(toolCall ? { tool_calls: [toolCall] } : {}) };
    return sendJson(res, 200, {
      id,
      object: "chat.completion",
      created: CREATED,
      model,
      choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
      usage,
      service_tier: "default",
      system_fingerprint: null,
    });
  }

  // Like the real API: with include_usage every chunk carries `usage: null` and one last chunk
  // with no choices carries the totals.
  const withUsage = body.stream_options?.include_usage === true;
  const chunk = (delta: object, finishReason: string | null) => ({
    id,
    object: "chat.completion.chunk",
    created: CREATED,
    model,
    service_tier: "default",
    system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(withUsage ? { usage: null } : {}),
  });
  const chunks: object[] = [];
  if (toolCall) {
    const opening = { ...toolCall, index: 0, function: { name: toolCall.function.name, arguments: "" } };
    chunks.push(chunk({ role: "assistant", content: null, tool_calls: [opening], refusal: null }, null));
    for (const part of split(TOOL_ARGUMENTS)) chunks.push(chunk({ tool_calls: [{ index: 0, function: { arguments: part } }] }, null));
  } else {
    chunks.push(chunk({ role: "assistant", content: "", refusal: null }, null));
    for (const part of split(content!)) chunks.push(chunk({ content: part }, null));
  }
  chunks.push(chunk({}, finish));
  if (withUsage) chunks.push({ ...chunk({}, null), choices: [], usage });

  await sendEvents(res, [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), "data: [DONE]\n\n"]);
}

const TOOL_ARGUMENTS = JSON.stringify({ city: "Paris" });

function openAiError(message: string, type: string, code: string | null) {
  return { error: { message, type, param: null, code } };
}

// ---- Anthropic ------------------------------------------------------------------------------------

interface AnthropicBody {
  model?: string;
  messages?: Array<{ role?: string; content?: unknown }>;
  tools?: Array<{ name?: string }>;
  stream?: boolean;
}

async function anthropicHandler({ req, res, nextCall, requestId }: Exchange) {
  const error = (status: number, type: string, message: string) =>
    sendJson(res, status, { type: "error", error: { type, message }, request_id: requestId });
  // The SDK (1.16) sends its key as `Authorization: Bearer`; `x-api-key` is the older header, still
  // accepted by the API (and sent by hand-written clients).
  if (!req.headers["x-api-key"] && !req.headers.authorization) return error(401, "authentication_error", "x-api-key header is required");
  if (req.method !== "POST" || pathOf(req) !== "/v1/messages") return error(404, "not_found_error", "Not found");
  if (!isObject(req.body)) return error(400, "invalid_request_error", "Could not parse the JSON body.");

  const body = req.body as AnthropicBody;
  const n = nextCall();
  const text = `echo: ${lastText(body.messages ?? [], "user")} #${n}`;
  const toolName = body.tools?.[0]?.name;
  const toolUse = toolName ? { type: "tool_use", id: `toolu_standin_${n}`, name: toolName, input: { city: "Paris" } } : null;
  const stopReason = toolUse ? "tool_use" : "end_turn";
  const inputTokens = countTokens(JSON.stringify(body.messages ?? []));
  const outputTokens = countTokens(toolUse ? TOOL_ARGUMENTS : text);
  const message = {
    id: `msg_standin_${n}`,
    type: "message",
    role: "assistant",
    model: body.model ?? "claude-standin",
    content: [toolUse ?? { type: "text", text }],
    stop_reason: stopReason,
    stop_sequence: null,
    stop_details: null,
    container: null,
    usage: { input_tokens: inputTokens, output_tokens: outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
  if (!body.stream) return sendJson(res, 200, message);

  // The real order: message_start (empty content, no stop reason yet), a ping, the block's start,
  // its deltas and stop, then message_delta with the stop reason and output tokens, message_stop.
  const events: Array<[string, object]> = [
    ["message_start", { message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } } }],
    ["content_block_start", { index: 0, content_block: toolUse ? { ...toolUse, input: {} } : { type: "text", text: "" } }],
    ["ping", {}],
    ...split(toolUse ? TOOL_ARGUMENTS : text).map((part): [string, object] => [
      "content_block_delta",
      { index: 0, delta: toolUse ? { type: "input_json_delta", partial_json: part } : { type: "text_delta", text: part } },
    ]),
    ["content_block_stop", { index: 0 }],
    ["message_delta", { delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: outputTokens } }],
    ["message_stop", {}],
  ];
  await sendEvents(
    res,
    events.map(([type, data]) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`),
  );
}

// ---- Shared ---------------------------------------------------------------------------------------

/** Writes each SSE event separately, a few ms apart, so the client sees them arrive as separate chunks. */
async function sendEvents(res: ServerResponse, events: string[]) {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
  res.flushHeaders();
  for (const [i, event] of events.entries()) {
    if (i > 0) await sleep(EVENT_GAP_MS);
    // The client may have stopped reading (a test breaking out of the stream): stop writing too.
    if (res.destroyed) return;
    res.write(event);
  }
  res.end();
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** The text of the last message with this role: a plain string, or its text parts joined. */
function lastText(messages: Array<{ role?: string; content?: unknown }>, role: string): string {
  const content = messages.findLast((m) => m.role === role)?.content;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter((p): p is { type: "text"; text: string } => isObject(p) && p.type === "text" && typeof p.text === "string")
    .map((p) => p.text)
    .join("");
}

/** Splits text into 4 pieces (fewer only for texts under 4 characters), so streams have several deltas. */
function split(text: string): string[] {
  const size = Math.max(1, Math.ceil(text.length / 4));
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts;
}

/** A rough, deterministic token count (about 4 characters a token), only so usage is plausible. */
function countTokens(text: string) {
  return Math.max(1, Math.ceil(text.length / 4));
}

function pathOf(req: RecordedRequest) {
  return new URL(req.path, "http://standin").pathname;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
