import { traceable } from "langsmith/traceable";
import { ARTICLES, type Intent } from "./knowledge-base.js";
import { latencyFor, seededRandom, sleep } from "./random.js";
import { editDistance, overlap, round2, sentences } from "./text.js";

// A fake chat model with an OpenAI-shaped request and response. It reads the prompt it is given
// (the task, the context, the order record) and answers deterministically: every "random" choice
// is seeded by the prompt, so answers are stable from run to run. It is deliberately not perfect:
// sometimes it is terse and drops a detail, sometimes it rambles, and its confidence wobbles, so
// the evaluators have something to measure.

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  /** Asks for a JSON object, like `response_format: { type: "json_object" }`. */
  response_format?: { type: "json_object" | "text" };
}

export interface ChatResponse {
  id: string;
  model: string;
  choices: Array<{ index: number; message: { role: "assistant"; content: string }; finish_reason: "stop" }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export const MODEL_NAME = "kettle-sim-1";

async function complete(request: ChatRequest): Promise<ChatResponse> {
  const prompt = request.messages.map((m) => `${m.role}: ${m.content}`).join("\n");
  await sleep(latencyFor(prompt));
  const system = request.messages.find((m) => m.role === "system")?.content ?? "";
  const user = request.messages.filter((m) => m.role === "user").at(-1)?.content ?? "";
  const content = system.startsWith("Classify") ? classify(user) : answer(system, user, seededRandom(prompt));
  const promptTokens = Math.ceil(prompt.length / 4);
  const completionTokens = Math.ceil(content.length / 4);
  return {
    id: `chatcmpl-${(seededRandom(prompt)() * 1e9).toFixed(0)}`,
    model: request.model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

/** The model call, traced as an `llm` run (LangSmith shows the messages and the token usage). */
export const chatModel = traceable(complete, {
  name: "ChatKettleSim",
  run_type: "llm",
  metadata: { ls_provider: "kettle-sim", ls_model_name: MODEL_NAME, ls_model_type: "chat" },
});

// ---------------------------------------------------------------------------------------------
// Intent classification

// Ties go to the intent listed first.
const INTENT_KEYWORDS: Record<Exclude<Intent, "other">, string[]> = {
  order_status: ["order", "where", "track", "tracking", "arrive", "arrived", "package", "parcel", "status", "shipped", "late"],
  warranty: ["warranty", "broken", "defect", "defective", "stopped", "working", "faulty", "cracked", "leaking", "repair"],
  returns_refunds: ["return", "returns", "refund", "refunds", "money", "back", "exchange", "unused"],
  shipping: ["shipping", "ship", "delivery", "deliver", "express", "international", "canada", "uk", "eu", "duties", "free"],
  product_help: ["descale", "descaling", "grind", "grinder", "setting", "brew", "pour-over", "french", "press", "vinegar", "clean"],
  account_billing: [
    "password",
    "login",
    "log",
    "sign",
    "account",
    "subscription",
    "billing",
    "charged",
    "card",
    "paypal",
    "pay",
    "payment",
    "promo",
    "code",
    "cancel",
  ],
};

const VOCABULARY = [
  ...new Set([...Object.values(INTENT_KEYWORDS).flat(), ...ARTICLES.flatMap((a) => a.text.toLowerCase().match(/[a-z]+/g) ?? [])]),
];

/** Lower-cases, drops shouting punctuation and fixes small typos against the shop's vocabulary. */
export function normalizeQuestion(question: string): string {
  const words = question
    .toLowerCase()
    .replace(/[!?.,]+/g, " ")
    .split(/\s+/)
    .filter(Boolean);
  return words
    .map((w) => {
      if (w.length < 5 || /\d/.test(w) || VOCABULARY.includes(w)) return w;
      const maxEdits = w.length >= 8 ? 2 : 1;
      let best = w;
      let bestDistance = maxEdits + 1;
      for (const v of VOCABULARY) {
        if (Math.abs(v.length - w.length) > maxEdits) continue;
        const d = editDistance(w, v);
        if (d < bestDistance) [best, bestDistance] = [v, d];
      }
      return best;
    })
    .join(" ");
}

function classify(question: string): string {
  const normalized = normalizeQuestion(question);
  const words = normalized.split(" ");
  const scores = Object.entries(INTENT_KEYWORDS).map(([intent, keywords]) => {
    let score = words.filter((w) => keywords.includes(w)).length;
    if (intent === "order_status" && /kc-\d{5}/.test(normalized)) score += 2;
    return { intent: intent as Intent, score };
  });
  scores.sort((a, b) => b.score - a.score);
  const [top, second] = [scores[0]!, scores[1]!];
  const jitter = (seededRandom(`confidence:${normalized}`)() - 0.5) * 0.2;
  if (top.score === 0) {
    return JSON.stringify({ intent: "other", confidence: round2(0.55 + jitter), normalized });
  }
  const margin = (top.score - second.score) / (top.score + second.score + 0.5);
  const confidence = Math.min(0.98, Math.max(0.4, 0.45 + 0.55 * margin + jitter));
  return JSON.stringify({ intent: top.intent, confidence: round2(confidence), normalized });
}

// ---------------------------------------------------------------------------------------------
// Answer generation

const UPSET = /\b(angry|ridiculous|terrible|worst|unacceptable|furious|annoyed|still)\b|!!|[A-Z]{5,}/;

function answer(system: string, question: string, random: () => number): string {
  const roll = random();
  const style = roll < 0.25 ? "terse" : roll < 0.38 ? "rambling" : roll < 0.5 ? "hallucinating" : "complete";
  const opening = UPSET.test(question) ? "I'm sorry about the trouble." : random() < 0.5 ? "Happy to help!" : "";
  const closing = random() < 0.6 ? "Is there anything else I can help with?" : "";
  const parts: string[] = [opening];

  const order = system.match(/^Order record: (.*)$/m)?.[1];
  const context = [...system.matchAll(/^\[\d+\] [^:]*: (.*)$/gm)].map((m) => m[1]!);

  if (system.includes("Order record: not found")) {
    const id = question.match(/KC-\d{5}/i)?.[0]?.toUpperCase() ?? "that number";
    parts.push(`I couldn't find an order with the number ${id}. Could you double-check it? Order numbers look like KC-12345.`);
  } else if (system.includes("Order record: none")) {
    parts.push("Could you share your order number? It starts with KC- and is in your confirmation email, and I'll look it up right away.");
  } else if (order) {
    parts.push(describeOrder(JSON.parse(order), style === "terse"));
  } else if (context.length === 0) {
    parts.push(
      "I can help with orders, shipping, returns, warranty and our coffee and tea gear, but not with that request.",
      "Is there anything about your Kettle & Co. order I can help with?",
    );
    return parts.filter(Boolean).join(" ");
  }

  // Facts from the retrieved articles, most relevant to the question first.
  const candidates = context
    .flatMap((text, rank) => sentences(text).map((s) => ({ s, score: overlap(question, s) + overlap(s, question) * 0.5 - rank * 0.05 })))
    .sort((a, b) => b.score - a.score);
  const wanted = order ? (style === "complete" ? 1 : 0) : style === "terse" ? 1 : 2;
  parts.push(...candidates.slice(0, wanted).map((c) => c.s));
  if (style === "rambling" && candidates.length > 3) parts.push(candidates.at(-1)!.s, "Policies can differ for some products.");
  if (style === "hallucinating") parts.push(INVENTED[Math.floor(random() * INVENTED.length)]!);
  parts.push(closing);
  return parts.filter(Boolean).join(" ");
}

/** Plausible things the model sometimes adds that no article says: what groundedness catches. */
const INVENTED = [
  "Kettle Club members also get free express shipping on every order.",
  "You can also drop returns off at any partner café.",
  "Most orders arrive within 24 hours.",
  "We will add a 10% voucher to your next order for the inconvenience.",
];

interface OrderRecord {
  id: string;
  status: string;
  items: string[];
  carrier?: string;
  eta?: string;
  deliveredOn?: string;
  note?: string;
}

function describeOrder(o: OrderRecord, terse: boolean): string {
  const what = `Your order ${o.id} (${o.items.join(", ")})`;
  switch (o.status) {
    case "shipped":
      return terse ? `${what} has shipped.` : `${what} has shipped with ${o.carrier} and should arrive by ${o.eta}.`;
    case "processing":
      return `${what} is still being prepared at our warehouse${terse ? "." : " and usually leaves within one business day."}`;
    case "delivered":
      return `${what} was delivered on ${o.deliveredOn}.`;
    case "delayed":
      return terse
        ? `${what} is delayed.`
        : `${what} is delayed: it is ${o.note}, and the new estimated delivery is ${o.eta}. Sorry about the wait!`;
    default:
      return `${what} has the status ${o.status}.`;
  }
}
