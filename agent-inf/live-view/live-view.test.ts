/**
 * The live view's freshness rules (what an order may take from it) and the RESYNC merge.
 */
import { describe, expect, test } from "bun:test";
import type { Deal } from "../../shared/protocol/index.ts";
import { makeAccount, makeSymbol } from "../risk/testing/fixtures.ts";
import { LiveView } from "./live-view.ts";
import { mergeResync } from "./merge.ts";
import { position } from "./testing/stream-rig.ts";

function deal(ticket: number, time: number, fields: Partial<Deal> = {}): Deal {
  return {
    ticket,
    order: ticket,
    position: ticket,
    symbol: "EURUSD",
    side: "SELL",
    entry: "OUT",
    reason: "TP",
    volume: 0.1,
    price: 1.1,
    profit: 1,
    commission: 0,
    swap: 0,
    magic: 1,
    comment: "",
    time,
    ...fields,
  };
}

describe("LiveView", () => {
  const limits = { accountMaxAgeMs: 1000, symbolInfoMaxAgeMs: 5000, quoteIdleMs: 2000 };

  test("positions only while in sync", () => {
    const view = new LiveView(() => 0, limits);
    view.replacePositions([position(1)]);
    expect(view.positions()).toBeUndefined();
    view.positionsInSync = true;
    expect(view.positions()).toEqual([position(1)]);
  });

  test("the account only while young", () => {
    let now = 0;
    const view = new LiveView(() => now, limits);
    view.remember({ account: makeAccount() });
    now = 1000;
    expect(view.account()).toEqual(makeAccount());
    now = 1001;
    expect(view.account()).toBeUndefined();
    view.remember({ account: makeAccount({ equity: 9000 }) });
    expect(view.account()?.equity).toBe(9000);
  });

  test("a symbol: the fresh specification with the live quote laid over it", () => {
    let now = 0;
    const view = new LiveView(() => now, limits);
    const spec = makeSymbol({ bid: 1.1, ask: 1.1001, quote_time: 100, point: 0.00001 });
    view.remember({ symbol: spec });
    expect(view.symbol("EURUSD")).toBeUndefined(); // no streamed quote yet
    now = 10;
    view.setQuote({ symbol: "EURUSD", bid: 1.2, ask: 1.20025, time: 200 });

    expect(view.symbol("EURUSD")).toEqual({
      ...spec,
      bid: 1.2,
      ask: 1.20025,
      quote_time: 200,
      spread: 25,
    });
    now = 2011; // the stream went quiet for this symbol
    expect(view.symbol("EURUSD")).toBeUndefined();
    view.setQuote({ symbol: "EURUSD", bid: 1.2, ask: 1.2001, time: 300 });
    now = 5001; // the specification is too old
    expect(view.symbol("EURUSD")).toBeUndefined();
  });

  test("a specification read after the last tick wins over it", () => {
    const view = new LiveView(() => 0, limits);
    view.setQuote({ symbol: "EURUSD", bid: 1.2, ask: 1.2001, time: 100 });
    const spec = makeSymbol({ quote_time: 150 });
    view.remember({ symbol: spec });
    expect(view.symbol("EURUSD")).toEqual(spec);
  });
});

describe("mergeResync", () => {
  const none = () => false;

  test("re-applies window events on the snapshot; the last one wins", () => {
    const result = mergeResync({
      before: new Map(),
      snapshot: [position(1, { sl: 1.05 }), position(2)],
      deals: [],
      window: [
        { v: 1, event: "POSITION_MODIFIED", seq: 4, position: position(1, { sl: 1.04 }) },
        { v: 1, event: "POSITION_MODIFIED", seq: 5, position: position(1, { sl: 1.05 }) },
        {
          v: 1,
          event: "POSITION_CLOSED",
          seq: 6,
          ticket: 2,
          symbol: "EURUSD",
          reason: "SL",
          deal: deal(7, 10, { position: 2, reason: "SL" }),
        },
      ],
      dealEmitted: none,
      closeEmitted: none,
      windowTold: true,
    });

    expect([...result.positions.values()]).toEqual([position(1, { sl: 1.05 })]);
    expect(result.again).toBe(false);
  });

  test("deals once, sorted; a closing deal of a gone position brings its POSITION_CLOSED", () => {
    const result = mergeResync({
      before: new Map([[3, position(3)]]),
      snapshot: [],
      deals: [deal(12, 20, { position: 3 }), deal(11, 10, { position: 3, entry: "IN" })],
      window: [{ v: 1, event: "DEAL", seq: 1, deal: deal(10, 5, { entry: "IN" }) }],
      dealEmitted: (ticket) => ticket === 10,
      closeEmitted: none,
      windowTold: false,
    });

    expect(result.emissions).toEqual([
      { type: "DEAL", deal: deal(11, 10, { position: 3, entry: "IN" }) },
      { type: "DEAL", deal: deal(12, 20, { position: 3 }) },
      {
        type: "POSITION_CLOSED",
        ticket: 3,
        symbol: "EURUSD",
        reason: "TP",
        deal: deal(12, 20, { position: 3 }),
      },
    ]);
    expect(result.again).toBe(true);
  });

  test("what no event told: a vanished position, a changed one, a new one after being away", () => {
    const result = mergeResync({
      before: new Map([
        [1, position(1)],
        [2, position(2, { volume: 0.3 })],
      ]),
      snapshot: [position(2, { volume: 0.1 }), position(4, { sl: 1.09 })],
      deals: [],
      window: [],
      dealEmitted: none,
      closeEmitted: none,
      windowTold: false,
    });

    expect(result.emissions).toEqual([
      { type: "POSITION_CLOSED", ticket: 1, symbol: "EURUSD", reason: "UNKNOWN", deal: null },
      { type: "POSITION_MODIFIED", position: position(2, { volume: 0.1 }) },
      { type: "POSITION_MODIFIED", position: position(4, { sl: 1.09 }) },
    ]);
  });
});
