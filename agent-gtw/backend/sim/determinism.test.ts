/**
 * Same seed, same clock and same calls give the same quotes, results, events and books, also
 * across a restart; a different seed gives a different market.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { TestClock } from "../../../shared/testing/test-clock.ts";
import type { BackendEvent } from "../backend.ts";
import type { SimBackend } from "./sim-backend.ts";
import {
  closeOrder,
  modifyOrder,
  openOrder,
  SimHarness,
  WEDNESDAY_NOON,
} from "./testing/support.ts";

const harnesses: SimHarness[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.cleanup();
});

async function make(seed: number): Promise<SimHarness> {
  const harness = new SimHarness({ seed }, new TestClock(WEDNESDAY_NOON));
  harnesses.push(harness);
  return harness.start();
}

/** A session of trading driven only by the clock and the calls, never by pinned quotes. */
async function scenario(harness: SimHarness) {
  const backend: SimBackend = harness.sim;
  const results = [];
  harness.clock.advance(10_000);
  const info = await backend.symbolInfo("EURUSD");
  const bid = info?.bid ?? 0;
  results.push(
    await backend.open(openOrder({ sl: bid - 0.0005, tp: bid + 0.0005, comment: "t:one" })),
  );
  harness.clock.advance(60_000);
  results.push(await backend.open(openOrder({ symbol: "XAUUSD", side: "SELL", comment: "t:two" })));
  results.push(await backend.open(openOrder({ symbol: "US500", volume: 1.5 })));
  harness.clock.advance(120_000);
  results.push(await backend.close(closeOrder(results[2]!.position, { volume: 0.5 })));
  results.push(await backend.modify(modifyOrder(results[1]!.position, { tp: 2300 })));
  for (let step = 0; step < 40; step++) {
    harness.clock.advance(90_000);
    await backend.settle();
  }
  return {
    results,
    events: harness.events,
    positions: await backend.positions(),
    account: await backend.account(),
    deals: await backend.deals({ from: 0, to: Number.MAX_SAFE_INTEGER }),
  };
}

const quotesOf = (events: readonly BackendEvent[]) =>
  events.filter((event) => event.type === "QUOTE");

describe("determinism", () => {
  test("the same seed, clock and calls give identical quotes, results, events and books", async () => {
    const first = await scenario(await make(1234));
    const second = await scenario(await make(1234));
    expect(quotesOf(first.events).length).toBeGreaterThan(10_000);
    expect(first.deals.length).toBeGreaterThanOrEqual(4);
    expect(second).toEqual(first);
  });

  test("a different seed gives different quotes", async () => {
    const first = await scenario(await make(1));
    const second = await scenario(await make(2));
    expect(quotesOf(second.events).slice(0, 50)).not.toEqual(quotesOf(first.events).slice(0, 50));
  });

  test("a restart in the middle replays identically under the same seed", async () => {
    const run = async () => {
      const harness = await make(99);
      harness.clock.advance(30_000);
      await harness.sim.open(openOrder({ symbol: "BTCUSD", volume: 0.05 }));
      harness.clock.advance(30_000);
      const restarted = await harness.restart();
      harness.clock.advance(30_000);
      return {
        quotes: quotesOf(harness.events),
        info: await restarted.symbolInfo("BTCUSD"),
        positions: await restarted.positions(),
      };
    };
    const first = await run();
    const second = await run();
    expect(first.positions).toHaveLength(1);
    expect(second).toEqual(first);
  });
});
