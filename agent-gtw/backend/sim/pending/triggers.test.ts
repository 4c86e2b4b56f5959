/**
 * Pending orders triggering on ticks at MT5's rules (buy limit when Ask ≤ price, sell limit when
 * Bid ≥ price, buy stop when Ask ≥ price, sell stop when Bid ≤ price), stop-limits placing their
 * limit order, margin re-checked at the trigger, and expiration in market time.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { type PendingOrderType, Retcode } from "../../../../shared/protocol/index.ts";
import type { BackendEvent } from "../../backend.ts";
import type { PlaceOrder } from "../../pending.ts";
import {
  bookOrderHistory,
  openOrder,
  placeOrder,
  SimHarness,
  type SimOverrides,
} from "../testing/support.ts";

let harness: SimHarness;
afterEach(async () => {
  await harness.cleanup();
});

async function sim(options: SimOverrides = {}) {
  harness = await new SimHarness(options).start();
  await harness.sim.setQuote("EURUSD", 1.0999, 1.1);
  return harness.sim;
}

async function place(overrides: Partial<PlaceOrder>): Promise<number> {
  const result = await harness.sim.placeOrder(placeOrder(overrides));
  expect(result.retcode).toBe(Retcode.DONE);
  return result.order;
}

const history = () => bookOrderHistory(harness.sim);
const eventTypes = (events: readonly BackendEvent[]) => events.map((event) => event.type);

describe("triggering", () => {
  // [type, price, a quote (bid, ask) that does not reach it, one that does, fill price]
  test.each<[PendingOrderType, number, [number, number], [number, number], number]>([
    ["BUY_LIMIT", 1.0995, [1.0995, 1.0996], [1.0994, 1.0995], 1.0995],
    ["SELL_LIMIT", 1.1005, [1.1004, 1.1005], [1.1005, 1.1006], 1.1005],
    ["BUY_STOP", 1.1005, [1.1003, 1.1004], [1.1004, 1.1005], 1.1005],
    ["SELL_STOP", 1.0995, [1.0996, 1.0997], [1.0995, 1.0996], 1.0995],
  ])(
    "%s at %d waits, then fills at the market when the quote reaches it",
    async (type, price, near, reached, fillPrice) => {
      const backend = await sim();
      const ticket = await place({ type, price, sl: null, tp: null });
      await backend.setQuote("EURUSD", ...near);
      expect(await backend.positions()).toEqual([]);
      harness.events.length = 0;

      await backend.setQuote("EURUSD", ...reached);
      const [position] = await backend.positions();
      expect(position).toMatchObject({
        ticket,
        side: type.startsWith("BUY") ? "BUY" : "SELL",
        volume: 0.1,
        price_open: fillPrice,
        comment: "t:c-place",
        magic: 77,
      });
      expect(await backend.orders()).toEqual([]);
      const [done] = await history();
      expect(done).toMatchObject({
        ticket,
        state: "FILLED",
        position_id: ticket,
        volume_current: 0,
      });
      const deal = (await backend.deals({ from: 0, to: Number.MAX_SAFE_INTEGER }))[0];
      expect(deal).toMatchObject({
        order: ticket,
        position: ticket,
        entry: "IN",
        price: fillPrice,
      });
      expect(eventTypes(harness.tradeEvents)).toEqual(["DEAL", "ORDER_TRIGGERED"]);
      expect<unknown>(harness.tradeEvents[1]).toEqual({
        type: "ORDER_TRIGGERED",
        order: done,
        deal,
      });
    },
  );

  test("a gap fills a stop order beyond its price (slippage), with its SL and TP", async () => {
    const backend = await sim();
    const ticket = await place({ type: "BUY_STOP", price: 1.1005, sl: 1.099, tp: 1.102 });
    await backend.setQuote("EURUSD", 1.1009, 1.101);
    const [position] = await backend.positions();
    expect(position).toMatchObject({ ticket, price_open: 1.101, sl: 1.099, tp: 1.102 });
  });

  test("a stop-limit becomes its limit order at the stop-limit price, then fills there", async () => {
    const backend = await sim();
    const ticket = await place({
      type: "BUY_STOP_LIMIT",
      price: 1.101,
      stoplimit: 1.1005,
      tp: 1.103,
    });
    await backend.setQuote("EURUSD", 1.1009, 1.101);
    expect(await backend.positions()).toEqual([]);
    const [limit] = await backend.orders();
    expect(limit).toMatchObject({
      ticket,
      type: "BUY_LIMIT",
      state: "PLACED",
      price_open: 1.1005,
      price_stoplimit: null,
      tp: 1.103,
    });
    expect<unknown>(harness.tradeEvents.at(-1)).toEqual({ type: "ORDER_TRIGGERED", order: limit });

    await backend.setQuote("EURUSD", 1.1004, 1.1005);
    expect(await backend.positions()).toEqual([
      expect.objectContaining({ ticket, price_open: 1.1005, tp: 1.103 }),
    ]);
  });

  test("with no stops level a stop-limit at its own trigger price fills on the tick that triggers it", async () => {
    const backend = await sim({ symbols: [{ symbol: "EURUSD", stops_level: 0 }] });
    const ticket = await place({ type: "BUY_STOP_LIMIT", price: 1.1005, stoplimit: 1.1005 });
    await backend.setQuote("EURUSD", 1.1004, 1.1005);
    expect((await backend.positions())[0]).toMatchObject({ ticket, price_open: 1.1005 });
    expect(eventTypes(harness.tradeEvents).slice(1)).toEqual([
      "ORDER_TRIGGERED",
      "DEAL",
      "ORDER_TRIGGERED",
    ]);
  });

  test("a fill that would leave too little margin is rejected at the trigger, with an event", async () => {
    const backend = await sim();
    const ticket = await place({ volume: 5, price: 1.0995 });
    // Margin taken since placement leaves no room for the order's 5 000 EUR
    await backend.open(openOrder({ symbol: "GBPUSD", volume: 5 }));
    harness.events.length = 0;
    await backend.setQuote("EURUSD", 1.0994, 1.0995);
    expect(await backend.positions()).toHaveLength(1);
    const [rejected] = await history();
    expect(rejected).toMatchObject({ ticket, state: "REJECTED", position_id: 0 });
    expect<unknown>(harness.tradeEvents).toEqual([
      { type: "ORDER_REJECTED", order: rejected, retcode: Retcode.NO_MONEY, comment: "No money" },
    ]);
  });

  test("on a netting account a triggered order reduces the position it opposes", async () => {
    const backend = await sim({ account: { marginMode: "NETTING" } });
    const open = await backend.open(openOrder({ volume: 0.3 }));
    await place({ type: "SELL_LIMIT", price: 1.1005, volume: 0.1 });
    await backend.setQuote("EURUSD", 1.1005, 1.1006);
    expect(await backend.positions()).toEqual([
      expect.objectContaining({ ticket: open.position, side: "BUY", volume: 0.2 }),
    ]);
  });

  test("orders on other symbols do not trigger on this symbol's tick", async () => {
    const backend = await sim();
    await backend.setQuote("GBPUSD", 1.2699, 1.27);
    await place({ symbol: "GBPUSD", type: "BUY_LIMIT", price: 1.2695 });
    await backend.setQuote("EURUSD", 1.2, 1.2001);
    expect(await backend.orders()).toHaveLength(1);
  });
});

describe("expiration in market time", () => {
  test("DAY expires at the end of the trading day (22:00 UTC), not before", async () => {
    const backend = await sim({ tickIntervalMs: 60_000 });
    const ticket = await place({ typeTime: "DAY" });
    const untilClose = Date.UTC(2026, 10, 18, 22) - harness.clock.now();
    harness.clock.advance(untilClose - 1000);
    await backend.settle();
    expect(await backend.orders()).toHaveLength(1);
    harness.events.length = 0;
    harness.clock.advance(1000);
    await backend.settle();
    expect(await backend.orders()).toEqual([]);
    const [expired] = await history();
    expect(expired).toMatchObject({
      ticket,
      state: "EXPIRED",
      time_done: Date.UTC(2026, 10, 18, 22),
    });
    expect<unknown>(harness.tradeEvents).toEqual([{ type: "ORDER_EXPIRED", order: expired }]);
  });

  test("SPECIFIED expires at its time; SPECIFIED_DAY at the end of that trading day; GTC stays", async () => {
    const backend = await sim({ tickIntervalMs: 60_000 });
    const start = harness.clock.now();
    const specified = await place({ typeTime: "SPECIFIED", expiration: start + 60_000 });
    const day = await place({ typeTime: "SPECIFIED_DAY", expiration: Date.UTC(2026, 10, 19, 9) });
    const gtc = await place({ typeTime: "GTC" });
    harness.clock.advance(60_000);
    await backend.settle();
    expect((await backend.orders()).map((order) => order.ticket)).toEqual([day, gtc]);
    harness.clock.advance(Date.UTC(2026, 10, 19, 22) - harness.clock.now());
    await backend.settle();
    expect((await backend.orders()).map((order) => order.ticket)).toEqual([gtc]);
    expect((await history()).map((order) => [order.ticket, order.state])).toEqual([
      [specified, "EXPIRED"],
      [day, "EXPIRED"],
    ]);
  });

  test("an order that triggers before it expires fills and is not expired later", async () => {
    const backend = await sim({ tickIntervalMs: 60_000 });
    await place({ typeTime: "SPECIFIED", expiration: harness.clock.now() + 5000, price: 1.0995 });
    await backend.setQuote("EURUSD", 1.0994, 1.0995);
    harness.clock.advance(10_000);
    await backend.settle();
    expect((await history()).map((order) => order.state)).toEqual(["FILLED"]);
  });
});
