/**
 * The market writers: pages of gateway rows become MT5-unit rows (by field name, so a gateway
 * that adds or reorders columns is still read right), written as CSV (RFC 4180) or as one JSON
 * document with a row per line that parses whole and ends with its row count.
 */
import { describe, expect, test } from "bun:test";
import type { RatesReply, Reply, TicksReply } from "../../shared/protocol/index.ts";
import { makeHistoryDeal, makeTradeOrder } from "../../shared/protocol/testing/fixtures.ts";
import { apiDeal, apiOrder, rateRows, tickRows } from "../gateway/market-units.ts";
import { csvCell, MarketWriter, pageRows } from "./market-rows.ts";

const RATES: RatesReply = {
  v: 1,
  id: "r",
  status: "OK",
  fields: ["time", "open", "high", "low", "close", "tick_volume", "spread", "real_volume"],
  rates: [
    [1_795_002_300_000, 1.10178, 1.10195, 1.10141, 1.10149, 329, 10, 0],
    [1_795_002_600_000, 1.10149, 1.10164, 1.10066, 1.10069, 397, 12, 0],
  ],
  more: false,
};

const page = (rows: RatesReply["rates"]): Reply => ({ ...RATES, rates: rows }) as unknown as Reply;

describe("rows in MT5 units", () => {
  test("bars: time in seconds, MT5's columns", () => {
    expect(rateRows(RATES)).toEqual([
      [1_795_002_300, 1.10178, 1.10195, 1.10141, 1.10149, 329, 10, 0],
      [1_795_002_600, 1.10149, 1.10164, 1.10066, 1.10069, 397, 12, 0],
    ]);
  });

  test("columns are read by name: a newer gateway's extra or reordered columns", () => {
    const reordered = {
      ...RATES,
      fields: [
        "open",
        "time",
        "extra",
        "high",
        "low",
        "close",
        "tick_volume",
        "spread",
        "real_volume",
      ],
      rates: [[1.1, 1_795_002_300_000, 99, 1.2, 1.0, 1.15, 5, 3, 0]],
    } as unknown as RatesReply;
    expect(rateRows(reordered)).toEqual([[1_795_002_300, 1.1, 1.2, 1.0, 1.15, 5, 3, 0]]);
    expect(() => rateRows({ ...RATES, fields: ["time"] })).toThrow(/lack the column open/);
  });

  test("ticks: time (s) first and time_msc in MT5's place", () => {
    const ticks = {
      v: 1,
      id: "t",
      status: "OK",
      fields: ["time_msc", "bid", "ask", "last", "volume", "flags", "volume_real"],
      ticks: [[1_795_003_140_999, 1.10023, 1.10033, 0, 0, 6, 0]],
      more: false,
    } as unknown as TicksReply;
    expect(tickRows(ticks)).toEqual([
      [1_795_003_140, 1.10023, 1.10033, 0, 0, 1_795_003_140_999, 6, 0],
    ]);
  });

  test("deals and orders get MT5's seconds and _msc twins", () => {
    const deal = makeHistoryDeal({ time: 1_795_003_200_002 });
    expect(apiDeal(deal)).toMatchObject({ time: 1_795_003_200, time_msc: 1_795_003_200_002 });
    const order = makeTradeOrder({ time_setup: 1_795_003_200_002, time_done: 1_795_003_201_500 });
    expect(apiOrder(order)).toMatchObject({
      time_setup: 1_795_003_200,
      time_setup_msc: 1_795_003_200_002,
      time_done: 1_795_003_201,
      time_done_msc: 1_795_003_201_500,
      time_expiration: 0,
    });
  });
});

describe("CSV", () => {
  test.each([
    [1.5, "1.5"],
    [0, "0"],
    [null, ""],
    ["EURUSD", "EURUSD"],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    [" padded", '" padded"'],
    [["FOK", "IOC"], "FOK IOC"],
  ])("cell %p", (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  test("header, rows across pages, nothing at the end", () => {
    const writer = new MarketWriter("rates", "csv");
    const text =
      writer.head({ gateway: "g" }) +
      writer.rows(pageRows("rates", page([RATES.rates[0] as never]))) +
      writer.rows(pageRows("rates", page([]))) +
      writer.rows(pageRows("rates", page([RATES.rates[1] as never]))) +
      writer.end();
    expect(text).toBe(
      "time,open,high,low,close,tick_volume,spread,real_volume\r\n" +
        "1795002300,1.10178,1.10195,1.10141,1.10149,329,10,0\r\n" +
        "1795002600,1.10149,1.10164,1.10066,1.10069,397,12,0\r\n",
    );
    expect(writer.count).toBe(2);
  });

  test("deal comments with commas and quotes survive a round trip through the cells", () => {
    const writer = new MarketWriter("history_deals", "csv");
    const deal = makeHistoryDeal({ comment: 'B123 "x", y' });
    const text = writer.rows([apiDeal(deal)]);
    expect(text).toContain('"B123 ""x"", y"');
    expect(text.split("\r\n")[0]?.split(",").length).toBeGreaterThan(17);
  });
});

describe("JSON", () => {
  test("one document, a row per line, the count at the end, whatever the pages", () => {
    const writer = new MarketWriter("rates", "json");
    const parts = [
      writer.head({ gateway: "g", symbol: "EURUSD", timeframe: "M5" }),
      writer.rows(pageRows("rates", page([]))),
      writer.rows(pageRows("rates", page([RATES.rates[0] as never]))),
      writer.rows(pageRows("rates", page([RATES.rates[1] as never]))),
      writer.end(),
    ];
    const text = parts.join("");
    const lines = text.trimEnd().split("\n");

    expect(JSON.parse(text)).toEqual({
      gateway: "g",
      symbol: "EURUSD",
      timeframe: "M5",
      fields: ["time", "open", "high", "low", "close", "tick_volume", "spread", "real_volume"],
      rates: rateRows(RATES),
      count: 2,
    });
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe('],"count":2}');
  });

  test("empty answers are valid too", () => {
    const writer = new MarketWriter("history_deals", "json");
    const text = writer.head({ gateway: "g" }) + writer.end();
    expect(JSON.parse(text)).toEqual({ gateway: "g", history_deals: [], count: 0 });
  });

  test("a document cut before its last line does not parse", () => {
    const writer = new MarketWriter("rates", "json");
    const text = writer.head({}) + writer.rows(pageRows("rates", page(RATES.rates)));
    expect(() => JSON.parse(text)).toThrow();
  });
});
