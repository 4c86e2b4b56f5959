/**
 * SimBackend as a Backend: lifecycle, option validation, QUOTE events, symbol info, account
 * figures, position and deal queries.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FaultCode } from "../../../shared/errors.ts";
import { TestClock } from "../../../shared/testing/test-clock.ts";
import { BackendError, type BackendEvent } from "../backend.ts";
import { SimBackend } from "./sim-backend.ts";
import {
  closeOrder,
  openOrder,
  type SimHarness,
  type SimOverrides,
  startSim,
  WEDNESDAY_NOON,
} from "./testing/support.ts";

let harness: SimHarness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

async function sim(options: SimOverrides = {}) {
  harness = await startSim(options);
  return harness;
}

describe("lifecycle", () => {
  test("is a sim backend whose link is always UP with the server time", async () => {
    const { sim: backend, clock } = await sim();
    expect(backend.kind).toBe("sim");
    expect(backend.link()).toEqual({ state: "UP", serverTime: clock.now(), serverOffsetMs: 0 });
  });

  test("refuses calls before start and after stop with BACKEND_UNAVAILABLE", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sim-test-"));
    try {
      const backend = new SimBackend({ clock: new TestClock(), seed: 1, stateDir: dir });
      const before = await backend.open(openOrder()).catch((error: unknown) => error);
      expect(before).toBeInstanceOf(BackendError);
      expect((before as BackendError).code).toBe(FaultCode.BACKEND_UNAVAILABLE);
      await backend.start();
      await backend.stop();
      await expect(backend.account()).rejects.toThrow("sim: backend is not running");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("start and stop are idempotent and stop leaves no timers behind", async () => {
    const { sim: backend, clock } = await sim();
    await backend.start();
    expect(clock.pendingTimers).toBe(1);
    await backend.stop();
    await backend.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  test("bad options fail at construction with a sim: message", () => {
    const base = { clock: new TestClock(), stateDir: "/nonexistent" };
    expect(() => new SimBackend({ ...base, seed: 0.5 })).toThrow("sim: seed must be an integer");
    expect(() => new SimBackend({ ...base, seed: 1, account: { currency: "CHF" } })).toThrow(
      /sim: no symbol converts \w+ to CHF/,
    );
    expect(() => new SimBackend({ ...base, seed: 1, account: { leverage: 0 } })).toThrow(
      "sim: account leverage must be an integer ≥ 1 (was 0)",
    );
    expect(() => new SimBackend({ ...base, seed: 1, tickIntervalMs: 0 })).toThrow(
      "sim: tickIntervalMs must be a positive integer (was 0)",
    );
  });
});

describe("quotes and events", () => {
  test("ticks on the injected clock and publishes QUOTE events until unsubscribed", async () => {
    const { sim: backend, clock } = await sim();
    const seen: BackendEvent[] = [];
    const unsubscribe = backend.subscribe((event) => seen.push(event));
    // Every symbol ticks at least every few seconds in an open session
    clock.advance(5_000);
    const symbols = seen.map((event) => (event.type === "QUOTE" ? event.symbol : ""));
    expect(symbols).toEqual(expect.arrayContaining(["EURUSD", "XAUUSD", "BTCUSD"]));
    expect(seen.every((event) => event.type !== "QUOTE" || event.bid < event.ask)).toBe(true);
    unsubscribe();
    clock.advance(1000);
    expect(seen.length).toBe(symbols.length);
  });

  test("a listener that throws does not stop the others", async () => {
    const { sim: backend, clock, events } = await sim();
    backend.subscribe(() => {
      throw new Error("boom");
    });
    const before = events.length;
    clock.advance(5_000);
    expect(events.length).toBeGreaterThan(before);
  });

  test("symbolInfo reports static properties and the live quote; unknown is undefined", async () => {
    const { sim: backend } = await sim();
    await backend.setQuote("EURUSD", 1.1, 1.10012);
    expect(await backend.symbolInfo("EURUSD")).toMatchObject({
      symbol: "EURUSD",
      digits: 5,
      point: 0.00001,
      contract_size: 100_000,
      bid: 1.1,
      ask: 1.10012,
      spread: 12,
      quote_time: WEDNESDAY_NOON,
      session_open: true,
      filling_modes: ["FOK", "IOC"],
      execution_mode: "MARKET",
      currency_margin: "EUR",
    });
    expect((await backend.symbolInfo("EURUSD"))?.tick_value).toBeCloseTo(1, 12);
    expect(await backend.symbolInfo("NOPE")).toBeUndefined();
  });
});

describe("account, positions and deals", () => {
  test("account figures follow the open positions", async () => {
    const { sim: backend } = await sim({ account: { login: 555, leverage: 200 } });
    await backend.setQuote("EURUSD", 1.0999, 1.1);
    await backend.open(openOrder({ volume: 1 }));
    await backend.setQuote("EURUSD", 1.101, 1.1011);
    const account = await backend.account();
    expect(account).toMatchObject({
      login: 555,
      currency: "USD",
      balance: 10_000,
      profit: 100,
      equity: 10_100,
      leverage: 200,
      margin_mode: "HEDGING",
      margin_so_call: 100,
      margin_so_so: 50,
    });
    expect(account.margin).toBeCloseTo(500 * 1.10105, 1);
    expect(account.margin_free).toBeCloseTo(account.equity - account.margin, 2);
    expect(account.margin_level).toBeCloseTo((account.equity / account.margin) * 100, 1);
  });

  test("positions can be filtered by symbol and keep their comment and magic", async () => {
    const { sim: backend } = await sim();
    await backend.open(openOrder({ comment: "t:abc123 rsi" }));
    await backend.open(openOrder({ symbol: "GBPUSD", magic: 9 }));
    const eurusd = await backend.positions("EURUSD");
    expect(eurusd).toHaveLength(1);
    expect(eurusd[0]).toMatchObject({ comment: "t:abc123 rsi", magic: 77, swap: 0 });
    expect(await backend.positions()).toHaveLength(2);
  });

  test("deals can be queried by time range and magic", async () => {
    const { sim: backend, clock } = await sim();
    const first = await backend.open(openOrder({ magic: 1 }));
    clock.advance(60_000);
    await backend.open(openOrder({ magic: 2 }));
    clock.advance(60_000);
    await backend.close(closeOrder(first.position, { magic: 1 }));
    const all = { from: 0, to: Number.MAX_SAFE_INTEGER };
    expect(await backend.deals(all)).toHaveLength(3);
    expect((await backend.deals({ ...all, magic: 1 })).map((deal) => deal.entry)).toEqual([
      "IN",
      "OUT",
    ]);
    const middle = await backend.deals({ from: WEDNESDAY_NOON + 1, to: WEDNESDAY_NOON + 60_000 });
    expect(middle.map((deal) => deal.magic)).toEqual([2]);
    expect(await backend.deals({ from: WEDNESDAY_NOON + 120_001, to: Date.now() * 2 })).toEqual([]);
  });

  test("deals by a client (magic 0) carry reason CLIENT", async () => {
    const { sim: backend } = await sim();
    await backend.open(openOrder({ magic: 0 }));
    const [deal] = await backend.deals({ from: 0, to: Number.MAX_SAFE_INTEGER });
    expect(deal?.reason).toBe("CLIENT");
  });
});
