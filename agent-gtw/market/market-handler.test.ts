/**
 * The market actions through a whole in-process gateway on the simulated broker: each action,
 * the three bar forms, paging at its boundaries (exactly a page, one over, empty), a year of M1
 * bars fetched page by page, the named errors for bad input, and the same answers after a
 * restart. Every reply is also put through the client's own reply validator.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  encodeReply,
  parseReply,
  type RateRow,
  type Reply,
  type TickRow,
} from "../../shared/protocol/index.ts";
import { createHarness, type Harness } from "../testing/harness.ts";

const MINUTE = 60_000;
const DAY = 86_400_000;
const harnesses: Harness[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.close();
});

async function harness(): Promise<Harness> {
  const built = await createHarness();
  harnesses.push(built);
  return built;
}

type Page = Reply & Record<string, unknown>;

/** Send and check the reply the way agent-inf would. */
async function ask(h: Harness, body: Record<string, unknown>): Promise<Page> {
  const reply = await h.send(body);
  const checked = parseReply(encodeReply(reply), body["action"] as never);
  expect(checked.ok ? "valid" : checked.error.message).toBe("valid");
  return reply as Page;
}

/** Follow `next` until `more` is false; the pages, in order. */
async function pages(h: Harness, body: Record<string, unknown>): Promise<Page[]> {
  const out: Page[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await ask(h, cursor === undefined ? body : { ...body, cursor });
    expect(page.status).toBe("OK");
    out.push(page);
    if (page["more"] !== true) return out;
    cursor = page["next"] as string;
  }
  throw new Error("paging did not end");
}

const raw = (h: Harness, body: Record<string, unknown>) =>
  h.gateway.handle(
    [new TextEncoder().encode(JSON.stringify({ v: 1, id: "raw-1", ts: h.clock.now(), ...body }))],
    "inf-1",
  );

describe("GET_SYMBOLS and GET_TICK", () => {
  test("list symbols by name with their specification and live quote, filtered by group", async () => {
    const h = await harness();
    const all = await ask(h, { action: "GET_SYMBOLS" });
    const names = (all["symbols"] as { symbol: string }[]).map((info) => info.symbol);
    expect(names).toEqual(["BTCUSD", "EURUSD", "GBPUSD", "GER40", "US500", "USDJPY", "XAUUSD"]);
    expect(all).toMatchObject({ total: 7, more: false });
    const usd = await ask(h, { action: "GET_SYMBOLS", group: "*USD*,!BTC*,!XAU*" });
    expect((usd["symbols"] as { symbol: string }[]).map((info) => info.symbol)).toEqual([
      "EURUSD",
      "GBPUSD",
      "USDJPY",
    ]);
    expect(usd["total"]).toBe(3);
    expect(await ask(h, { action: "GET_SYMBOLS", group: "NOTHING*" })).toMatchObject({
      symbols: [],
      total: 0,
      more: false,
    });
  });

  test("the last tick is the live quote; an unknown symbol is UNKNOWN_SYMBOL", async () => {
    const h = await harness();
    h.clock.advance(3_000);
    const reply = await ask(h, { action: "GET_TICK", symbol: "EURUSD" });
    const info = (await h.backend.symbolInfo("EURUSD"))!;
    expect(reply["tick"]).toEqual({
      time_msc: info.quote_time,
      bid: info.bid,
      ask: info.ask,
      last: 0,
      volume: 0,
      flags: expect.any(Number),
      volume_real: 0,
    });
    expect(await h.send({ action: "GET_TICK", symbol: "NOPE" })).toMatchObject({
      status: "REJECTED",
      error_code: "UNKNOWN_SYMBOL",
    });
  });
});

describe("GET_RATES", () => {
  test("from a position: 0 is the bar being built, pages of 5000 oldest first", async () => {
    const h = await harness();
    h.clock.advance(30_500);
    const now = h.clock.now();
    const result = await pages(h, {
      action: "GET_RATES",
      symbol: "EURUSD",
      timeframe: "M1",
      start: 0,
      count: 12_000,
    });
    expect(result.map((page) => (page["rates"] as RateRow[]).length)).toEqual([5000, 5000, 2000]);
    const bars = result.flatMap((page) => page["rates"] as RateRow[]);
    expect(bars.at(-1)![0]).toBe(Math.floor(now / MINUTE) * MINUTE);
    expect(bars.at(-1)![4]).toBe((await h.backend.symbolInfo("EURUSD"))!.bid);
    for (let i = 1; i < bars.length; i++) expect(bars[i]![0]).toBeGreaterThan(bars[i - 1]![0]);
    // Exactly a page is one page; one more bar is a second page of one
    expect(
      (
        await pages(h, {
          action: "GET_RATES",
          symbol: "EURUSD",
          timeframe: "M1",
          start: 0,
          count: 5000,
        })
      ).length,
    ).toBe(1);
    const over = await pages(h, {
      action: "GET_RATES",
      symbol: "EURUSD",
      timeframe: "M1",
      start: 0,
      count: 5001,
    });
    expect(over.map((page) => (page["rates"] as RateRow[]).length)).toEqual([5000, 1]);
  });

  test("from a date backwards and in a range give the same bars", async () => {
    const h = await harness();
    const date = Date.UTC(2026, 10, 17, 9, 30);
    const back = await ask(h, {
      action: "GET_RATES",
      symbol: "GBPUSD",
      timeframe: "M15",
      from: date,
      count: 8,
    });
    const rows = back["rates"] as RateRow[];
    expect(rows).toHaveLength(8);
    expect(rows.at(-1)![0]).toBe(date);
    const range = await ask(h, {
      action: "GET_RATES",
      symbol: "GBPUSD",
      timeframe: "M15",
      from: rows[0]![0],
      to: date,
    });
    expect(range["rates"]).toEqual(rows);
  });

  test("a year of M1 bars comes page by page, every bar once", async () => {
    const h = await harness();
    const to = h.clock.now();
    const from = to - 365 * DAY;
    const result = await pages(h, {
      action: "GET_RATES",
      symbol: "EURUSD",
      timeframe: "M1",
      from,
      to,
    });
    const bars = result.flatMap((page) => page["rates"] as RateRow[]);
    // The harness sim never closes: one bar per minute of the year
    expect(bars.length).toBe(365 * 1440);
    expect(result.length).toBe(Math.ceil(bars.length / 5000));
    expect(new Set(bars.map((bar) => bar[0])).size).toBe(bars.length);
    expect(bars[0]![0]).toBe(from);
  });

  test("an empty range, a range in the future and an unknown symbol", async () => {
    const h = await harness();
    const now = h.clock.now();
    const future = await ask(h, {
      action: "GET_RATES",
      symbol: "EURUSD",
      timeframe: "H1",
      from: now + DAY,
      to: now + 2 * DAY,
    });
    expect(future).toMatchObject({ rates: [], more: false });
    expect(future["next"]).toBeUndefined();
    const before = await ask(h, {
      action: "GET_RATES",
      symbol: "EURUSD",
      timeframe: "D1",
      from: 0,
      count: 10,
    });
    expect(before).toMatchObject({ rates: [], more: false });
    expect(
      await h.send({ action: "GET_RATES", symbol: "NOPE", timeframe: "H1", start: 0, count: 1 }),
    ).toMatchObject({
      error_code: "UNKNOWN_SYMBOL",
    });
  });

  test.each([
    [{ timeframe: "M7", start: 0, count: 5 }, "INVALID_TIMEFRAME"],
    [{ timeframe: "H1", start: 0, count: 0 }, "INVALID_COUNT"],
    [{ timeframe: "H1", start: 0, count: 1_000_001 }, "INVALID_COUNT"],
    [{ timeframe: "M1", start: 999_000, count: 5000 }, "RANGE_TOO_LONG"],
    [{ timeframe: "M1", from: 0, to: Date.UTC(2026, 0, 1) }, "RANGE_TOO_LONG"],
    [{ timeframe: "H1", from: 10, to: 5 }, "INVALID_RANGE"],
    [{ timeframe: "H1", from: 0, to: 5, cursor: "R1.1.2.00000000" }, "INVALID_CURSOR"],
  ])("refuses %p with %s, echoing the id", async (fields, code) => {
    const h = await harness();
    const reply = await raw(h, { action: "GET_RATES", symbol: "EURUSD", ...fields });
    expect(reply).toMatchObject({ id: "raw-1", status: "ERROR", error_code: code });
  });

  test("a restarted gateway serves the same bars, and cursors from before the restart still work", async () => {
    const h = await harness();
    const body = { action: "GET_RATES", symbol: "USDJPY", timeframe: "M5", start: 0, count: 6000 };
    const first = await ask(h, body);
    const restarted = await h.restart();
    harnesses.push(restarted);
    const second = await ask(restarted, { ...body, cursor: first["next"] });
    expect((second["rates"] as RateRow[])[0]![0]).toBe(
      (first["rates"] as RateRow[]).at(-1)![0] + 5 * MINUTE,
    );
    const again = await ask(restarted, body);
    expect(again["rates"]).toEqual(first["rates"]);
  });
});

describe("GET_TICKS", () => {
  test("a count comes in pages that add up to it, contiguous and without repeats", async () => {
    const h = await harness();
    h.clock.advance(10 * MINUTE);
    const from = h.clock.now() - 8 * 3_600_000;
    const result = await pages(h, { action: "GET_TICKS", symbol: "EURUSD", from, count: 12_000 });
    expect(result.map((page) => (page["ticks"] as TickRow[]).length)).toEqual([5000, 5000, 2000]);
    const ticks = result.flatMap((page) => page["ticks"] as TickRow[]);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]![0]).toBeGreaterThan(ticks[i - 1]![0]);
    const range = await pages(h, {
      action: "GET_TICKS",
      symbol: "EURUSD",
      from,
      to: ticks.at(-1)![0],
    });
    expect(range.flatMap((page) => page["ticks"] as TickRow[])).toEqual(ticks);
  });

  test("TRADE ticks: none on a bid/ask feed; bad ranges get named errors", async () => {
    const h = await harness();
    const now = h.clock.now();
    expect(
      await ask(h, {
        action: "GET_TICKS",
        symbol: "EURUSD",
        from: now - DAY,
        to: now,
        flags: "TRADE",
      }),
    ).toMatchObject({
      ticks: [],
      more: false,
    });
    expect(
      await raw(h, { action: "GET_TICKS", symbol: "EURUSD", from: now, to: now - 1 }),
    ).toMatchObject({ error_code: "INVALID_RANGE" });
    expect(await raw(h, { action: "GET_TICKS", symbol: "EURUSD", from: 0, to: now })).toMatchObject(
      { error_code: "RANGE_TOO_LONG" },
    );
    expect(
      await raw(h, { action: "GET_TICKS", symbol: "EURUSD", from: now, count: 0 }),
    ).toMatchObject({ error_code: "INVALID_COUNT" });
  });
});

describe("GET_HISTORY_DEALS and GET_HISTORY_ORDERS", () => {
  test("by range, position and ticket, with a group filter, from the broker's books", async () => {
    const h = await harness();
    const opened = (await h.send({
      action: "OPEN",
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.2,
    })) as Page;
    h.clock.advance(MINUTE);
    await h.send({ action: "OPEN", symbol: "GBPUSD", side: "SELL", volume: 0.1 });
    h.clock.advance(MINUTE);
    await h.send({ action: "CLOSE", ticket: opened["ticket"] as number, volume: 0.1 });
    const now = h.clock.now();
    const deals = (await ask(h, { action: "GET_HISTORY_DEALS", from: 0, to: now }))[
      "history_deals"
    ] as Record<string, unknown>[];
    expect(deals.map((deal) => [deal["symbol"], deal["type"], deal["entry"]])).toEqual([
      ["EURUSD", "BUY", "IN"],
      ["GBPUSD", "SELL", "IN"],
      ["EURUSD", "SELL", "OUT"],
    ]);
    const byPosition = await ask(h, { action: "GET_HISTORY_DEALS", position: opened["ticket"] });
    expect((byPosition["history_deals"] as unknown[]).length).toBe(2);
    const one = await ask(h, { action: "GET_HISTORY_DEALS", ticket: deals[1]!["ticket"] });
    expect(one["history_deals"]).toEqual([deals[1]]);
    const gbp = await ask(h, { action: "GET_HISTORY_ORDERS", from: 0, to: now, group: "GBP*" });
    expect(gbp["history_orders"]).toEqual([
      expect.objectContaining({
        symbol: "GBPUSD",
        type: "SELL",
        state: "FILLED",
        ticket: deals[1]!["order"],
      }),
    ]);
    const orders = await ask(h, { action: "GET_HISTORY_ORDERS", ticket: deals[0]!["order"] });
    expect(orders["history_orders"]).toEqual([
      expect.objectContaining({ position_id: opened["ticket"], volume_initial: 0.2 }),
    ]);
    expect(
      await ask(h, { action: "GET_HISTORY_DEALS", from: now + 1, to: now + DAY }),
    ).toMatchObject({ history_deals: [], more: false });
    // The books outlive the gateway: the same history after a restart
    const restarted = await h.restart();
    harnesses.push(restarted);
    const again = await ask(restarted, { action: "GET_HISTORY_DEALS", from: 0, to: now });
    expect(again["history_deals"]).toEqual(deals);
  });

  test("a stopped broker is MT5_LINK_DOWN", async () => {
    const h = await harness();
    await h.backend.stop();
    expect(await h.send({ action: "GET_HISTORY_DEALS", from: 0, to: 1 })).toMatchObject({
      error_code: "MT5_LINK_DOWN",
    });
  });
});

describe("reads under load", () => {
  test("one client's flood of reads is cut at its share; another client's page still comes", async () => {
    const h = await harness();
    const body = (id: number) =>
      new TextEncoder().encode(
        JSON.stringify({
          v: 1,
          id: `f${id}`,
          ts: h.clock.now(),
          action: "GET_RATES",
          symbol: "EURUSD",
          timeframe: "M1",
          start: 0,
          count: 5000,
        }),
      );
    const flood = Array.from({ length: 40 }, (_, i) => h.gateway.handle([body(i)], "greedy"));
    const other = h.gateway.handle([body(99)], "polite");
    const replies = await Promise.all(flood);
    const limited = replies.filter((reply) => reply.error_code === "RATE_LIMITED");
    expect(limited).toHaveLength(8);
    expect(limited[0]!.error_msg).toBe(
      "more than 32 market reads are waiting from greedy; wait for their replies",
    );
    expect((await other).status).toBe("OK");
    // Once the flood is answered the client may read again
    expect((await h.gateway.handle([body(100)], "greedy")).status).toBe("OK");
  });
});
