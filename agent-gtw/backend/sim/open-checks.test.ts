/**
 * OPEN requests, one rule per case: success fields, request validity, filling mode, free margin,
 * stale quotes, the stops-level rule per side, and volume min/max/step/limit.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Retcode, type Side } from "../../../shared/protocol/index.ts";
import { openOrder, type SimHarness, type SimOverrides, startSim } from "./testing/support.ts";

let harness: SimHarness;
afterEach(async () => {
  await harness.cleanup();
});

/** A started sim with EURUSD pinned at 1.09990 / 1.10000. */
async function sim(options: SimOverrides = {}) {
  harness = await startSim(options);
  await harness.sim.setQuote("EURUSD", 1.0999, 1.1);
  return harness.sim;
}

describe("open: success", () => {
  test("a buy fills at the ask with DONE, deal, order, position and the quote", async () => {
    const backend = await sim();
    const result = await backend.open(openOrder());
    expect(result).toEqual({
      retcode: Retcode.DONE,
      deal: 50_000_001,
      order: 100_000_001,
      position: 100_000_001,
      volume: 0.1,
      price: 1.1,
      bid: 1.0999,
      ask: 1.1,
      comment: "Request executed",
    });
  });

  test("a sell fills at the bid", async () => {
    const backend = await sim();
    const result = await backend.open(openOrder({ side: "SELL" }));
    expect(result.retcode).toBe(Retcode.DONE);
    expect(result.price).toBe(1.0999);
  });
});

describe("open: request validity (10013)", () => {
  test.each([
    ["unknown symbol", { symbol: "NOPE" }],
    ["volume not a number", { volume: Number.NaN }],
    ["side not BUY or SELL", { side: "HOLD" as Side }],
    ["infinite stop loss", { sl: Number.POSITIVE_INFINITY }],
    ["negative deviation", { deviation: -1 }],
    ["fractional magic", { magic: 1.5 }],
    ["comment longer than 31 characters", { comment: "x".repeat(32) }],
  ])("%s", async (_name, overrides) => {
    const backend = await sim();
    expect((await backend.open(openOrder(overrides))).retcode).toBe(Retcode.INVALID);
    expect(await backend.positions()).toEqual([]);
  });
});

describe("open: filling mode (10030)", () => {
  test("an IOC-only symbol gets IOC chosen like the EA does, and fills", async () => {
    const backend = await sim();
    const result = await backend.open(openOrder({ symbol: "USDJPY" }));
    expect(result.retcode).toBe(Retcode.DONE);
  });

  test("forcing FOK on an IOC-only symbol is refused", async () => {
    const backend = await sim({ forceFilling: "FOK" });
    expect((await backend.open(openOrder({ symbol: "USDJPY" }))).retcode).toBe(
      Retcode.INVALID_FILL,
    );
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.DONE);
  });

  test("RETURN is refused for market orders under Market execution", async () => {
    const backend = await sim();
    backend.setForceFilling("RETURN");
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.INVALID_FILL);
  });

  test("Instant execution accepts FOK only, even when the flags list IOC", async () => {
    const backend = await sim({ symbols: [{ symbol: "XAUUSD", filling_modes: ["FOK", "IOC"] }] });
    backend.setForceFilling("IOC");
    expect((await backend.open(openOrder({ symbol: "XAUUSD" }))).retcode).toBe(
      Retcode.INVALID_FILL,
    );
    backend.setForceFilling("FOK");
    expect((await backend.open(openOrder({ symbol: "XAUUSD" }))).retcode).toBe(Retcode.DONE);
  });

  test("a symbol without FOK or IOC flags leaves RETURN, which Market execution refuses", async () => {
    const backend = await sim({ symbols: [{ symbol: "EURUSD", filling_modes: [] }] });
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.INVALID_FILL);
  });

  test("Exchange execution accepts RETURN", async () => {
    const backend = await sim({
      symbols: [
        { symbol: "EURUSD", execution_mode: "EXCHANGE", filling_modes: ["FOK", "IOC", "RETURN"] },
      ],
      forceFilling: "RETURN",
    });
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.DONE);
  });
});

describe("open: money (10019)", () => {
  test("refused when free margin after the trade would be negative", async () => {
    const backend = await sim({ account: { balance: 1000 } });
    expect((await backend.open(openOrder({ volume: 1 }))).retcode).toBe(Retcode.NO_MONEY);
    expect((await backend.open(openOrder({ volume: 0.5 }))).retcode).toBe(Retcode.DONE);
    expect((await backend.open(openOrder({ volume: 0.5 }))).retcode).toBe(Retcode.NO_MONEY);
  });

  test("a hedge that lowers margin passes even without free margin", async () => {
    const backend = await sim({ account: { balance: 1000 } });
    expect((await backend.open(openOrder({ volume: 0.8 }))).retcode).toBe(Retcode.DONE);
    await backend.setQuote("EURUSD", 1.0969, 1.097);
    expect((await backend.account()).margin_free).toBeLessThan(0);
    const hedge = await backend.open(openOrder({ side: "SELL", volume: 0.8 }));
    expect(hedge.retcode).toBe(Retcode.DONE);
  });
});

describe("open: quotes (10021)", () => {
  test("a feed outage leaves a stale quote and no trading on that symbol", async () => {
    const backend = await sim();
    backend.setFeedPaused(true, "EURUSD");
    harness.clock.advance(31_000);
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.PRICE_OFF);
    expect((await backend.open(openOrder({ symbol: "GBPUSD" }))).retcode).toBe(Retcode.DONE);
    backend.setFeedPaused(false, "EURUSD");
    harness.clock.advance(250);
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.DONE);
  });
});

describe("open: stops level (10016)", () => {
  // EURUSD: bid 1.09990, ask 1.10000, stops_level 10 points = 0.00010
  test.each([
    ["BUY SL inside the stops level", "BUY", 1.09985, null, Retcode.INVALID_STOPS],
    ["BUY SL exactly at bid − d", "BUY", 1.0998, null, Retcode.DONE],
    ["BUY SL above the price", "BUY", 1.101, null, Retcode.INVALID_STOPS],
    ["BUY TP inside the stops level", "BUY", null, 1.09995, Retcode.INVALID_STOPS],
    ["BUY TP exactly at bid + d", "BUY", null, 1.1, Retcode.DONE],
    ["SELL SL inside the stops level", "SELL", 1.10005, null, Retcode.INVALID_STOPS],
    ["SELL SL exactly at ask + d", "SELL", 1.1001, null, Retcode.DONE],
    ["SELL TP inside the stops level", "SELL", null, 1.09995, Retcode.INVALID_STOPS],
    ["SELL TP below the price", "SELL", null, 1.095, Retcode.DONE],
    ["SELL SL below the price", "SELL", 1.095, null, Retcode.INVALID_STOPS],
    ["negative SL", "BUY", -1, null, Retcode.INVALID_STOPS],
    ["SL off the tick grid", "BUY", 1.098001, null, Retcode.INVALID_STOPS],
    ["SL with float dust is normalised", "BUY", 1.0998000000000001, null, Retcode.DONE],
  ] as const)("%s", async (_name, side, sl, tp, expected) => {
    const backend = await sim();
    const result = await backend.open(openOrder({ side, sl, tp }));
    expect(result.retcode).toBe(expected);
  });

  test("stops are stored on the position; 0 means none", async () => {
    const backend = await sim();
    await backend.open(openOrder({ sl: 1.095, tp: 0 }));
    const [position] = await backend.positions();
    expect(position?.sl).toBe(1.095);
    expect(position?.tp).toBeNull();
  });
});

describe("open: volume (10014, 10034)", () => {
  test.each([
    ["below volume_min", 0.001, Retcode.INVALID_VOLUME],
    ["above volume_max", 600, Retcode.INVALID_VOLUME],
    ["off the step", 0.015, Retcode.INVALID_VOLUME],
    ["zero", 0, Retcode.INVALID_VOLUME],
    ["negative", -0.1, Retcode.INVALID_VOLUME],
    ["on the step despite float error (0.07 / 0.01)", 0.07, Retcode.DONE],
    ["many steps (1.13)", 1.13, Retcode.DONE],
    // issue 12 §6: refused as MT5 does, not rounded up to 5 lots
    ["off the step in the 8th decimal (4.99999999)", 4.99999999, Retcode.INVALID_VOLUME],
    [
      "off the step in the 8th decimal, many steps (399.99999999)",
      399.99999999,
      Retcode.INVALID_VOLUME,
    ],
  ])("%s", async (_name, volume, expected) => {
    // Enough money that the money check (which runs first) never answers instead
    const backend = await sim({ account: { balance: 1e9 } });
    expect((await backend.open(openOrder({ volume }))).retcode).toBe(expected);
  });

  test("volume_limit caps the total volume in one direction", async () => {
    const backend = await sim({ symbols: [{ symbol: "EURUSD", volume_limit: 1 }] });
    expect((await backend.open(openOrder({ volume: 0.6 }))).retcode).toBe(Retcode.DONE);
    expect((await backend.open(openOrder({ volume: 0.6 }))).retcode).toBe(Retcode.LIMIT_VOLUME);
    expect((await backend.open(openOrder({ volume: 0.4 }))).retcode).toBe(Retcode.DONE);
    const sell = await backend.open(openOrder({ side: "SELL", volume: 1 }));
    expect(sell.retcode).toBe(Retcode.DONE);
  });
});
