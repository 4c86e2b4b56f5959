/**
 * Pending orders in the sim's durable state: they survive a stop, a crash (no stop) and a
 * compaction, trigger after a restart, and a fill is one record, so a torn log can never leave
 * an order that already filled still active.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Retcode } from "../../../../shared/protocol/index.ts";
import type { SimBackend } from "../sim-backend.ts";
import { LOG_FILE } from "../store.ts";
import {
  historyOrders,
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

const everything = { from: 0, to: Number.MAX_SAFE_INTEGER };

/** Orders, order history, positions and deals, without what moves with the market. */
async function books(backend: SimBackend) {
  const strip = <T extends { price_current: number }>({ price_current: _p, ...rest }: T) => rest;
  return {
    orders: (await backend.orders()).map(strip),
    history: (await historyOrders(backend)).map(strip),
    positions: (await backend.positions()).map(
      ({ price_current: _p, profit: _f, ...rest }) => rest,
    ),
    deals: await backend.deals(everything),
  };
}

/** Placed, modified, cancelled, filled and still-waiting orders. */
async function trade(backend: SimBackend) {
  const waiting = await backend.placeOrder(placeOrder({ price: 1.09, typeTime: "DAY" }));
  const cancelled = await backend.placeOrder(placeOrder({ type: "SELL_STOP", price: 1.09 }));
  await backend.cancelOrder({ clientOrderId: "c", ticket: cancelled.order });
  const filled = await backend.placeOrder(placeOrder({ price: 1.0995, sl: 1.098 }));
  await backend.setQuote("EURUSD", 1.0994, 1.0995);
  const stopLimit = await backend.placeOrder(
    placeOrder({ type: "BUY_STOP_LIMIT", price: 1.101, stoplimit: 1.1005, comment: "t:sl" }),
  );
  await backend.setQuote("EURUSD", 1.1009, 1.101);
  return { waiting, filled, stopLimit };
}

describe("pending orders on disk", () => {
  test("a restarted sim has the same orders, history, positions and deals", async () => {
    const backend = await sim();
    await trade(backend);
    const before = await books(backend);
    expect(before.orders.map((order) => order.type)).toEqual(["BUY_LIMIT", "BUY_LIMIT"]);
    expect(before.history.map((order) => order.state)).toEqual(["CANCELED", "FILLED"]);
    const restarted = await harness.restart();
    expect(await books(restarted)).toEqual(before);
  });

  test("they survive a crash (no stop), because each change was synced before it was reported", async () => {
    const backend = await sim();
    await trade(backend);
    const before = await books(backend);
    const crashed = new SimHarness({}, harness.clock, harness.dir);
    await crashed.start();
    expect(await books(crashed.sim)).toEqual(before);
    await crashed.sim.stop();
  });

  test("an order placed before a restart triggers after it, once", async () => {
    const backend = await sim();
    const { order } = await backend.placeOrder(placeOrder({ type: "BUY_STOP", price: 1.1005 }));
    const restarted = await harness.restart();
    await restarted.setQuote("EURUSD", 1.1004, 1.1005);
    await restarted.setQuote("EURUSD", 1.1006, 1.1007);
    expect(await restarted.positions()).toEqual([expect.objectContaining({ ticket: order })]);
    const again = await harness.restart();
    expect(await again.orders()).toEqual([]);
    expect(await again.positions()).toHaveLength(1);
  });

  test("new tickets continue after the restored ones", async () => {
    const backend = await sim();
    const { order } = await backend.placeOrder(placeOrder());
    const restarted = await harness.restart();
    expect((await restarted.placeOrder(placeOrder())).order).toBe(order + 1);
    expect((await restarted.open(openOrder())).order).toBe(order + 2);
  });

  test("compaction keeps orders and history in the snapshot", async () => {
    const backend = await sim({ compactEvery: 3 });
    await trade(backend);
    const before = await books(backend);
    expect(backend.stats().compactions).toBeGreaterThan(0);
    const restarted = await harness.restart({ compactEvery: 3 });
    expect(await books(restarted)).toEqual(before);
  });

  test("a fill is one record: cutting it off leaves the order active and no deal, never half", async () => {
    const backend = await sim();
    await backend.placeOrder(placeOrder({ price: 1.0995 }));
    await backend.setQuote("EURUSD", 1.0994, 1.0995);
    await backend.settle();
    const log = join(harness.dir, LOG_FILE);
    const lines = readFileSync(log, "utf8").split("\n").filter(Boolean);
    const fill = JSON.parse(lines.at(-1) as string) as Record<string, unknown>;
    expect(fill["type"]).toBe("pending");
    expect((fill["trades"] as unknown[]).length).toBe(1);
    // The crash tore the fill's line: it was never acknowledged, so it is as if it never was
    writeFileSync(
      log,
      `${lines.slice(0, -1).join("\n")}\n${(lines.at(-1) as string).slice(0, 40)}`,
    );
    const crashed = new SimHarness({}, harness.clock, harness.dir);
    await crashed.start();
    expect(await crashed.sim.orders()).toHaveLength(1);
    expect(await crashed.sim.positions()).toEqual([]);
    expect(await crashed.sim.deals(everything)).toEqual([]);
    await crashed.sim.stop();
  });

  test("an order whose time passed while the sim was stopped expires at start, as of its time", async () => {
    const backend = await sim({ tickIntervalMs: 60_000 });
    const expiresAt = harness.clock.now() + 60_000;
    await backend.placeOrder(placeOrder({ typeTime: "SPECIFIED", expiration: expiresAt }));
    await backend.stop();
    harness.clock.jumpWallClock(3_600_000);
    const restarted = await harness.restart();
    await restarted.settle();
    expect(await restarted.orders()).toEqual([]);
    const [expired] = await historyOrders(restarted);
    expect(expired).toMatchObject({ state: "EXPIRED", time_done: expiresAt });
  });

  test("expirations are written too: an expired order stays expired after a restart", async () => {
    const backend = await sim({ tickIntervalMs: 60_000 });
    await backend.placeOrder(
      placeOrder({ typeTime: "SPECIFIED", expiration: harness.clock.now() + 60_000 }),
    );
    harness.clock.advance(60_000);
    await backend.settle();
    const restarted = await harness.restart();
    expect(await restarted.orders()).toEqual([]);
    expect((await historyOrders(restarted))[0]?.state).toBe("EXPIRED");
    expect((await restarted.placeOrder(placeOrder())).retcode).toBe(Retcode.DONE);
  });
});
