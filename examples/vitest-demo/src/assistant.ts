import { traceable } from "langsmith/traceable";
import { ARTICLES, ORDERS, type Article, type Intent, type Order } from "./knowledge-base.js";
import { chatModel, MODEL_NAME } from "./model.js";
import { latencyFor, sleep } from "./random.js";
import { round2, tokenize } from "./text.js";

// The support assistant of Kettle & Co.: classify the question, look up the order if there is one,
// search the help center, rerank, and answer. Each step is a `traceable`, so every test run in
// LangSmith (or Tally's local store) shows the whole tree: chain → llm / tool / retriever.

export interface IntentResult {
  intent: Intent;
  confidence: number;
  /** The question with typos fixed and shouting removed. */
  normalized: string;
}

export interface AssistantAnswer {
  answer: string;
  intent: Intent;
  confidence: number;
  /** Help-center articles the answer was grounded on. */
  sources: string[];
  /** Their text, for groundedness checks. */
  context: string[];
  order: Order | null | undefined;
}

export const classifyIntent = traceable(
  async (question: string): Promise<IntentResult> => {
    const res = await chatModel({
      model: MODEL_NAME,
      temperature: 0,
      response_format: { type: "json_object" },
      messages: [
        {
          role: "system",
          content:
            "Classify the customer's question into one intent: order_status, returns_refunds, shipping, product_help, " +
            'account_billing, warranty or other. Reply with JSON: {"intent", "confidence", "normalized"}.',
        },
        { role: "user", content: question },
      ],
    });
    return JSON.parse(res.choices[0]!.message.content) as IntentResult;
  },
  { name: "classify-intent", run_type: "chain" },
);

export const lookupOrder = traceable(
  async (orderId: string): Promise<Order | null> => {
    await sleep(latencyFor(`order:${orderId}`));
    return ORDERS[orderId.toUpperCase()] ?? null;
  },
  { name: "lookup-order", run_type: "tool" },
);

interface ScoredArticle {
  article: Article;
  score: number;
}

export const searchHelpCenter = traceable(
  async (query: string, k = 6): Promise<ScoredArticle[]> => {
    await sleep(latencyFor(`search:${query}`));
    const terms = tokenize(query);
    return ARTICLES.map((article) => {
      const words = tokenize(`${article.title} ${article.text}`);
      const hits = terms.reduce((n, t) => n + (words.includes(t) ? 1 : 0), 0);
      return { article, score: round2(hits / Math.sqrt(words.length)) };
    })
      .filter((r) => r.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, k);
  },
  {
    name: "search-help-center",
    run_type: "retriever",
    // The shape LangSmith renders as a document list.
    processOutputs: (outputs) => ({
      documents: ((outputs as { outputs?: ScoredArticle[] }).outputs ?? []).map((r) => ({
        type: "Document",
        page_content: r.article.text,
        metadata: { id: r.article.id, title: r.article.title, score: r.score },
      })),
    }),
  },
);

export const rerank = traceable(
  async (input: { intent: Intent; results: ScoredArticle[]; topN: number }): Promise<Article[]> => {
    // Articles about the predicted intent first, then by retrieval score.
    return input.results
      .map((r) => ({ article: r.article, score: r.score + (r.article.intent === input.intent ? 1 : 0) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, input.topN)
      .map((r) => r.article);
  },
  {
    name: "rerank",
    run_type: "chain",
    processInputs: (inputs) => {
      const { intent, results, topN } = inputs as { intent: Intent; results: ScoredArticle[]; topN: number };
      return { intent, topN, candidates: results.map((r) => `${r.article.id} (${r.score})`) };
    },
    processOutputs: (outputs) => ({ articles: ((outputs as { outputs?: Article[] }).outputs ?? []).map((a) => a.id) }),
  },
);

/** The whole assistant: what the evals test. */
export const answerQuestion = traceable(
  async (question: string): Promise<AssistantAnswer> => {
    const { intent, confidence, normalized } = await classifyIntent(question);

    let order: Order | null | undefined;
    let orderLine: string | undefined;
    if (intent === "order_status") {
      const orderId = question.match(/KC-\d{5}/i)?.[0];
      order = orderId ? await lookupOrder(orderId) : undefined;
      orderLine = orderId ? (order ? JSON.stringify(order) : "not found") : "none";
    }

    let articles: Article[] = [];
    if (intent !== "other") {
      const results = await searchHelpCenter(normalized);
      articles = await rerank({ intent, results, topN: 2 });
    }

    const system = [
      "You are the support assistant of Kettle & Co. Answer briefly and only from the context below.",
      ...(orderLine ? [`Order record: ${orderLine}`] : []),
      "Context:",
      ...articles.map((a, i) => `[${i + 1}] ${a.title}: ${a.text}`),
    ].join("\n");
    const res = await chatModel({
      model: MODEL_NAME,
      temperature: 0.3,
      messages: [
        { role: "system", content: system },
        { role: "user", content: question },
      ],
    });
    return {
      answer: res.choices[0]!.message.content,
      intent,
      confidence,
      sources: articles.map((a) => a.id),
      context: articles.map((a) => a.text),
      order,
    };
  },
  { name: "support-assistant", run_type: "chain" },
);
