/**
 * Request rules of the market actions: the forms each action takes, and the named codes MT5-style
 * bad input gets (INVALID_TIMEFRAME, INVALID_COUNT, INVALID_RANGE, RANGE_TOO_LONG, INVALID_CURSOR).
 */
import { describe, expect, test } from "bun:test";
import { encodeCursor } from "./market-cursor.ts";
import { MAX_RATES_PER_QUERY, MAX_TICKS_RANGE_MS, MAX_TIME_MS } from "./market-types.ts";
import { parseRequest } from "./validate.ts";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 18, 12);
const encoder = new TextEncoder();

function check(body: Record<string, unknown>) {
  const result = parseRequest(encoder.encode(JSON.stringify({ v: 1, id: "r1", ts: NOW, ...body })));
  return result.ok ? "ok" : `${result.error.code}: ${result.error.message}`;
}

const rates = { action: "GET_RATES", symbol: "EURUSD", timeframe: "M5" };
const ticks = { action: "GET_TICKS", symbol: "EURUSD" };
const deals = { action: "GET_HISTORY_DEALS" };

describe("market requests", () => {
  test.each([
    [{ action: "GET_SYMBOLS" }],
    [{ action: "GET_SYMBOLS", group: "*,!*USD*" }],
    [{ action: "GET_TICK", symbol: "US500.cash" }],
    [{ ...rates, from: NOW, count: 100 }],
    [{ ...rates, start: 0, count: 1 }],
    [{ ...rates, from: NOW - DAY, to: NOW }],
    [{ ...rates, timeframe: "MN1", from: 0, to: MAX_TIME_MS }],
    [{ ...ticks, from: NOW, count: 1_000_000 }],
    [{ ...ticks, from: NOW - DAY, to: NOW, flags: "INFO" }],
    [{ ...deals, from: 0, to: NOW, group: "EUR*" }],
    [{ ...deals, position: 5001 }],
    [{ action: "GET_HISTORY_ORDERS", ticket: 6001 }],
  ])("accepts %p", (body) => {
    expect(check(body)).toBe("ok");
  });

  test.each([
    [
      { ...rates, timeframe: "M7", start: 0, count: 1 },
      'INVALID_TIMEFRAME: timeframe "M7" is unknown; use one of M1 M2',
    ],
    [{ ...rates, timeframe: "m5", start: 0, count: 1 }, "INVALID_TIMEFRAME"],
    [
      { ...rates, timeframe: 16385, start: 0, count: 1 },
      "INVALID_REQUEST: field timeframe must be a timeframe name",
    ],
    [{ ...rates, start: 0, count: 0 }, "INVALID_COUNT: count must be from 1 to 1000000, was 0"],
    [{ ...rates, from: NOW, count: -5 }, "INVALID_COUNT"],
    [{ ...rates, from: NOW, count: MAX_RATES_PER_QUERY + 1 }, "INVALID_COUNT"],
    [
      { ...rates, start: 999_999, count: 2 },
      "RANGE_TOO_LONG: start + count reaches 1000001 bars back",
    ],
    [{ ...rates, start: -1, count: 2 }, "INVALID_REQUEST: field start must be a bar position"],
    [{ ...rates, from: NOW, to: NOW - 1 }, `INVALID_RANGE: from (${NOW}) is after to (${NOW - 1})`],
    [{ ...rates, timeframe: "M1", from: 0, to: NOW }, "RANGE_TOO_LONG: the range can hold up to"],
    [
      { ...rates, from: NOW },
      "INVALID_REQUEST: GET_RATES takes from+count, start+count or from+to, was from",
    ],
    [{ ...rates, from: NOW, to: NOW, count: 5 }, "INVALID_REQUEST: GET_RATES takes"],
    [{ ...rates, start: 0, to: NOW }, "INVALID_REQUEST: GET_RATES takes"],
    [
      { ...rates, from: MAX_TIME_MS + 1000, count: 1 },
      "INVALID_REQUEST: field from must be a Unix ms time",
    ],
    [{ ...rates, from: 1.5, count: 1 }, "INVALID_REQUEST: field from must be a Unix ms time"],
    [{ ...ticks, from: NOW }, "INVALID_REQUEST: GET_TICKS takes from+count or from+to"],
    [{ ...ticks, from: NOW, to: NOW, count: 3 }, "INVALID_REQUEST: GET_TICKS takes"],
    [{ ...ticks, from: NOW, count: 0 }, "INVALID_COUNT"],
    [{ ...ticks, from: NOW, to: NOW - 1 }, "INVALID_RANGE"],
    [
      { ...ticks, from: 0, to: MAX_TICKS_RANGE_MS + 1 },
      "RANGE_TOO_LONG: the range is 2678400001 ms, limit is 2678400000",
    ],
    [
      { ...ticks, from: NOW, count: 5, flags: "QUOTES" },
      "INVALID_REQUEST: field flags must be one of INFO, TRADE, ALL",
    ],
    [{ ...deals }, "INVALID_REQUEST: history takes from+to"],
    [{ ...deals, from: 0 }, "INVALID_REQUEST: history takes from+to"],
    [{ ...deals, from: 0, to: NOW, ticket: 5 }, "INVALID_REQUEST: history takes from+to"],
    [{ ...deals, position: 5, group: "*" }, "INVALID_REQUEST: group filters a from+to query only"],
    [{ ...deals, from: 5, to: 4 }, "INVALID_RANGE"],
    [{ ...deals, ticket: 0 }, "INVALID_REQUEST: field ticket must be a positive integer"],
    [{ action: "GET_SYMBOLS", group: "EUR/USD" }, "INVALID_REQUEST: field group must be"],
    [{ action: "GET_TICK" }, "INVALID_REQUEST: field symbol is required"],
    [
      { action: "GET_TICK", symbol: "EURUSD", cursor: "x" },
      "INVALID_REQUEST: field cursor is not allowed in GET_TICK",
    ],
  ])("refuses %p with %s", (body, expected) => {
    expect(check(body)).toStartWith(expected);
  });

  test("takes back its own cursor with the same fields, and refuses it with others", () => {
    const first = { ...rates, from: NOW - DAY, to: NOW };
    const cursor = encodeCursor({ v: 1, id: "r1", ts: NOW, ...first }, "R", [NOW - DAY / 2, NOW]);
    expect(check({ ...first, cursor })).toBe("ok");
    expect(check({ ...first, to: NOW - 1, cursor })).toStartWith(
      "INVALID_CURSOR: cursor belongs to another query",
    );
    expect(check({ ...first, cursor: "R1.1.2.deadbeef" })).toStartWith("INVALID_CURSOR");
    expect(check({ ...first, cursor: "a b" })).toStartWith("INVALID_REQUEST: field cursor");
    const symbols = encodeCursor({ action: "GET_SYMBOLS" }, "S", ["EURUSD"]);
    expect(check({ action: "GET_SYMBOLS", cursor: symbols })).toBe("ok");
    expect(check({ ...deals, position: 5, cursor: symbols })).toStartWith("INVALID_CURSOR");
  });
});
