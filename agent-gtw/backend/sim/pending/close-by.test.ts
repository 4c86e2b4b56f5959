/**
 * CLOSE_BY on the sim: two OUT_BY deals at the closing-by position's open price, the larger
 * position left with the rest, the money of one spread saved, and the refusals (netting 10035,
 * missing 10036, not opposite 10013, frozen 10029).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Retcode } from "../../../../shared/protocol/index.ts";
import {
  bookOrderHistory,
  closeByOrder,
  openOrder,
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

describe("close by", () => {
  test("closes the covered volume of both at the second one's open price; the rest stays", async () => {
    const backend = await sim();
    const buy = await backend.open(openOrder({ volume: 0.3 })); // at the ask, 1.10000
    await backend.setQuote("EURUSD", 1.1049, 1.105);
    const sell = await backend.open(openOrder({ side: "SELL", volume: 0.1 })); // at 1.10490
    const balanceBefore = (await backend.account()).balance;
    harness.events.length = 0;

    const result = await backend.closeBy(closeByOrder(buy.position, sell.position));
    expect(result).toMatchObject({
      retcode: Retcode.DONE,
      position: buy.position,
      volume: 0.1,
      price: 1.1049,
    });
    expect(await backend.positions()).toEqual([
      expect.objectContaining({ ticket: buy.position, volume: 0.2, price_open: 1.1 }),
    ]);
    const deals = (await backend.deals({ from: 0, to: Number.MAX_SAFE_INTEGER })).slice(2);
    expect(deals).toEqual([
      expect.objectContaining({
        order: result.order,
        position: buy.position,
        side: "SELL",
        entry: "OUT_BY",
        volume: 0.1,
        price: 1.1049,
        profit: 49,
        comment: "t:c-close-by",
      }),
      expect.objectContaining({
        order: result.order,
        position: sell.position,
        side: "BUY",
        entry: "OUT_BY",
        volume: 0.1,
        price: 1.1049,
        profit: 0,
      }),
    ]);
    // 0.1 lot over 49 points: the difference of the open prices, no spread paid on the way out
    expect((await backend.account()).balance).toBe(balanceBefore + 49);
    const [order] = await bookOrderHistory(backend);
    expect(order).toMatchObject({
      ticket: result.order,
      type: "CLOSE_BY",
      state: "FILLED",
      position_id: buy.position,
      position_by_id: sell.position,
    });
    expect(harness.tradeEvents.map((event) => event.type)).toEqual([
      "DEAL",
      "POSITION_MODIFIED",
      "DEAL",
      "POSITION_CLOSED",
    ]);
  });

  test("equal volumes close both", async () => {
    const backend = await sim();
    const buy = await backend.open(openOrder());
    const sell = await backend.open(openOrder({ side: "SELL" }));
    await backend.closeBy(closeByOrder(sell.position, buy.position));
    expect(await backend.positions()).toEqual([]);
  });

  test("is refused on a netting account with INVALID_ORDER", async () => {
    const backend = await sim({ account: { marginMode: "NETTING" } });
    const buy = await backend.open(openOrder());
    expect((await backend.closeBy(closeByOrder(buy.position, buy.position + 1))).retcode).toBe(
      Retcode.INVALID_ORDER,
    );
  });

  test("needs two open, opposite positions on one symbol", async () => {
    const backend = await sim();
    await backend.setQuote("GBPUSD", 1.2699, 1.27);
    const a = await backend.open(openOrder());
    const b = await backend.open(openOrder());
    const gbp = await backend.open(openOrder({ symbol: "GBPUSD", side: "SELL" }));
    const closeBy = (x: number, y: number) => backend.closeBy(closeByOrder(x, y));
    expect((await closeBy(a.position, b.position)).retcode).toBe(Retcode.INVALID);
    expect((await closeBy(a.position, gbp.position)).retcode).toBe(Retcode.INVALID);
    expect((await closeBy(a.position, 999)).retcode).toBe(Retcode.POSITION_CLOSED);
    expect(await backend.positions()).toHaveLength(3);
  });

  test("a position inside the freeze level of its stops is FROZEN", async () => {
    const backend = await sim();
    const buy = await backend.open(openOrder({ tp: 1.1005 }));
    const sell = await backend.open(openOrder({ side: "SELL" }));
    await backend.setQuote("EURUSD", 1.10047, 1.10057);
    expect((await backend.closeBy(closeByOrder(buy.position, sell.position))).retcode).toBe(
      Retcode.FROZEN,
    );
  });

  test("a symbol without SYMBOL_ORDER_CLOSEBY refuses it", async () => {
    const backend = await sim({
      symbols: [{ symbol: "EURUSD", order_modes: ["MARKET", "LIMIT", "STOP", "SL", "TP"] }],
    });
    const buy = await backend.open(openOrder());
    const sell = await backend.open(openOrder({ side: "SELL" }));
    expect((await backend.closeBy(closeByOrder(buy.position, sell.position))).retcode).toBe(
      Retcode.INVALID_ORDER,
    );
  });
});
