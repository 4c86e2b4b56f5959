/**
 * Server-side closes on a TestClock without sleeps: SL and TP per side (including gaps), a random
 * walk reaching a tight stop, and stop-out closing the most losing position first.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Retcode } from "../../../shared/protocol/index.ts";
import type { BackendEvent } from "../backend.ts";
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

function closedEvent(events: readonly BackendEvent[]) {
  const closed = events.find((event) => event.type === "POSITION_CLOSED");
  if (closed === undefined || closed.type !== "POSITION_CLOSED") throw new Error("not closed");
  return closed;
}

describe("SL and TP", () => {
  test.each([
    ["BUY SL when the bid falls to it", "BUY", { sl: 1.095 }, [1.095, 1.0951], "SL", 1.095],
    ["BUY TP when the bid rises to it", "BUY", { tp: 1.105 }, [1.105, 1.1051], "TP", 1.105],
    ["SELL SL when the ask rises to it", "SELL", { sl: 1.105 }, [1.1049, 1.105], "SL", 1.105],
    ["SELL TP when the ask falls to it", "SELL", { tp: 1.095 }, [1.0949, 1.095], "TP", 1.095],
    ["BUY SL through a gap fills at the market", "BUY", { sl: 1.095 }, [1.09, 1.0901], "SL", 1.09],
  ] as const)("%s", async (_name, side, stops, [bid, ask], reason, price) => {
    const backend = await sim();
    const { position } = await backend.open(openOrder({ side, ...stops }));
    await backend.setQuote("EURUSD", bid, ask);
    expect(await backend.positions()).toEqual([]);
    const closed = closedEvent(harness.events);
    expect(closed).toMatchObject({ ticket: position, symbol: "EURUSD", reason });
    expect(closed.deal).toMatchObject({ entry: "OUT", reason, price, position, magic: 77 });
    const level = (stops as { sl?: number; tp?: number }).sl ?? (stops as { tp?: number }).tp;
    expect(closed.deal.comment).toBe(`[${reason.toLowerCase()} ${level?.toFixed(5)}]`);
    const [, out] = await backend.deals(allDeals);
    expect(out).toEqual(closed.deal);
    expect((await backend.account()).balance).toBe(10_000 + closed.deal.profit);
  });

  test("a price short of the stop leaves the position open", async () => {
    const backend = await sim();
    await backend.open(openOrder({ sl: 1.095, tp: 1.105 }));
    await backend.setQuote("EURUSD", 1.0951, 1.0952);
    await backend.setQuote("EURUSD", 1.1049, 1.105);
    expect(await backend.positions()).toHaveLength(1);
  });

  test("the random walk reaches a tight stop as the TestClock advances", async () => {
    const backend = await sim();
    const result = await backend.open(openOrder({ sl: 1.0997, tp: 1.1001 }));
    expect(result.retcode).toBe(Retcode.DONE);
    for (let step = 0; step < 20_000 && (await backend.positions()).length > 0; step++) {
      harness.clock.advance(250);
      await backend.settle();
    }
    const closed = closedEvent(harness.events);
    const { deal } = closed;
    if (closed.reason === "SL") expect(deal.price).toBeLessThanOrEqual(1.0997);
    else expect(deal.price).toBeGreaterThanOrEqual(1.1001);
    const quoteAtClose = harness.events.findLast(
      (event) => event.type === "QUOTE" && event.symbol === "EURUSD" && event.time <= deal.time,
    );
    expect(quoteAtClose).toMatchObject({ bid: deal.price });
  });
});

describe("stop-out", () => {
  test("closes the position when the margin level falls to the stop-out level", async () => {
    const backend = await sim({ account: { balance: 1000 } });
    await backend.open(openOrder({ volume: 0.8 }));
    await backend.setQuote("EURUSD", 1.093, 1.0931);
    expect(await backend.positions()).toHaveLength(1);
    await backend.setQuote("EURUSD", 1.092, 1.0921);
    expect(await backend.positions()).toEqual([]);
    const closed = closedEvent(harness.events);
    expect(closed.reason).toBe("SO");
    expect(closed.deal.comment).toMatch(/^\[so \d+\.\d{2}%\]$/);
    expect((await backend.account()).balance).toBe(360);
  });

  test("closes the most losing position first and stops once the level recovers", async () => {
    const backend = await sim({ account: { balance: 1000 } });
    await backend.setQuote("GBPUSD", 1.2699, 1.27);
    const eurusd = await backend.open(openOrder({ volume: 0.5 }));
    const gbpusd = await backend.open(openOrder({ symbol: "GBPUSD", volume: 0.2 }));
    await backend.setQuote("EURUSD", 1.089, 1.0891);
    expect(await backend.positions()).toHaveLength(2);
    await backend.setQuote("EURUSD", 1.088, 1.0881);
    expect((await backend.positions()).map((position) => position.ticket)).toEqual([
      gbpusd.position,
    ]);
    expect(closedEvent(harness.events).ticket).toBe(eurusd.position);
    expect((await backend.account()).margin_level).toBeGreaterThan(50);
  });
});
