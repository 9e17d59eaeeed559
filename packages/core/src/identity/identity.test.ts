import { describe, expect, test } from "vitest";
import { objectHash } from "./example-hash.js";
import { exampleId, experimentIdentity } from "./experiment.js";
import { deriveRunKey } from "./run-key.js";

describe("run key", () => {
  test("CI shards of one pipeline run derive the same key; a retry gets another", () => {
    const a = deriveRunKey({ GITHUB_RUN_ID: "991", GITHUB_RUN_ATTEMPT: "1" });
    const b = deriveRunKey({ GITHUB_RUN_ID: "991", GITHUB_RUN_ATTEMPT: "1" });
    const retry = deriveRunKey({ GITHUB_RUN_ID: "991", GITHUB_RUN_ATTEMPT: "2" });
    expect(a).toEqual({ key: "gh-991-1", source: "GITHUB_RUN_ID" });
    expect(b.key).toBe(a.key);
    expect(retry.key).not.toBe(a.key);
  });

  test("TALLY_RUN_ID wins over CI variables and is sanitised", () => {
    expect(deriveRunKey({ TALLY_RUN_ID: "my run/1", GITHUB_RUN_ID: "5" }).key).toBe("my-run-1");
  });

  test("GitLab, Buildkite and CircleCI are recognised", () => {
    expect(deriveRunKey({ GITLAB_CI: "true", CI_PIPELINE_ID: "77" }).key).toBe("gl-77");
    expect(deriveRunKey({ BUILDKITE_BUILD_ID: "b1" }).key).toBe("bk-b1-0");
    expect(deriveRunKey({ CIRCLE_WORKFLOW_ID: "w9" }).key).toBe("cc-w9");
  });

  test("without CI, each invocation gets a fresh, readable key", () => {
    const now = new Date("2026-11-21T10:20:30Z");
    const a = deriveRunKey({}, now);
    const b = deriveRunKey({}, now);
    expect(a.key).toMatch(/^20261121-102030-[0-9a-f]{4}$/);
    expect(a.source).toBe("fresh for this invocation");
    expect(a.key).not.toBe(b.key);
  });
});

describe("experiment identity", () => {
  test("is a pure function of dataset, run key and prefix", () => {
    const a = experimentIdentity("qa", "gh-1-1");
    expect(a).toEqual(experimentIdentity("qa", "gh-1-1"));
    expect(a.name).toBe("qa:gh-1-1");
    expect(experimentIdentity("qa", "gh-1-2").id).not.toBe(a.id);
    expect(experimentIdentity("qa", "gh-1-1", "nightly").name).toBe("nightly:gh-1-1");
  });
});

describe("example ids (compatible with langsmith/vitest)", () => {
  test("hash ignores key order and treats null like undefined", () => {
    expect(objectHash({ a: 1, b: [1, { c: 2 }] })).toBe(objectHash({ b: [1, { c: 2 }], a: 1 }));
    expect(objectHash(null)).toBe(objectHash(undefined));
    expect(objectHash({ a: 1 })).not.toBe(objectHash({ a: "1" }));
  });

  test("matches a value computed independently from the published scheme", async () => {
    // sha256 over "key:<hash>" joined by "," with sorted keys; leaves are sha256(JSON.stringify(v)).
    const { createHash } = await import("node:crypto");
    const sha = (s: string) => createHash("sha256").update(s).digest("hex");
    const inputs = { q: "hi", n: 2 };
    const manual = sha(`n:${sha("2")},q:${sha('"hi"')}`);
    expect(objectHash(inputs)).toBe(manual);
    const id = exampleId("00000000-0000-4000-8000-000000000000", manual, objectHash({}));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(exampleId("00000000-0000-4000-8000-000000000000", manual, objectHash({}))).toBe(id);
  });

  test("absurdly deep inputs still hash (cut at 100 levels) instead of failing the file", () => {
    const nest = (levels: number, leaf: unknown) => {
      let v: unknown = leaf;
      for (let i = 0; i < levels; i++) v = { x: v };
      return v;
    };
    expect(objectHash(nest(5000, 1))).toMatch(/^[0-9a-f]{64}$/);
    // Below the cut, depth still counts; beyond it, what is deeper no longer changes the id.
    expect(objectHash(nest(60, 1))).not.toBe(objectHash(nest(60, 2)));
    expect(objectHash(nest(150, 1))).toBe(objectHash(nest(150, 2)));
  });
});
