export { answerQuestion, classifyIntent, lookupOrder, rerank, searchHelpCenter } from "./assistant.js";
export type { AssistantAnswer, IntentResult } from "./assistant.js";
export { ARTICLES, ORDERS } from "./knowledge-base.js";
export type { Article, Intent, Order } from "./knowledge-base.js";
export { chatModel, normalizeQuestion } from "./model.js";
