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

describe("the broker's server clock", () => {
  test("bars and ticks carry server time, as MT5 reports them; deals stay UTC", async () => {
    const offset = 7_200_000;
    const { rig, terminal, sim } = await utcRig({ fake: { gmtOffsetS: 7200 } });
    const shifted = (rows: readonly (readonly number[])[]): number[][] =>
      rows.map((row) => [(row[0] as number) + offset, ...row.slice(1)]);
    const bars = { action: "GET_RATES", symbol: "GBPUSD", timeframe: "M1", start: 0, count: 20 };
    const want = rowsOf<RateRow>(await sim.pages(bars), "rates");
    expect(rowsOf<number[]>(await terminal.pages(bars), "rates")).toEqual(shifted(want));
    // A range asked in server time is the sim's range two hours earlier
    const from = rig.fakeClock.now() - HOUR;
    const to = rig.fakeClock.now();
    const range = { action: "GET_RATES", symbol: "GBPUSD", timeframe: "M5", from, to };
    expect(
      rowsOf(await terminal.pages({ ...range, from: from + offset, to: to + offset }), "rates"),
    ).toEqual(shifted(rowsOf<RateRow>(await sim.pages(range), "rates")));
    // copy_ticks_from with a count reads up to the broker's now, not the gateway's UTC clock
    const ticks = { action: "GET_TICKS", symbol: "GBPUSD", from: to - 5 * MINUTE, count: 100_000 };
    const got = rowsOf<number[]>(
      await terminal.pages({ ...ticks, from: ticks.from + offset }),
      "ticks",
    );
    expect(got).toEqual(shifted(rowsOf<TickRow>(await sim.pages(ticks), "ticks")));
    expect(got.at(-1)?.[0]).toBeGreaterThan(to + offset - MINUTE);
    const tick = (await terminal.ask({ action: "GET_TICK", symbol: "GBPUSD" }))["tick"];
    const simTick = (await sim.ask({ action: "GET_TICK", symbol: "GBPUSD" }))["tick"];
    const { time_msc, ...rest } = simTick as { time_msc: number };
    expect(tick).toEqual({ ...rest, time_msc: time_msc + offset });
  });
});

describe("paging", () => {
  const LAST_WEEK = Date.UTC(2026, 10, 10, 0, 0, 0);

  test("exactly a page of bars, one over, an empty range and one before the history", async () => {
    const { rig, terminal } = await utcRig();
    const range = (from: number, bars: number) => ({
      action: "GET_RATES",
      symbol: "EURUSD",
      timeframe: "M1",
      from,
      to: from + (bars - 1) * MINUTE,
    });
    const page = await terminal.pages(range(LAST_WEEK, 5000));
    expect(page.map((p) => (p["rates"] as RateRow[]).length)).toEqual([5000]);
    const over = await terminal.pages(range(LAST_WEEK, 5001));
    expect(over.map((p) => (p["rates"] as RateRow[]).length)).toEqual([5000, 1]);
    expect(rowsOf<RateRow>(over, "rates").at(-1)![0]).toBe(LAST_WEEK + 5000 * MINUTE);
    const future = await terminal.pages(range(rig.fakeClock.now() + DAY, 100));
    expect(future).toMatchObject([{ rates: [], more: false }]);
    const ancient = await terminal.pages(range(Date.UTC(2014, 0, 1), 1000));
    expect(ancient).toMatchObject([{ rates: [], more: false }]);
    expect(
      await terminal.pages({
        action: "GET_RATES",
        symbol: "EURUSD",
        timeframe: "D1",
        from: Date.UTC(2014, 0, 1),
        count: 10,
      }),
    ).toMatchObject([{ rates: [], more: false }]);
  });

  test("a closed market leaves no bars and no ticks; a count reaches back over the weekend", async () => {
    const { terminal, sim } = await utcRig({ simOptions: { sessions: "forex" } });
    const friday = Date.UTC(2026, 10, 13, 20, 0, 0);
    const monday = Date.UTC(2026, 10, 16, 2, 0, 0);
    for (const request of [
      { action: "GET_RATES", symbol: "EURUSD", timeframe: "M1", from: friday, to: monday },
      { action: "GET_RATES", symbol: "EURUSD", timeframe: "H1", from: monday, count: 10 },
      {
        action: "GET_RATES",
        symbol: "EURUSD",
        timeframe: "M30",
        from: friday + 4 * HOUR,
        to: monday - 4 * HOUR,
      },
      { action: "GET_TICKS", symbol: "EURUSD", from: friday + HOUR, to: monday },
      { action: "GET_TICKS", symbol: "EURUSD", from: friday + 3 * HOUR, count: 10 },
    ]) {
      const field = request.action === "GET_RATES" ? "rates" : "ticks";
      const got = rowsOf<number[]>(await terminal.pages(request), field);
      expect(got).toEqual(rowsOf<number[]>(await sim.pages(request), field));
      // Nothing between Friday 22:00 and Sunday 22:00 UTC
      const closed = got.filter(
        (row) => row[0]! >= friday + 2 * HOUR && row[0]! < monday - 4 * HOUR,
      );
      expect(closed).toEqual([]);
    }
  });

  test("ticks over many pages, and ticks of one millisecond split between two pages", async () => {
    // Two tick rows fit a page: a run of three ticks of one millisecond cannot share one page
    const { rig, terminal, sim } = await utcRig({ fake: { pageBudgetChars: 80 } });
    // Three quotes pinned at the same millisecond: three ticks with one time_msc
    const at = rig.fakeClock.now();
    for (const bid of [1.1001, 1.1002, 1.1003])
      await rig.fake.sim.setQuote("EURUSD", bid, bid + 0.0001);
    const request = { action: "GET_TICKS", symbol: "EURUSD", from: at - 10_000, count: 100 };
    const pages = await terminal.pages(request);
    const got = rowsOf<TickRow>(pages, "ticks");
    expect(got).toEqual(rowsOf<TickRow>(await sim.pages(request), "ticks"));
    expect(got.filter((row) => row[0] === at).map((row) => row[1])).toEqual([
      1.1001, 1.1002, 1.1003,
    ]);
    expect(pages.length).toBeGreaterThan(2);
    expect(sent(rig, "GET_TICKS").some((c) => (c.frame.integer("skip") ?? 0) > 0)).toBe(true);
  });

  test("bars cut by the EA's frame budget continue at the first bar not sent", async () => {
    const { rig, terminal, sim } = await utcRig({ fake: { pageBudgetChars: 1000 } });
    const request = {
      action: "GET_RATES",
      symbol: "XAUUSD",
      timeframe: "M1",
      start: 0,
      count: 100,
    };
    const pages = await terminal.pages(request);
    expect(pages.length).toBeGreaterThan(5);
    expect(rowsOf(pages, "rates")).toEqual(rowsOf(await sim.pages(request), "rates"));
    expect(sent(rig, "GET_RATE_SPAN")).toHaveLength(1);
  });

  test("a deal history longer than the EA's listing page, with a group filter", async () => {
    const { rig, terminal, sim } = await utcRig({ fake: { pageSize: 2 } });
    for (const [index, symbol] of ["EURUSD", "GBPUSD", "EURUSD", "USDJPY", "EURUSD"].entries()) {
      await rig.backend.open(openOrder({ clientOrderId: `g-${index}`, symbol }));
    }
    const now = rig.clock.now();
    const request = {
      action: "GET_HISTORY_DEALS",
      from: now - DAY,
      to: now + MINUTE,
      group: "EUR*",
    };
    const got = rowsOf<{ symbol: string }>(await terminal.pages(request), "history_deals");
    expect(got.map((deal) => deal.symbol)).toEqual(["EURUSD", "EURUSD", "EURUSD"]);
    expect(got).toEqual(rowsOf(await sim.pages(request), "history_deals"));
    expect(sent(rig, "GET_HISTORY_DEALS").length).toBeGreaterThanOrEqual(3);
  });
});
