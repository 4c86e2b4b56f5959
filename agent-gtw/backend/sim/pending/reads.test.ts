/**
 * The sim's pre-trade calculations: OrderCheck's retcode and account-after figures, and the
 * margin and profit calculators, cross-checked against what trading the same order does.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Retcode } from "../../../../shared/protocol/index.ts";
import type { CheckOrder } from "../../pending.ts";
import { openOrder, placeOrder, SimHarness, type SimOverrides } from "../testing/support.ts";

let harness: SimHarness;
afterEach(async () => {
  await harness.cleanup();
});

async function sim(options: SimOverrides = {}) {
  harness = await new SimHarness(options).start();
  await harness.sim.setQuote("EURUSD", 1.0999, 1.1);
  await harness.sim.setQuote("USDJPY", 149.99, 150);
  return harness.sim;
}

function check(overrides: Partial<CheckOrder> = {}): CheckOrder {
  return {
    symbol: "EURUSD",
    type: "BUY",
    volume: 0.1,
    price: undefined,
    stoplimit: null,
    sl: null,
    tp: null,
    typeTime: "GTC",
    expiration: 0,
    filling: null,
    deviation: 10,
    magic: 77,
    comment: "",
    ...overrides,
  };
}

describe("order check", () => {
  test("a market order that would pass: retcode 0 and the account as the trade would leave it", async () => {
    const backend = await sim();
    await backend.open(openOrder({ symbol: "USDJPY" }));
    const result = await backend.orderCheck(check());
    expect(result).toMatchObject({ retcode: 0, comment: "Done" });

    const before = await backend.account();
    expect(result).toMatchObject({ balance: before.balance, equity: before.equity });
    await backend.open(openOrder());
    const after = await backend.account();
    expect(result.margin).toBe(after.margin);
    expect(result.margin_free).toBe(Math.round((before.equity - after.margin) * 100) / 100);
    expect(result.margin_level).toBeCloseTo((before.equity / after.margin) * 100, 2);
  });

  test("a request that would fail gets its retcode, with the figures still computed", async () => {
    const backend = await sim();
    const result = await backend.orderCheck(check({ volume: 50 }));
    expect(result).toMatchObject({ retcode: Retcode.NO_MONEY, comment: "No money" });
    expect(result.margin_free).toBeLessThan(0);
    expect((await backend.orderCheck(check({ symbol: "NOPE" }))).retcode).toBe(Retcode.INVALID);
    expect((await backend.orderCheck(check({ filling: "RETURN" }))).retcode).toBe(
      Retcode.INVALID_FILL,
    );
  });

  test("a pending order is checked like a placement and its margin taken at its price", async () => {
    const backend = await sim({ maxOrdersPerSecond: 1 });
    const ok = await backend.orderCheck(check({ type: "BUY_LIMIT", price: 1.09 }));
    expect(ok.retcode).toBe(0);
    const margin = await backend.calcMargin({
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.1,
      price: 1.09,
    });
    expect<number | undefined>(ok.margin).toBe(margin);
    const wrongSide = await backend.orderCheck(check({ type: "BUY_LIMIT", price: 1.2 }));
    expect(wrongSide.retcode).toBe(Retcode.INVALID_PRICE);
    // Checks place nothing and do not count against the trade server's rate
    expect(await backend.orders()).toEqual([]);
    expect((await backend.placeOrder(placeOrder())).retcode).toBe(Retcode.DONE);
  });
});

describe("calculators", () => {
  test("the margin of an order is what opening it takes", async () => {
    const backend = await sim();
    const margin = await backend.calcMargin({
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.1,
      price: 1.1,
    });
    await backend.open(openOrder());
    expect(margin).toBe((await backend.account()).margin);
    expect(margin).toBeCloseTo((0.1 * 100_000 * 1.09995) / 100, 1);
  });

  test("profit in the deposit currency, converted from the profit currency", async () => {
    const backend = await sim();
    const eur = await backend.calcProfit({
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.1,
      priceOpen: 1.1,
      priceClose: 1.105,
    });
    expect(eur).toBe(50);
    const jpy = await backend.calcProfit({
      symbol: "USDJPY",
      side: "SELL",
      volume: 1,
      priceOpen: 150,
      priceClose: 149,
    });
    // 1 JPY × 100 000 → USD at the USDJPY mid 149.995
    expect(jpy).toBe(Math.round((100_000 / 149.995) * 100) / 100);
  });

  test("an unknown symbol is undefined", async () => {
    const backend = await sim();
    const query = { symbol: "NOPE", side: "BUY" as const, volume: 1 };
    expect(await backend.calcMargin({ ...query, price: 1 })).toBeUndefined();
    expect(await backend.calcProfit({ ...query, priceOpen: 1, priceClose: 2 })).toBeUndefined();
  });
});
