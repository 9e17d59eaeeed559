import { describe, expect, it } from "vitest";
import { annotate, annotationsOf } from "./annotations.js";

describe("annotations", () => {
  it("reaches the runner task's own array, not a copy", () => {
    const task = { annotations: [{ type: "note", message: "kept" }] };
    expect(annotationsOf({ task })).toBe(task.annotations);
  });

  it("adds an annotation unless one of its type is there", () => {
    const task = { annotations: [{ type: "langsmith", message: "https://earlier" }] };
    expect(annotate({ task }, "langsmith", "https://later")).toBe(true);
    expect(annotate({ task }, "other", "v")).toBe(true);
    expect(task.annotations).toEqual([
      { type: "langsmith", message: "https://earlier" },
      { type: "other", message: "v" },
    ]);
  });

  it("gives up where the task or its annotations are not as Vitest keeps them", () => {
    expect(annotate({}, "langsmith", "u")).toBe(false);
    expect(annotate({ task: null }, "langsmith", "u")).toBe(false);
    expect(annotate({ task: { annotations: "no" } }, "langsmith", "u")).toBe(false);
    expect(annotate({ task: { annotations: [{ type: 1 }] } }, "langsmith", "u")).toBe(false);
  });
});
