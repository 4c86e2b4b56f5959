/**
 * Query rules of the market-data routes, without any gateway: times in both forms, the forms of
 * each route, named codes for what MT5 refuses too, and the answer format.
 */
import { describe, expect, test } from "bun:test";
import { ApiError } from "./input.ts";
import {
  chooseFormat,
  parseHistoryQuery,
  parseLastTickQuery,
  parseRatesQuery,
  parseSymbolsQuery,
  parseTicksQuery,
  parseTime,
} from "./market-input.ts";

const q = (text: string) => new URLSearchParams(text);

function refusal(run: () => unknown): { status: number; code: string; field?: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError)
      return {
        status: error.status,
        code: error.code,
        ...(error.field === undefined ? {} : { field: error.field }),
      };
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("parseTime", () => {
  test.each([
    ["1795003200", 1_795_003_200_000],
    ["1795003200.25", 1_795_003_200_250],
    ["0", 0],
    ["2026-12-01", Date.UTC(2026, 11, 1)],
    ["2026-12-01T10:30", Date.UTC(2026, 11, 1, 10, 30)],
    ["2026-12-01T10:30:15Z", Date.UTC(2026, 11, 1, 10, 30, 15)],
    ["2026-12-01 10:30:15.5", Date.UTC(2026, 11, 1, 10, 30, 15, 500)],
    ["2026-12-01T12:30:00+02:00", Date.UTC(2026, 11, 1, 10, 30)],
    ["2026-12-01T08:00:00-02:30", Date.UTC(2026, 11, 1, 10, 30)],
    ["2024-02-29", Date.UTC(2024, 1, 29)],
    ["3000-12-31T23:59:59Z", 32_535_215_999_000],
  ])("%s", (text, ms) => {
    expect(parseTime("from", text)).toBe(ms);
  });

  test.each([
    "",
    "yesterday",
    "2026-02-30",
    "2025-02-29",
    "2026-13-01",
    "2026-12-01T24:00",
    "2026-12-01T10:60",
    "1795003200.1234",
    "-5",
    "1e9",
    "0x10",
    "3001-01-01",
    "99999999999",
    "2026-12-01T10:30:00+2",
  ])("refuses %p with INVALID_TIME", (text) => {
    expect(refusal(() => parseTime("from", text))).toEqual({
      status: 400,
      code: "INVALID_TIME",
      field: "from",
    });
  });
});

describe("rates", () => {
  const rates = (text: string) => parseRatesQuery("EURUSD", q(text), null, ["EURUSD"]);

  test("the four forms, as GET_RATES fields", () => {
    expect(rates("timeframe=M5&count=500").request).toEqual({
      action: "GET_RATES",
      symbol: "EURUSD",
      timeframe: "M5",
      start: 0,
      count: 500,
    });
    expect(rates("timeframe=h1&start=10&count=5").request).toMatchObject({
      timeframe: "H1",
      start: 10,
      count: 5,
    });
    expect(rates("timeframe=M1&from=2026-12-01&count=3").request).toMatchObject({
      from: Date.UTC(2026, 11, 1),
      count: 3,
    });
    expect(rates("timeframe=D1&from=1795003200&to=2026-12-31").request).toMatchObject({
      from: 1_795_003_200_000,
      to: Date.UTC(2026, 11, 31),
    });
  });

  test("symbols take the broker's spelling of the configured ones", () => {
    expect(
      parseRatesQuery("eurusd", q("timeframe=M1&count=1"), null, ["EURUSD"]).request.symbol,
    ).toBe("EURUSD");
  });

  test.each([
    ["timeframe=M7&count=1", 400, "INVALID_TIMEFRAME", "timeframe"],
    ["timeframe=M1234567890123456789&count=1", 400, "INVALID_REQUEST", "timeframe"],
    ["count=1", 400, "INVALID_REQUEST", "timeframe"],
    ["timeframe=M1&count=0", 400, "INVALID_COUNT", "count"],
    ["timeframe=M1&count=1000001", 400, "INVALID_COUNT", "count"],
    ["timeframe=M1&count=-1", 400, "INVALID_REQUEST", "count"],
    ["timeframe=M1&count=1.5", 400, "INVALID_REQUEST", "count"],
    ["timeframe=M1&start=999999&count=2", 400, "RANGE_TOO_LONG", "start"],
    ["timeframe=M1&from=2015-01-01&to=2026-01-01", 400, "RANGE_TOO_LONG", "to"],
    ["timeframe=M1&from=2026-12-02&to=2026-12-01", 400, "INVALID_RANGE", "to"],
    ["timeframe=M1&from=2026-12-02", 400, "INVALID_REQUEST", "from"],
    ["timeframe=M1&start=1", 400, "INVALID_REQUEST", "start"],
    ["timeframe=M1&from=x&count=1", 400, "INVALID_TIME", "from"],
    ["timeframe=M1&count=1&count=2", 400, "INVALID_REQUEST", "count"],
    ["timeframe=M1&count=1&limit=5", 400, "INVALID_REQUEST", "limit"],
    ["timeframe=M1&count=1&format=xml", 400, "INVALID_REQUEST", "format"],
    ["timeframe=M1&count=1&gateway=a%20b", 400, "INVALID_REQUEST", "gateway"],
  ])("%s: %d %s", (text, status, code, field) => {
    expect(refusal(() => rates(text))).toEqual({ status, code, field });
  });

  test("a bad symbol in the path is named", () => {
    expect(refusal(() => parseRatesQuery("EUR USD", q("timeframe=M1&count=1"), null, []))).toEqual({
      status: 400,
      code: "INVALID_REQUEST",
      field: "symbol",
    });
  });
});

describe("ticks", () => {
  const ticks = (text: string) => parseTicksQuery("EURUSD", q(text), null, []);

  test("from+count and from+to, flags by name in any case", () => {
    expect(ticks("from=2026-12-01&count=10").request).toEqual({
      action: "GET_TICKS",
      symbol: "EURUSD",
      from: Date.UTC(2026, 11, 1),
      count: 10,
      flags: "ALL",
    });
    expect(ticks("from=2026-12-01&to=2026-12-02&flags=info").request).toMatchObject({
      to: Date.UTC(2026, 11, 2),
      flags: "INFO",
    });
  });

  test.each([
    ["count=1", "INVALID_REQUEST", "from"],
    ["from=2026-12-01", "INVALID_REQUEST", "to"],
    ["from=2026-12-01&to=2026-12-02&count=5", "INVALID_REQUEST", "to"],
    ["from=2026-11-01&to=2026-12-02T00:00:01Z", "RANGE_TOO_LONG", "to"],
    ["from=2026-12-01&count=1000001", "INVALID_COUNT", "count"],
    ["from=2026-12-01&count=5&flags=SOME", "INVALID_REQUEST", "flags"],
  ])("%s: %s", (text, code, field) => {
    expect(refusal(() => ticks(text))).toEqual({ status: 400, code, field });
  });
});

describe("history", () => {
  const deals = (text: string) => parseHistoryQuery("GET_HISTORY_DEALS", q(text), null);

  test("from alone reads to the end; to, group, position and ticket pass through", () => {
    expect(deals("from=2026-12-01").request).toEqual({
      action: "GET_HISTORY_DEALS",
      from: Date.UTC(2026, 11, 1),
      to: 32_535_215_999_000,
    });
    expect(deals("from=2026-12-01&to=2026-12-02&group=EUR*").request).toMatchObject({
      to: Date.UTC(2026, 11, 2),
      group: "EUR*",
    });
    expect(deals("position=100000001").request).toEqual({
      action: "GET_HISTORY_DEALS",
      position: 100_000_001,
    });
    expect(parseHistoryQuery("GET_HISTORY_ORDERS", q("ticket=7"), null).request).toEqual({
      action: "GET_HISTORY_ORDERS",
      ticket: 7,
    });
  });

  test.each([
    ["", "from"],
    ["to=2026-12-01", "from"],
    ["from=2026-12-01&position=5", "from"],
    ["position=5&group=EUR*", "group"],
    ["position=0", "position"],
    ["ticket=abc", "ticket"],
    ["from=2026-12-01&group=EUR*,,USD*", "group"],
  ])("%p is refused naming %s", (text, field) => {
    expect(refusal(() => deals(text))).toMatchObject({ status: 400, field });
  });
});

describe("symbols and the last tick", () => {
  test("group is MT5's filter, checked like the gateway does", () => {
    expect(parseSymbolsQuery(q("group=*,!*JPY*"), null).request).toEqual({
      action: "GET_SYMBOLS",
      group: "*,!*JPY*",
    });
    expect(refusal(() => parseSymbolsQuery(q("group=!"), null))).toMatchObject({
      status: 400,
      field: "group",
    });
  });

  test("the last tick takes only gateway", () => {
    expect(parseLastTickQuery("EURUSD", q("gateway=gtw-1"), []).request).toEqual({
      action: "GET_TICK",
      symbol: "EURUSD",
    });
    expect(refusal(() => parseLastTickQuery("EURUSD", q("count=1"), []))).toMatchObject({
      field: "count",
    });
  });
});

describe("format", () => {
  test.each([
    [{}, null, "json"],
    [{}, "text/csv", "csv"],
    [{}, "text/csv;q=0.9, application/json", "csv"],
    [{}, "application/json, text/csv", "json"],
    [{}, "*/*", "json"],
    [{}, "text/html", "json"],
    [{ format: "csv" }, "application/json", "csv"],
    [{ format: "json" }, "text/csv", "json"],
  ] as const)("query %o, Accept %p: %s", (query, accept, format) => {
    expect(chooseFormat(query as Record<string, string>, accept, true)).toBe(format);
  });

  test("CSV of a JSON-only route is 406", () => {
    expect(refusal(() => chooseFormat({ format: "csv" }, null, false))).toEqual({
      status: 406,
      code: "NOT_ACCEPTABLE",
    });
    expect(refusal(() => parseSymbolsQuery(q(""), "text/csv"))).toMatchObject({ status: 406 });
  });
});
