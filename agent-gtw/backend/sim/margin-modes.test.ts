/**
 * Hedging versus netting: separate positions and hedged margin, against merging, reducing,
 * closing and reversing one netting position (IN, OUT, INOUT) under the symbol's trade mode.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Retcode } from "../../../shared/protocol/index.ts";
import { openOrder, type SimHarness, type SimOverrides, startSim } from "./testing/support.ts";

let harness: SimHarness;
afterEach(async () => {
  await harness.cleanup();
});

async function sim(options: SimOverrides = {}) {
  harness = await startSim(options);
  await harness.sim.setQuote("EURUSD", 1.0999, 1.1);
  return harness.sim;
}

const allDeals = { from: 0, to: Number.MAX_SAFE_INTEGER };

describe("hedging account", () => {
  test("each order opens its own position with its own ticket", async () => {
    const backend = await sim();
    const first = await backend.open(openOrder());
    const second = await backend.open(openOrder());
    const opposite = await backend.open(openOrder({ side: "SELL" }));
    expect(new Set([first.position, second.position, opposite.position]).size).toBe(3);
    expect((await backend.positions()).map((position) => position.side)).toEqual([
      "BUY",
      "BUY",
      "SELL",
    ]);
    expect((await backend.deals(allDeals)).every((deal) => deal.entry === "IN")).toBe(true);
  });

  test("opposite legs are charged at margin_hedged", async () => {
    const backend = await sim();
    await backend.setQuote("EURUSD", 1, 1);
    await backend.open(openOrder({ volume: 1 }));
    expect((await backend.account()).margin).toBe(1000);
    await backend.open(openOrder({ side: "SELL", volume: 1 }));
    expect((await backend.account()).margin).toBe(500);
  });

  test("tickets are monotonic, with separate order and deal sequences", async () => {
    const backend = await sim();
    const first = await backend.open(openOrder());
    const second = await backend.open(openOrder());
    expect(second.order).toBe(first.order + 1);
    expect(second.deal).toBe(first.deal + 1);
    expect(first.order).not.toBe(first.deal);
  });
});

describe("netting account", () => {
  const netting: SimOverrides = { account: { marginMode: "NETTING" } };

  test("orders in the same direction merge into one position at the average price", async () => {
    const backend = await sim(netting);
    const first = await backend.open(openOrder({ volume: 0.1 }));
    await backend.setQuote("EURUSD", 1.1019, 1.102);
    const second = await backend.open(openOrder({ volume: 0.3 }));
    expect(second.position).toBe(first.position);
    const [position] = await backend.positions();
    expect(position?.volume).toBe(0.4);
    expect(position?.price_open).toBeCloseTo(1.1015, 10);
    expect((await backend.deals(allDeals)).map((deal) => deal.entry)).toEqual(["IN", "IN"]);
    expect((await backend.account()).margin_mode).toBe("NETTING");
  });

  test("an opposite order reduces the position and realises profit (OUT)", async () => {
    const backend = await sim(netting);
    const first = await backend.open(openOrder({ volume: 0.3 }));
    await backend.setQuote("EURUSD", 1.101, 1.1011);
    const reduce = await backend.open(openOrder({ side: "SELL", volume: 0.1 }));
    expect(reduce).toMatchObject({ retcode: Retcode.DONE, position: first.position });
    expect(await backend.positions()).toMatchObject([{ side: "BUY", volume: 0.2 }]);
    expect((await backend.deals(allDeals)).at(-1)).toMatchObject({ entry: "OUT", profit: 10 });
    expect((await backend.account()).balance).toBe(10_010);
  });

  test("an equal opposite order closes the position", async () => {
    const backend = await sim(netting);
    await backend.open(openOrder({ volume: 0.3 }));
    await backend.open(openOrder({ side: "SELL", volume: 0.3 }));
    expect(await backend.positions()).toEqual([]);
    expect(harness.tradeEvents.at(-1)).toMatchObject({ type: "POSITION_CLOSED" });
  });

  test("a larger opposite order reverses the position with one INOUT deal", async () => {
    const backend = await sim(netting);
    const first = await backend.open(openOrder({ volume: 0.1 }));
    await backend.setQuote("EURUSD", 1.102, 1.1021);
    const reverse = await backend.open(openOrder({ side: "SELL", volume: 0.3 }));
    expect(reverse).toMatchObject({ retcode: Retcode.DONE, volume: 0.3, price: 1.102 });
    expect(await backend.positions()).toMatchObject([
      { ticket: first.position, side: "SELL", volume: 0.2, price_open: 1.102 },
    ]);
    expect((await backend.deals(allDeals)).at(-1)).toMatchObject({ entry: "INOUT", profit: 20 });
  });

  test("CLOSE_ONLY lets an order reduce the position but not grow or reverse it", async () => {
    const backend = await sim(netting);
    await backend.open(openOrder({ volume: 0.3 }));
    backend.updateSymbol({ symbol: "EURUSD", trade_mode: "CLOSE_ONLY" });
    expect((await backend.open(openOrder({ volume: 0.1 }))).retcode).toBe(Retcode.CLOSE_ONLY);
    expect((await backend.open(openOrder({ side: "SELL", volume: 0.5 }))).retcode).toBe(
      Retcode.CLOSE_ONLY,
    );
    expect((await backend.open(openOrder({ side: "SELL", volume: 0.1 }))).retcode).toBe(
      Retcode.DONE,
    );
  });

  test("LONG_ONLY refuses a sell that would reverse a long into a short", async () => {
    const backend = await sim(netting);
    await backend.open(openOrder({ volume: 0.1 }));
    backend.updateSymbol({ symbol: "EURUSD", trade_mode: "LONG_ONLY" });
    expect((await backend.open(openOrder({ side: "SELL", volume: 0.2 }))).retcode).toBe(
      Retcode.LONG_ONLY,
    );
    expect((await backend.open(openOrder({ side: "SELL", volume: 0.1 }))).retcode).toBe(
      Retcode.DONE,
    );
  });

  test("adding to a position does not count against maxPositions", async () => {
    const backend = await sim({ ...netting, maxPositions: 1 });
    await backend.open(openOrder());
    expect((await backend.open(openOrder())).retcode).toBe(Retcode.DONE);
    expect((await backend.open(openOrder({ symbol: "GBPUSD" }))).retcode).toBe(
      Retcode.LIMIT_POSITIONS,
    );
  });

  test("an order's SL/TP replace the position's", async () => {
    const backend = await sim(netting);
    await backend.open(openOrder({ sl: 1.09 }));
    await backend.open(openOrder({ tp: 1.12 }));
    expect(await backend.positions()).toMatchObject([{ sl: 1.09, tp: 1.12 }]);
  });
});
