/**
 * CLOSE (full, partial, refusals 10036/10038/10029/10017/10018/10021/10027/10030/10004) and
 * MODIFY (keep/remove semantics, 10025, stops and freeze levels, permissions).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Retcode } from "../../../shared/protocol/index.ts";
import { TestClock } from "../../../shared/testing/test-clock.ts";
import {
  closeOrder,
  modifyOrder,
  openOrder,
  type SimHarness,
  type SimOverrides,
  startSim,
} from "./testing/support.ts";

let harness: SimHarness;
afterEach(async () => {
  await harness.cleanup();
});

/** A sim with EURUSD at 1.09990 / 1.10000 and one open EURUSD position; returns its ticket. */
async function withPosition(
  overrides: Parameters<typeof openOrder>[0] = {},
  options: SimOverrides = {},
  clock?: TestClock,
) {
  harness = await startSim(options, clock);
  await harness.sim.setQuote("EURUSD", 1.0999, 1.1);
  const result = await harness.sim.open(openOrder(overrides));
  expect(result.retcode).toBe(Retcode.DONE);
  return { backend: harness.sim, ticket: result.position };
}

describe("close", () => {
  test("a full close deals OUT at the bid, realises profit and removes the position", async () => {
    const { backend, ticket } = await withPosition();
    await backend.setQuote("EURUSD", 1.105, 1.1051);
    const result = await backend.close(closeOrder(ticket));
    expect(result).toMatchObject({ retcode: Retcode.DONE, position: ticket, volume: 0.1 });
    expect(result.price).toBe(1.105);
    expect(await backend.positions()).toEqual([]);
    expect((await backend.account()).balance).toBe(10_050);
    const [, out] = await backend.deals({ from: 0, to: Number.MAX_SAFE_INTEGER });
    expect(out).toMatchObject({ entry: "OUT", side: "SELL", profit: 50, reason: "EXPERT" });
    expect(out?.comment).toBe("t:c-close");
    expect(harness.tradeEvents.map((event) => event.type)).toEqual([
      "DEAL",
      "DEAL",
      "POSITION_CLOSED",
    ]);
  });

  test("a partial close keeps the ticket and realises proportional profit", async () => {
    const { backend, ticket } = await withPosition({ volume: 0.3 });
    await backend.setQuote("EURUSD", 1.101, 1.1011);
    const partial = await backend.close(closeOrder(ticket, { volume: 0.1 }));
    expect(partial).toMatchObject({ retcode: Retcode.DONE, position: ticket, volume: 0.1 });
    const [position] = await backend.positions();
    expect(position).toMatchObject({ ticket, volume: 0.2, price_open: 1.1, comment: "t:c-open" });
    expect((await backend.account()).balance).toBe(10_010);
    expect(harness.tradeEvents.at(-1)).toMatchObject({ type: "POSITION_MODIFIED" });
    const rest = await backend.close(closeOrder(ticket));
    expect(rest.volume).toBe(0.2);
    expect((await backend.account()).balance).toBe(10_030);
  });

  test("a sell closes at the ask", async () => {
    const { backend, ticket } = await withPosition({ side: "SELL" });
    await backend.setQuote("EURUSD", 1.0949, 1.095);
    const result = await backend.close(closeOrder(ticket));
    expect(result.price).toBe(1.095);
    expect((await backend.account()).balance).toBe(10_049);
  });

  test("an unknown or already closed ticket gives POSITION_CLOSED (10036)", async () => {
    const { backend, ticket } = await withPosition();
    expect((await backend.close(closeOrder(123))).retcode).toBe(Retcode.POSITION_CLOSED);
    await backend.close(closeOrder(ticket));
    expect((await backend.close(closeOrder(ticket))).retcode).toBe(Retcode.POSITION_CLOSED);
  });

  test("malformed close requests give INVALID (10013)", async () => {
    const { backend, ticket } = await withPosition();
    expect((await backend.close(closeOrder(1.5))).retcode).toBe(Retcode.INVALID);
    const nan = await backend.close(closeOrder(ticket, { volume: Number.NaN }));
    expect(nan.retcode).toBe(Retcode.INVALID);
  });

  test.each([
    ["more than the position", 0.2],
    ["off the step", 0.015],
    ["zero", 0],
  ])("close volume %s gives INVALID_CLOSE_VOLUME (10038)", async (_name, volume) => {
    const { backend, ticket } = await withPosition();
    const result = await backend.close(closeOrder(ticket, { volume }));
    expect(result.retcode).toBe(Retcode.INVALID_CLOSE_VOLUME);
  });

  test("a close below volume_min or leaving less than volume_min gives 10038", async () => {
    const symbols = [{ symbol: "EURUSD", volume_min: 0.1, volume_step: 0.01 }];
    const { backend, ticket } = await withPosition({ volume: 0.15 }, { symbols });
    expect((await backend.close(closeOrder(ticket, { volume: 0.05 }))).retcode).toBe(
      Retcode.INVALID_CLOSE_VOLUME,
    );
    expect((await backend.close(closeOrder(ticket, { volume: 0.1 }))).retcode).toBe(
      Retcode.INVALID_CLOSE_VOLUME,
    );
    expect((await backend.close(closeOrder(ticket, { volume: 0.15 }))).retcode).toBe(Retcode.DONE);
  });

  test("within the freeze level of its SL the position cannot be closed (10029)", async () => {
    const { backend, ticket } = await withPosition({ sl: 1.0998 });
    await backend.setQuote("EURUSD", 1.09984, 1.09994);
    expect((await backend.close(closeOrder(ticket))).retcode).toBe(Retcode.FROZEN);
    await backend.setQuote("EURUSD", 1.0999, 1.1);
    expect((await backend.close(closeOrder(ticket))).retcode).toBe(Retcode.DONE);
  });

  test("restricted trade modes still allow closing; DISABLED does not (10017)", async () => {
    const { backend, ticket } = await withPosition({ volume: 0.3 });
    backend.updateSymbol({ symbol: "EURUSD", trade_mode: "CLOSE_ONLY" });
    expect((await backend.close(closeOrder(ticket, { volume: 0.1 }))).retcode).toBe(Retcode.DONE);
    backend.updateSymbol({ symbol: "EURUSD", trade_mode: "SHORT_ONLY" });
    expect((await backend.close(closeOrder(ticket, { volume: 0.1 }))).retcode).toBe(Retcode.DONE);
    backend.updateSymbol({ symbol: "EURUSD", trade_mode: "DISABLED" });
    expect((await backend.close(closeOrder(ticket))).retcode).toBe(Retcode.TRADE_DISABLED);
  });

  test("closing needs an open market (10018), algo trading (10027) and the right filling", async () => {
    const friday = new TestClock(Date.UTC(2026, 10, 20, 21, 0, 0));
    const { backend, ticket } = await withPosition({}, {}, friday);
    backend.setTradeAllowed(false);
    expect((await backend.close(closeOrder(ticket))).retcode).toBe(Retcode.CLIENT_DISABLES_AT);
    backend.setTradeAllowed(true);
    backend.setForceFilling("RETURN");
    expect((await backend.close(closeOrder(ticket))).retcode).toBe(Retcode.INVALID_FILL);
    backend.setForceFilling(undefined);
    harness.clock.advance(2 * 3_600_000);
    expect((await backend.close(closeOrder(ticket))).retcode).toBe(Retcode.MARKET_CLOSED);
  });

  test("a stale quote blocks closing (10021)", async () => {
    const { backend, ticket } = await withPosition();
    backend.setFeedPaused(true);
    harness.clock.advance(60_000);
    expect((await backend.close(closeOrder(ticket))).retcode).toBe(Retcode.PRICE_OFF);
  });

  test("Instant execution requotes a close too", async () => {
    harness = await startSim();
    const backend = harness.sim;
    await backend.setQuote("XAUUSD", 2400, 2400.25);
    const { position } = await backend.open(openOrder({ symbol: "XAUUSD" }));
    backend.queuePriceMove("XAUUSD", -50);
    const result = await backend.close(closeOrder(position, { deviation: 20 }));
    expect(result).toMatchObject({ retcode: Retcode.REQUOTE, bid: 2399.5 });
    expect(await backend.positions()).toHaveLength(1);
  });
});

describe("modify", () => {
  test("sets SL and TP, reports the position and publishes POSITION_MODIFIED", async () => {
    const { backend, ticket } = await withPosition();
    const result = await backend.modify(modifyOrder(ticket, { sl: 1.095, tp: 1.11 }));
    expect(result).toMatchObject({ retcode: Retcode.DONE, position: ticket, deal: 0, order: 0 });
    expect(await backend.positions()).toMatchObject([{ ticket, sl: 1.095, tp: 1.11 }]);
    expect(harness.tradeEvents.at(-1)).toMatchObject({
      type: "POSITION_MODIFIED",
      position: { ticket, sl: 1.095, tp: 1.11 },
    });
  });

  test("undefined keeps a value and null removes it", async () => {
    const { backend, ticket } = await withPosition({ sl: 1.095, tp: 1.11 });
    await backend.modify(modifyOrder(ticket, { sl: 1.096 }));
    expect(await backend.positions()).toMatchObject([{ sl: 1.096, tp: 1.11 }]);
    await backend.modify(modifyOrder(ticket, { tp: null }));
    expect(await backend.positions()).toMatchObject([{ sl: 1.096, tp: null }]);
  });

  test("the same SL and TP give NO_CHANGES (10025)", async () => {
    const { backend, ticket } = await withPosition({ sl: 1.095 });
    expect((await backend.modify(modifyOrder(ticket, { sl: 1.095 }))).retcode).toBe(
      Retcode.NO_CHANGES,
    );
    expect((await backend.modify(modifyOrder(ticket))).retcode).toBe(Retcode.NO_CHANGES);
  });

  test("stops inside the stops level or on the wrong side give INVALID_STOPS (10016)", async () => {
    const { backend, ticket } = await withPosition({ side: "SELL" });
    expect((await backend.modify(modifyOrder(ticket, { sl: 1.10005 }))).retcode).toBe(
      Retcode.INVALID_STOPS,
    );
    expect((await backend.modify(modifyOrder(ticket, { tp: 1.2 }))).retcode).toBe(
      Retcode.INVALID_STOPS,
    );
    expect((await backend.modify(modifyOrder(ticket, { sl: 1.1001 }))).retcode).toBe(Retcode.DONE);
  });

  test("within the freeze level of its TP the position cannot be modified (10029)", async () => {
    const { backend, ticket } = await withPosition({ tp: 1.1001 });
    await backend.setQuote("EURUSD", 1.10007, 1.10017);
    expect((await backend.modify(modifyOrder(ticket, { sl: 1.09 }))).retcode).toBe(Retcode.FROZEN);
  });

  test("unknown ticket (10036), bad field (10013), disabled symbol (10017), no AT (10027)", async () => {
    const { backend, ticket } = await withPosition();
    expect((await backend.modify(modifyOrder(99, { sl: 1 }))).retcode).toBe(
      Retcode.POSITION_CLOSED,
    );
    expect((await backend.modify(modifyOrder(ticket, { sl: Number.NaN }))).retcode).toBe(
      Retcode.INVALID,
    );
    backend.setTradeAllowed(false);
    expect((await backend.modify(modifyOrder(ticket, { sl: 1.09 }))).retcode).toBe(
      Retcode.CLIENT_DISABLES_AT,
    );
    backend.updateSymbol({ symbol: "EURUSD", trade_mode: "DISABLED" });
    expect((await backend.modify(modifyOrder(ticket, { sl: 1.09 }))).retcode).toBe(
      Retcode.TRADE_DISABLED,
    );
  });

  test("modify is refused while the market is closed (10018)", async () => {
    const friday = new TestClock(Date.UTC(2026, 10, 20, 21, 0, 0));
    const { backend, ticket } = await withPosition({}, {}, friday);
    harness.clock.advance(2 * 3_600_000);
    expect((await backend.modify(modifyOrder(ticket, { sl: 1.09 }))).retcode).toBe(
      Retcode.MARKET_CLOSED,
    );
  });
});
