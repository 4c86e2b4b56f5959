/**
 * Market data through the terminal backend and the fake EA (docs/EA-LINK.md §7.13–§7.19), each
 * action sent to the real gateway handler: the answers equal what the simulated broker behind the
 * fake holds (the fake takes MT5's data from it), bars and ticks on the broker's server clock and
 * deals in UTC, paged within the link's limits. Every frame the gateway sent must pass the EA's
 * reader.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { RateRow, SymbolInfo, TickRow } from "../../../shared/protocol/index.ts";
import { placeOrder } from "../sim/testing/support.ts";
import { marketGateways, type Page, rowsOf } from "./testing/market-gateway.ts";
import {
  cleanupRigs,
  expectNoReaderViolations,
  openOrder,
  type Rig,
  startCheckedRig,
} from "./testing/rig.ts";

afterEach(async () => {
  expectNoReaderViolations();
  await cleanupRigs();
});

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** A rig whose broker runs on UTC (server time = sim time), and the two gateways. */
async function utcRig(options: Parameters<typeof startCheckedRig>[0] = {}) {
  const rig = await startCheckedRig({
    ...options,
    fake: { gmtOffsetS: 0, ...options.fake },
  });
  return { rig, ...marketGateways(rig) };
}

const sent = (rig: Rig, cmd: string) => rig.fake.commands.filter((c) => c.cmd === cmd);
const symbolsOf = (pages: Page[]) => rowsOf<SymbolInfo>(pages, "symbols").map((s) => s.symbol);

describe("GET_SYMBOLS", () => {
  test("every symbol of the server, each as GET_SYMBOL_INFO gives it", async () => {
    const { rig, terminal, sim } = await utcRig();
    const pages = await terminal.pages({ action: "GET_SYMBOLS" });
    expect(pages).toHaveLength(1);
    expect(pages[0]).toMatchObject({ status: "OK", total: 7, more: false });
    expect(symbolsOf(pages)).toEqual(symbolsOf(await sim.pages({ action: "GET_SYMBOLS" })));
    for (const info of rowsOf<SymbolInfo>(pages, "symbols")) {
      expect(info).toEqual((await rig.backend.symbolInfo(info.symbol)) as SymbolInfo);
    }
    expect(sent(rig, "GET_SYMBOL_NAMES")).toHaveLength(1);
    const batch = sent(rig, "GET_SYMBOLS");
    expect(batch.map((c) => c.frame.string("symbols"))).toEqual([
      "BTCUSD,EURUSD,GBPUSD,GER40,US500,USDJPY,XAUUSD",
    ]);
  });

  test("a group filter, and names listed a few at a time", async () => {
    const { rig, terminal } = await utcRig({ fake: { pageSize: 3 } });
    const pages = await terminal.pages({ action: "GET_SYMBOLS", group: "*USD*,!BTC*,!XAU*" });
    expect(symbolsOf(pages)).toEqual(["EURUSD", "GBPUSD", "USDJPY"]);
    expect(pages[0]).toMatchObject({ total: 3 });
    // 7 names, 3 per page of GET_SYMBOL_NAMES
    expect(sent(rig, "GET_SYMBOL_NAMES").map((c) => c.frame.integer("offset"))).toEqual([0, 3, 6]);
  });

  test("a batch cut by the EA's frame budget is asked again from where it stopped", async () => {
    const { rig, terminal } = await utcRig({ fake: { pageBudgetChars: 2500 } });
    const pages = await terminal.pages({ action: "GET_SYMBOLS" });
    expect(symbolsOf(pages)).toEqual([
      "BTCUSD",
      "EURUSD",
      "GBPUSD",
      "GER40",
      "US500",
      "USDJPY",
      "XAUUSD",
    ]);
    const batches = sent(rig, "GET_SYMBOLS").map((c) => c.frame.string("symbols")?.split(","));
    expect(batches.length).toBeGreaterThan(2);
    expect(batches[0]).toHaveLength(7);
    expect(batches.at(-1)).toEqual(["XAUUSD"]);
  });
});

describe("GET_TICK", () => {
  test("the last tick, and UNKNOWN_SYMBOL", async () => {
    const { terminal, sim } = await utcRig();
    const tick = await terminal.ask({ action: "GET_TICK", symbol: "EURUSD" });
    expect(tick).toEqual({
      ...(await sim.ask({ action: "GET_TICK", symbol: "EURUSD" })),
      id: tick.id,
    });
    expect(await terminal.ask({ action: "GET_TICK", symbol: "NOPE" })).toMatchObject({
      status: "REJECTED",
      error_code: "UNKNOWN_SYMBOL",
    });
  });
});

describe("GET_RATES", () => {
  test("by position, back from a date, and as a range: the broker's bars, oldest first", async () => {
    const { rig, terminal, sim } = await utcRig();
    for (const body of [
      { timeframe: "M5", start: 0, count: 10 },
      { timeframe: "M1", start: 30, count: 100 },
      { timeframe: "H1", from: rig.fakeClock.now() - DAY, count: 5 },
      { timeframe: "M15", from: rig.fakeClock.now() - 6 * HOUR, to: rig.fakeClock.now() },
      { timeframe: "MN1", start: 0, count: 12 },
    ]) {
      const request = { action: "GET_RATES", symbol: "EURUSD", ...body };
      const got = rowsOf<RateRow>(await terminal.pages(request), "rates");
      const want = rowsOf<RateRow>(await sim.pages(request), "rates");
      expect(want.length).toBeGreaterThan(0);
      expect(got).toEqual(want);
    }
  });
});

describe("GET_TICKS", () => {
  test("a count and a range, ALL and INFO", async () => {
    const { rig, terminal, sim } = await utcRig();
    const from = rig.fakeClock.now() - 10 * MINUTE;
    for (const body of [
      { from, count: 50 },
      { from, to: rig.fakeClock.now(), flags: "INFO" },
      { from, to: rig.fakeClock.now(), flags: "TRADE" },
    ]) {
      const request = { action: "GET_TICKS", symbol: "EURUSD", ...body };
      const got = rowsOf<TickRow>(await terminal.pages(request), "ticks");
      expect(got).toEqual(rowsOf<TickRow>(await sim.pages(request), "ticks"));
    }
  });
});

describe("GET_HISTORY_DEALS", () => {
  test("a day, a position and a ticket: the broker's deals in UTC", async () => {
    const { rig, terminal, sim } = await utcRig({ fake: { gmtOffsetS: 7200 } });
    const opened = await rig.backend.open(openOrder({ clientOrderId: "h-1" }));
    await rig.backend.close({
      clientOrderId: "h-2",
      ticket: opened.position as number,
      volume: null,
      deviation: 10,
      magic: 4242,
      comment: "",
    });
    await rig.backend.placeOrder(placeOrder({ clientOrderId: "h-3" }));
    const now = rig.clock.now();
    for (const body of [
      { from: now - DAY, to: now + MINUTE },
      { position: opened.position },
      { ticket: opened.deal },
    ]) {
      const request = { action: "GET_HISTORY_DEALS", ...body };
      const got = rowsOf(await terminal.pages(request), "history_deals");
      expect(got.length).toBeGreaterThan(0);
      expect(got).toEqual(rowsOf(await sim.pages(request), "history_deals"));
    }
  });
});
