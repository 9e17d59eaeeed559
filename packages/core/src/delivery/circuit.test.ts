import { expect, test } from "vitest";
import { BackendError } from "../backend/port.js";
import { Circuit } from "./circuit.js";

const refused = () => new BackendError("POST /runs/multipart: backend unreachable (ECONNREFUSED)", undefined, undefined, true);
const answered = (status: number) => new BackendError(`POST /runs/multipart: backend answered ${status}`, status, undefined, true);

test("opens after five transport failures in a row, then admits one probe at a time, at its time", () => {
  let now = 1_000;
  const c = new Circuit(
    () => now,
    () => 0.5,
  );
  for (let i = 0; i < 4; i++) expect(c.failure(refused())).toBe(true);
  expect(c.open).toBe(false);
  expect(c.admit()).toBe(true);
  c.failure(refused());
  expect(c.open).toBe(true);
  expect(c.reason).toBe("connection refused");
  expect(c.admit(), "not before the probe's time").toBe(false);
  now += c.waitMs();
  expect(c.admit()).toBe(true);
  expect(c.admit(), "one probe at a time").toBe(false);
  c.settle();
  c.failure(refused());
  const gap = c.waitMs();
  expect(gap, "the gap grows").toBeGreaterThan(375);
  c.probeNow();
  expect(c.admit(), "the run's end tries once more at once").toBe(true);
  c.settle();
  c.success();
  expect(c.open).toBe(false);
  expect(c.reason).toBeUndefined();
});

test("HTTP answers, 5xx included, never open it; a success in between starts the count again", () => {
  const c = new Circuit();
  for (let i = 0; i < 10; i++) expect(c.failure(answered(503))).toBe(false);
  expect(c.open).toBe(false);
  for (let i = 0; i < 4; i++) c.failure(refused());
  c.success();
  for (let i = 0; i < 4; i++) c.failure(refused());
  expect(c.open).toBe(false);
});

test("a transport failure is retried soon while closed; at the next probe once open", () => {
  let now = 0;
  const c = new Circuit(
    () => now,
    () => 0,
  );
  expect(c.retryDelayMs(refused(), 5_000)).toBe(100);
  expect(c.retryDelayMs(answered(503), 5_000)).toBe(5_000);
  for (let i = 0; i < 5; i++) c.failure(refused());
  expect(c.retryDelayMs(answered(503), 5_000)).toBe(c.waitMs());
  now += 10_000;
  expect(c.retryDelayMs(refused(), 5_000), "never a busy loop").toBe(50);
});

test("a run that ends gives up at once on refused connections, after three more failed probes on dropped ones", () => {
  let now = 0;
  const c = new Circuit(
    () => now,
    () => 0,
  );
  const dropped = () => new BackendError("POST /runs/multipart: backend unreachable (UND_ERR_SOCKET)", undefined, undefined, true);
  for (let i = 0; i < 5; i++) c.failure(dropped());
  now = 10;
  expect(c.givesUp(5), "no try failed since the end began").toBe(false);
  for (let i = 0; i < 2; i++) c.failure(dropped());
  expect(c.givesUp(5)).toBe(false);
  c.failure(dropped());
  expect(c.givesUp(5)).toBe(true);

  const d = new Circuit(
    () => now,
    () => 0,
  );
  for (let i = 0; i < 5; i++) d.failure(refused());
  expect(d.givesUp(5)).toBe(true);
  expect(d.reason).toBe("connection refused");
});
