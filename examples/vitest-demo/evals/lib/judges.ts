import * as ls from "@tally/vitest-plugin";
import type { AssistantAnswer } from "../../src/index.js";
import { sleep } from "../../src/random.js";
import { overlap, round2, sentences } from "../../src/text.js";

// Evaluators. In a real suite these would ask a strong model to grade the answer against a rubric
// (LLM-as-judge); here they apply the same rubric with deterministic heuristics, so the demo needs
// no API key and gives the same scores on every run. `ls.wrapEvaluator` traces each call as its own
// run and records what it returns as feedback on the test's run.

// Greetings, apologies, questions back to the customer and how-to-reach-us lines are not claims.
const PLEASANTRIES = /^(happy to help|i'm sorry|is there anything|sorry about|could you|order numbers look|it starts with)/i;

/** The parts of an answer that state facts (greetings and offers to help are not graded). */
function claims(answer: string): string[] {
  return sentences(answer).filter((s) => !PLEASANTRIES.test(s));
}

export interface AnswerReference {
  /** Facts a correct answer must state, as short phrases. */
  mustMention: string[];
  /** A reference answer written by the support team. */
  answer?: string;
}

/**
 * Correctness rubric: does the answer state the facts the reference requires, without padding?
 * 0.7 for coverage of the required facts, 0.3 for staying on topic. Rounded to a 0.05 grid, like
 * a judge model answering on a 20-point scale.
 */
export const correctness = ls.wrapEvaluator(gradeCorrectness);

// The function's name is the name of the evaluator run.
async function gradeCorrectness({ outputs, referenceOutputs }: { outputs: AssistantAnswer; referenceOutputs?: AnswerReference }) {
  await sleep(8); // the judge "thinks"
  const required = referenceOutputs?.mustMention ?? [];
  const answer = outputs.answer.toLowerCase();
  const missing = required.filter((fact) => !answer.includes(fact.toLowerCase()));
  const coverage = required.length ? (required.length - missing.length) / required.length : 1;
  const stated = claims(outputs.answer);
  const reference = referenceOutputs?.answer ?? required.join(" ");
  const onTopic = stated.length ? stated.filter((s) => overlap(s, `${reference} ${required.join(" ")}`) >= 0.3).length / stated.length : 1;
  const score = Math.round((0.7 * coverage + 0.3 * onTopic) * 20) / 20;
  return {
    key: "correctness",
    score,
    comment: missing.length
      ? `missing: ${missing.join("; ")}`
      : onTopic < 1
        ? "all facts present, some off-topic sentences"
        : "complete and on topic",
  };
}

/**
 * Groundedness: the share of the answer's factual sentences supported by what the assistant
 * retrieved (help-center articles and the order record). Unsupported sentences are hallucinations.
 */
export function groundedness(outputs: AssistantAnswer): number {
  const stated = claims(outputs.answer);
  if (stated.length === 0) return 1;
  const orderRecord =
    outputs.order === null ? "couldn't find order number" : outputs.order ? JSON.stringify(outputs.order).replace(/[{}":,]/g, " ") : "";
  const evidence = [...outputs.context, orderRecord].join(" ");
  const supported = stated.filter((s) => overlap(s, evidence) >= 0.5).length;
  return round2(supported / stated.length);
}

/**
 * Tone rubric for upset or off-topic customers: acknowledge the problem, stay polite, offer a next
 * step, keep it short.
 */
export const tone = ls.wrapEvaluator(gradeTone);

async function gradeTone({ inputs, outputs }: { inputs: { question: string }; outputs: AssistantAnswer }) {
  await sleep(6);
  const upset = /ridiculous|unacceptable|angry|furious|terrible|!!|[A-Z]{5,}/.test(inputs.question);
  const text = outputs.answer;
  let score = 1;
  const notes: string[] = [];
  if (upset && !/sorry|apolog/i.test(text)) {
    score -= 0.35;
    notes.push("no apology to an upset customer");
  }
  if (!/\?\s*$|let me know|anything else|i'll look/i.test(text)) {
    score -= 0.2;
    notes.push("no next step offered");
  }
  if (/happy to help/i.test(text) && upset) {
    score -= 0.15;
    notes.push("cheerful opening for a complaint");
  }
  if (text.length > 260) {
    score -= 0.15;
    notes.push("long-winded");
  }
  if (/\b(you should have|your fault|calm down)\b/i.test(text)) {
    score -= 0.5;
    notes.push("blames the customer");
  }
  return { key: "tone", score: round2(Math.max(0, score)), comment: notes.join("; ") || "warm and to the point" };
}
