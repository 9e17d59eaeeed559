import { mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { TallyReportV2 } from "../../packages/core/src/index.js";
import { type RunningUi, startUi } from "../../packages/store/src/viewer/index.js";
import { CHROMIUM_ARGS, findChromium } from "../support/browser.ts";
import { MATRIX, REPO, runVitest } from "../support/run-vitest.ts";
import { type GeneratedSuite, generateSuite, writeTallyTestFile } from "../support/suite.ts";

// `tally ui` in a real browser (the system's Chromium through playwright-core), over a store filled
// by real Vitest runs of one eval suite whose scores change from run to run: the list, a dataset
// with its trends, the comparison of two experiments, an experiment, a trace; by keyboard as well as
// by click; live while a run is going; and never an error in the browser's console. With
// TALLY_SCREENSHOTS=1 the pages are photographed into docs/screenshots (the README shows them).

const executable = findChromium();
if (!executable) {
  console.warn(
    "viewer-browser: no Chromium found (install Debian's `chromium`, or set PLAYWRIGHT_CHROMIUM_EXECUTABLE): the browser tests are skipped",
  );
}

const DATASET = "viewer-tour";
const SHOTS = process.env.TALLY_SCREENSHOTS === "1" ? join(REPO, "docs", "screenshots") : join(tmpdir(), "tally-viewer-screenshots");

/**
 * Six cases in two files; `ROUND` (1, 2, 3) sets their scores: round 2 breaks two cases and lowers a
 * score, round 3 mends one. Each test calls a traced app and a chat model span with token usage.
 * `SLOW_MS` makes each test wait, for the live round.
 */
function caseFile(f: number): string {
  const cases = [0, 1, 2].map((i) => {
    const id = `${f}-${i}`;
    return `  ls.test("case ${id}", { inputs: { q: "question ${id}" }, referenceOutputs: { a: "answer to question ${id}" } }, async ({ inputs }) => {
    const round = Number(process.env.ROUND ?? 1);
    if (process.env.SLOW_MS) await new Promise((r) => setTimeout(r, Number(process.env.SLOW_MS)));
    const answer = await app(inputs.q);
    await chat(inputs.q);
    const broken = round === 2 ? ["0-1", "1-2"].includes("${id}") : round === 3 ? "${id}" === "1-2" : false;
    ls.logFeedback({ key: "quality", score: broken ? 0.2 : round === 2 && "${id}" === "0-0" ? 0.6 : 0.9 });
    ls.expect(broken).toBe(false);
    return { answer };
  });`;
  });
  return `import { traceable } from "langsmith/traceable";
const chat = traceable(async (q) => ({ content: "chat about " + q, usage_metadata: { input_tokens: 12, output_tokens: 5, total_tokens: 17 } }), { name: "chat", run_type: "llm" });
ls.describe(${JSON.stringify(DATASET)}, () => {
${cases.join("\n")}
});`;
}

let suite: GeneratedSuite;
let ui: RunningUi;
let browser: Browser;
const consoleErrors: string[] = [];

async function runRound(round: number, extra: Record<string, string> = {}) {
  // No API key: every run records into the suite's embedded store.
  return runVitest("vitest4", suite.dir, [], { ROUND: String(round), ...extra });
}

async function newPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

/** Tabs through the page until `selector` has the focus (at most `max` presses). */
async function tabTo(page: Page, selector: string, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`${selector} never got the focus in ${max} Tab presses on ${page.url()}`);
}

describe.skipIf(!executable)("tally ui in Chromium", () => {
  beforeAll(async () => {
    suite = generateSuite(join(MATRIX, "vitest4", ".suites", "viewer-browser"), { flavour: "tally", files: 0, tests: 0, dataset: DATASET });
    for (const f of [0, 1]) writeTallyTestFile(suite, "vitest", `cases-${f}`, caseFile(f));
    for (const round of [1, 2, 3]) {
      const r = await runRound(round);
      expect(r.stdout + r.stderr).toContain("tally: 6/6 runs");
    }
    ui = await startUi({ dbPath: join(suite.dir, ".tally", "tally.db"), port: 0 });
    browser = await chromium.launch({ executablePath: executable, args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await ui?.close();
  });

  test("list → dataset → trend → compare → experiment → trace, by click", async () => {
    const page = await newPage();
    await page.goto(ui.url);
    await shot(page, "datasets");
    await page.getByRole("link", { name: DATASET, exact: true }).first().click();
    await expect.poll(() => page.url()).toMatch(/\/datasets\/[0-9a-f-]+$/);

    // Trends: the pass rate over the three experiments, oldest first: 1, 4/6, 5/6.
    const trend = page.locator('svg.trend[data-measure="pass"]');
    await trend.waitFor();
    const points = trend.locator("a.point");
    expect(await points.count()).toBe(3);
    const values = await points.evaluateAll((as) => as.map((a) => Number(a.getAttribute("data-value"))));
    expect(values.map((v) => Math.round(v * 100) / 100)).toEqual([1, 0.67, 0.83]);
    // Each pass rate with its Wilson interval, a whisker through the point (6 tests each: 6 of 6 is [0.61, 1]).
    const whiskers = trend.locator("line.whisker");
    expect(await whiskers.count()).toBe(3);
    expect(Number(await whiskers.first().getAttribute("data-hi"))).toBe(1);
    expect(Number(await whiskers.first().getAttribute("data-lo"))).toBeCloseTo(0.6097, 3);
    await expect.poll(() => page.locator('svg.trend[data-measure="quality"] a.point').count()).toBe(3);
    await shot(page, "dataset-trends");

    // The newest point opens the newest experiment, whose "compare with previous" opens the comparison.
    const newest = await points.last().getAttribute("data-experiment");
    await points.last().click();
    await expect.poll(() => page.url()).toContain(`/experiments/${newest}`);
    await shot(page, "experiment");
    await page.locator("#compare-previous").click();
    await expect.poll(() => page.url()).toMatch(/\/compare\?selectedSessions=[^,]+,/);
    const table = page.locator("table.compare");
    await table.waitFor();
    expect(await table.locator("tr[data-example]").count()).toBe(6);
    // Round 3 against round 2: case 0-1 mended (improved), case 1-2 still broken, the rest the same.
    expect(await table.locator("tr[data-example].improved").count()).toBeGreaterThanOrEqual(1);
    await shot(page, "compare");
    await page.locator("#only-changed").click();
    await expect.poll(() => page.url()).toContain("changed=1");
    const changed = await table.locator("tr[data-example]").count();
    expect(changed).toBeGreaterThanOrEqual(1);
    expect(changed).toBeLessThan(6);

    // A run's trace: the waterfall of its spans, with the chat span's tokens.
    await table.locator("tr[data-example] a[href*='/runs/']").first().click();
    await expect.poll(() => page.url()).toMatch(/\/runs\/[0-9a-f-]+$/);
    const rows = page.locator(".waterfall .span-row");
    await rows.first().waitFor();
    expect(await rows.count()).toBe(6); // the test, app, retrieve, generate, format, chat
    expect(await page.locator(".waterfall .bar").count()).toBe(6);
    await expect.poll(() => page.textContent("body")).toMatch(/17\s*tokens|tokens[^0-9]*17/i);
    await shot(page, "trace");
    await page.close();
  });

  test("the same path by keyboard", async () => {
    const page = await newPage();
    await page.goto(ui.url);
    await tabTo(page, `a[href^="/datasets/"]`);
    await page.keyboard.press("Enter");
    await expect.poll(() => page.url()).toMatch(/\/datasets\/[0-9a-f-]+$/);
    // The newest experiment's point: the oldest has no earlier one to compare with.
    const newest = await page.locator('svg.trend[data-measure="pass"] a.point').last().getAttribute("data-experiment");
    await tabTo(page, `svg.trend[data-measure="pass"] a.point[data-experiment="${newest}"]`);
    await page.keyboard.press("Enter");
    await expect.poll(() => page.url()).toMatch(/\/experiments\/[0-9a-f-]+$/);
    const experiment = page.url();
    await page.goto(experiment);
    await tabTo(page, "#compare-previous");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.url()).toContain("/compare?");
    await tabTo(page, "#only-changed");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.url()).toContain("changed=1");
    await page.close();
  });

  test("live: an open experiment page fills in as the run goes, then says it ended", async () => {
    const page = await newPage();
    const datasetUrl = async () => {
      await page.goto(ui.url);
      return page.getByRole("link", { name: DATASET, exact: true }).first().getAttribute("href");
    };
    const dataset = await datasetUrl();
    const experimentsNow = async () => {
      const html = await (await fetch(ui.url + dataset)).text();
      return new Set([...html.matchAll(/href="\/experiments\/([0-9a-f-]+)"/g)].map((m) => m[1]!));
    };
    const before = await experimentsNow();
    // One worker, each test waiting 700 ms: the run takes several seconds after its experiment appears.
    const running = runRound(1, { SLOW_MS: "700" });
    let id: string | undefined;
    await expect
      .poll(
        async () => {
          id = [...(await experimentsNow())].find((x) => !before.has(x));
          return id;
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBeDefined();
    await page.goto(`${ui.url}/experiments/${id}`);
    const status = page.locator("#live-status");
    await expect.poll(() => status.textContent(), { timeout: 10_000 }).toMatch(/live/i);
    const rowsAtOpen = await page.locator("a[href^='/runs/']").count();
    // A reload would lose this: the page must update in place.
    await page.evaluate(() => Object.assign(window, { __sameDocument: true }));
    const r = await running;
    expect(r.stdout + r.stderr).toContain("tally: 6/6 runs");
    await expect.poll(() => status.textContent(), { timeout: 15_000 }).toMatch(/run ended/i);
    // The runs that arrived after the page opened are on it, without a reload.
    await expect.poll(() => page.locator("a[href^='/runs/']").count(), { timeout: 10_000 }).toBeGreaterThan(rowsAtOpen);
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    await page.close();
  });

  test("with JavaScript off: the trends, the comparison and the trace are all there (rendered on the server)", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(ui.url);
    await page.getByRole("link", { name: DATASET, exact: true }).first().click();
    // Three experiments, and the live test's when it ran first.
    expect(await page.locator('svg.trend[data-measure="pass"] a.point').count()).toBeGreaterThanOrEqual(3);
    await page.locator('svg.trend[data-measure="pass"] a.point').nth(2).click();
    await page.locator("#compare-previous").click();
    expect(await page.locator("table.compare tr[data-example]").count()).toBe(6);
    await page.locator("#only-changed").click();
    expect(await page.locator("table.compare tr[data-example]").count()).toBeLessThan(6);
    await page.locator("table.compare tr[data-example] a[href*='/runs/']").first().click();
    expect(await page.locator(".waterfall .span-row").count()).toBe(6);
    await context.close();
  });

  test("no errors in the browser's console on any page visited", () => {
    expect(consoleErrors).toEqual([]);
  });
});

/**
 * Eight cases, each run three times (TALLY_TRIALS=3): a module-level count tells a case its trial, and
 * case i passes on trial t unless (i + t + round) % 3 is 0; `quality` is continuous. Two rounds give
 * the comparison an earlier experiment.
 */
const SPREAD_DATASET = "viewer-spread";
const spreadFile = `const trialOf = new Map();
ls.describe(${JSON.stringify(SPREAD_DATASET)}, () => {
${[0, 1, 2, 3, 4, 5, 6, 7]
  .map(
    (i) => `  ls.test("spread case ${i}", { inputs: { q: "spread question ${i}" } }, async ({ inputs }) => {
    const round = Number(process.env.ROUND ?? 1);
    const t = (trialOf.get(${i}) ?? 0) + 1;
    trialOf.set(${i}, t);
    ls.logFeedback({ key: "quality", score: Math.round((0.35 + 0.07 * ${i} + 0.04 * t - 0.03 * round) * 1000) / 1000 });
    ls.expect((${i} + t + round) % 3 === 0 && ${i} % 2 === 0).toBe(false);
    return { answer: await app(inputs.q) };
  });`,
  )
  .join("\n")}
});`;

describe.skipIf(!executable)("tally ui in Chromium: the spread, as the JSON report has it", () => {
  let spreadUi: RunningUi;
  let report: TallyReportV2;

  beforeAll(async () => {
    const dir = join(MATRIX, "vitest4", ".suites", "viewer-spread");
    const spreadSuite = generateSuite(dir, { flavour: "tally", files: 0, tests: 0, dataset: SPREAD_DATASET });
    writeTallyTestFile(spreadSuite, "vitest", "spread", spreadFile);
    for (const round of [1, 2]) {
      const r = await runVitest("vitest4", spreadSuite.dir, [], {
        ROUND: String(round),
        TALLY_TRIALS: "3",
        ...(round === 2 ? { TALLY_REPORT_FILE: join(dir, "report.json") } : {}),
      });
      expect(r.stdout + r.stderr).toContain("tally: 24/24 runs");
    }
    report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as TallyReportV2;
    spreadUi = await startUi({ dbPath: join(spreadSuite.dir, ".tally", "tally.db"), port: 0 });
    // The tour's browser is closed after its tests: this block has one of its own.
    browser = await chromium.launch({ executablePath: executable, args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await spreadUi?.close();
  });

  test("the experiment page shows the report's pass rate and mean with their intervals, trials, pass@3 and pass^3", async () => {
    const exp = report.experiments[0]!;
    expect(exp.trials).toBe(3);
    expect(exp.passRateCi).not.toBeNull();
    const page = await newPage();
    await page.goto(`${spreadUi.url}/experiments/${exp.id}`);

    const pass = page.locator(".stat", { has: page.locator('.label[title="Pass rate"]') });
    const passCi = pass.locator(".ci");
    await passCi.waitFor({ state: "visible" });
    expect(await passCi.textContent()).toMatch(/^\[\d+(\.\d)?%, \d+(\.\d)?%\]$/);
    // The very numbers of the report: same function, same tests, same seed (the experiment's name).
    expect([Number(await passCi.getAttribute("data-lo")), Number(await passCi.getAttribute("data-hi"))]).toEqual(exp.passRateCi);
    expect(Number(await pass.locator("[data-measure=pass]").getAttribute("data-value"))).toBe(exp.passRate);

    const quality = page.locator(".stat", { has: page.locator('.label[title="quality"]') });
    const qualityCi = quality.locator(".ci");
    expect(await qualityCi.isVisible()).toBe(true);
    expect(await qualityCi.textContent()).toMatch(/^\[0\.\d\d, 0\.\d\d\]$/);
    expect([Number(await qualityCi.getAttribute("data-lo")), Number(await qualityCi.getAttribute("data-hi"))]).toEqual(
      exp.scores.quality!.ci,
    );
    expect(Number(await quality.locator("[data-measure=quality]").getAttribute("data-value"))).toBeCloseTo(exp.scores.quality!.mean, 12);

    const trials = page.locator(".stat", { has: page.locator('.label[title="Trials"]') });
    expect(await trials.locator(".value").textContent()).toBe("3");
    expect(Number(await trials.locator("[data-pass-at-k]").getAttribute("data-pass-at-k"))).toBe(exp.passAtK);
    expect(Number(await trials.locator("[data-pass-hat-k]").getAttribute("data-pass-hat-k"))).toBe(exp.passHatK);
    expect(await trials.textContent()).toMatch(/pass@3 \d+(\.\d)?% · pass\^3 \d+(\.\d)?%/);

    // Each example's trials: eight rows, each with its pass rate's interval, as the report's examples.
    const rows = page.locator("table.trials tbody tr");
    expect(await rows.count()).toBe(8);
    for (const e of exp.examples!) {
      const ci = page.locator(`table.trials tr[data-example="${e.exampleId}"] .ci`);
      expect(await ci.isVisible()).toBe(true);
      expect([Number(await ci.getAttribute("data-lo")), Number(await ci.getAttribute("data-hi"))]).toEqual(e.passRateCi);
    }
    await shot(page, "experiment-spread");
    await page.close();
    expect(consoleErrors).toEqual([]);
  });

  test("the comparison's column headers show each experiment's pass rate and means with their intervals", async () => {
    const exp = report.experiments[0]!;
    const page = await newPage();
    await page.goto(`${spreadUi.url}/experiments/${exp.id}`);
    await page.locator("#compare-previous").click();
    await expect.poll(() => page.url()).toContain("/compare?");
    const heads = page.locator("table.compare th.exp");
    expect(await heads.count()).toBe(2);
    for (const head of await heads.all()) {
      expect(await head.locator("[data-measure=pass] .ci").isVisible()).toBe(true);
      expect(await head.locator("[data-measure=quality] .ci").isVisible()).toBe(true);
    }
    const current = page.locator(`table.compare th.exp[data-session="${exp.id}"]`);
    const ci = current.locator("[data-measure=pass] .ci");
    expect([Number(await ci.getAttribute("data-lo")), Number(await ci.getAttribute("data-hi"))]).toEqual(exp.passRateCi);
    const q = current.locator("[data-measure=quality] .ci");
    expect([Number(await q.getAttribute("data-lo")), Number(await q.getAttribute("data-hi"))]).toEqual(exp.scores.quality!.ci);
    await page.close();
  });
});
