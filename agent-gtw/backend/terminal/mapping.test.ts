/**
 * EA replies → shared types, pure (docs/EA-LINK.md §4, §5, §7, §9, §10.3, §13, §14): enum
 * table, filling modes, time conversion, magic numbers, deal reasons, trade replies and their
 * three outcomes, and the link state from the permission flags.
 */
import { describe, expect, test } from "bun:test";
import { Retcode } from "../../../shared/protocol/index.ts";
import { stateFromStatus } from "./hello.ts";
import {
  dealReason,
  fillingModes,
  MAX_EXACT_MAGIC,
  roundOffsetSeconds,
  ServerTime,
  toAccountDetails,
  toDeal,
  toPosition,
  toSymbolExtras,
  toSymbolInfo,
  UnsupportedValueError,
} from "./mapping.ts";
import { tradeBody } from "./testing/rig.ts";
import { readTradeReply } from "./trade-mapping.ts";
import { LinkProtocolError, WireFields } from "./wire-fields.ts";

const fields = (object: Record<string, unknown>) => new WireFields(object, "test reply");
const time = new ServerTime(7200);

const SYMBOL = {
  symbol: "EURUSD",
  description: "Euro vs US Dollar",
  digits: 5,
  point: 0.00001,
  tick_size: 0.00001,
  tick_value: 1,
  contract_size: 100000,
  volume_min: 0.01,
  volume_max: 500,
  volume_step: 0.01,
  volume_limit: 0,
  stops_level: 0,
  freeze_level: 0,
  filling_mode: 3,
  execution_mode: 2,
  execution_mode_name: "SYMBOL_TRADE_EXECUTION_MARKET",
  trade_mode: 4,
  trade_mode_name: "SYMBOL_TRADE_MODE_FULL",
  calc_mode: 0,
  calc_mode_name: "SYMBOL_CALC_MODE_FOREX",
  currency_base: "EUR",
  currency_profit: "USD",
  currency_margin: "EUR",
  margin_hedged: 50000,
  bid: 1.17412,
  ask: 1.17419,
  quote_time: 1767607200873,
  spread: 7,
  session_open: true,
  order_mode: 127,
  expiration_mode: 15,
  some_future_field: [1, 2],
};

describe("symbol info (§7.4, §13, §14)", () => {
  test("maps the §15 example, names first, server time to Unix", () => {
    expect(toSymbolInfo(fields(SYMBOL), time)).toMatchObject({
      filling_modes: ["FOK", "IOC", "RETURN"],
      execution_mode: "MARKET",
      trade_mode: "FULL",
      calc_mode: "FOREX",
      quote_time: 1767607200873 - 7_200_000,
      order_modes: ["MARKET", "LIMIT", "STOP", "STOP_LIMIT", "SL", "TP", "CLOSE_BY"],
      expiration_modes: ["GTC", "DAY", "SPECIFIED", "SPECIFIED_DAY"],
    });
  });

  test("order and expiration modes are the set flags; bits this gateway does not know are left out", () => {
    const some = { ...SYMBOL, order_mode: 2 | 16 | 128, expiration_mode: 1 | 4 | 64 };
    expect(toSymbolInfo(fields(some), time)).toMatchObject({
      order_modes: ["LIMIT", "SL"],
      expiration_modes: ["GTC", "SPECIFIED"],
    });
    const negative = { ...SYMBOL, expiration_mode: -1 };
    expect(() => toSymbolInfo(fields(negative), time)).toThrow(LinkProtocolError);
    // An EA before 2.1.0 does not send it: unknown, not a broken link
    const older = toSymbolInfo(fields({ ...SYMBOL, expiration_mode: undefined }), time);
    expect(older.expiration_modes).toBeUndefined();
  });

  test("falls back to the int without a name, and the name wins over a wrong int", () => {
    const byInt = { ...SYMBOL, trade_mode: 1, trade_mode_name: undefined };
    expect(toSymbolInfo(fields(byInt), time).trade_mode).toBe("LONG_ONLY");
    const named = { ...SYMBOL, calc_mode: 99, calc_mode_name: "SYMBOL_CALC_MODE_CFDLEVERAGE" };
    expect(toSymbolInfo(fields(named), time).calc_mode).toBe("CFD_LEVERAGE");
  });

  test("an MT5 mode our protocol lacks is unsupported, not a protocol error", () => {
    const stocks = { ...SYMBOL, calc_mode: 32, calc_mode_name: "SYMBOL_CALC_MODE_EXCH_STOCKS" };
    expect(() => toSymbolInfo(fields(stocks), time)).toThrow(UnsupportedValueError);
    const unknown = { ...SYMBOL, calc_mode: 77, calc_mode_name: "SYMBOL_CALC_MODE_NEW" };
    expect(() => toSymbolInfo(fields(unknown), time)).toThrow("unknown calc_mode");
  });

  // The MQL5 reference (ENUM_ORDER_TYPE_FILLING) allows RETURN for market orders on Market and
  // Exchange execution; Instant and Request take FOK whatever the flags say
  test.each([
    [3, "MARKET", ["FOK", "IOC", "RETURN"]],
    [2, "MARKET", ["IOC", "RETURN"]],
    [0, "MARKET", ["RETURN"]],
    [2, "INSTANT", ["FOK", "IOC"]],
    [0, "REQUEST", ["FOK"]],
    [0, "EXCHANGE", ["RETURN"]],
    [1, "EXCHANGE", ["FOK", "RETURN"]],
  ] as const)("filling flags %d with %s execution → %p", (flags, execution, expected) => {
    expect(fillingModes(flags, execution)).toEqual([...expected]);
  });

  test("the EA's own view: allowed order types and the filling it sends", () => {
    expect(toSymbolExtras(fields({ order_mode: 127, filling: "FOK" }))).toEqual({
      order_mode: 127,
      filling: "FOK",
    });
    expect(() => toSymbolExtras(fields({ order_mode: 1, filling: "BOC" }))).toThrow(
      LinkProtocolError,
    );
  });

  test("a missing or mistyped field is a protocol error naming it", () => {
    expect(() => toSymbolInfo(fields({ ...SYMBOL, digits: "5" }), time)).toThrow(
      'test reply field digits must be a safe integer (was "5")',
    );
    expect(() => toSymbolInfo(fields({ ...SYMBOL, bid: null }), time)).toThrow(LinkProtocolError);
  });
});

describe("time (§5)", () => {
  test.each([
    [7200, 7200],
    [7199, 7200],
    [7649, 7200],
    [7651, 8100],
    [-3601, -3600],
    [20_700, 20_700],
    [1, 0],
    [50_400, 50_400],
  ])("gmt_offset_s %d rounds to %d", (raw, rounded) => {
    expect(roundOffsetSeconds(raw)).toBe(rounded);
  });

  test("an offset beyond ±14 h is a protocol error", () => {
    expect(() => roundOffsetSeconds(60_000)).toThrow("beyond ±14 h");
  });

  test("0 stays 0, other times move by the offset both ways", () => {
    const t = new ServerTime(7199);
    expect(t.toUnix(0)).toBe(0);
    expect(t.toUnix(1_000_000_000)).toBe(1_000_000_000 - 7_200_000);
    expect(t.toServer(t.toUnix(123_456_789))).toBe(123_456_789);
  });
});

describe("positions and deals (§7.3, §7.5, §14)", () => {
  const position = {
    ticket: 91733506,
    identifier: 91733506,
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.1,
    price_open: 1.17419,
    price_current: 1.17455,
    sl: 1.1705,
    tp: 0,
    profit: 3.6,
    swap: 0,
    magic: 570100,
    comment: "k7Qm2xV9",
    time: 1767607202311,
    time_update: 1767607260120,
  };

  test("sl/tp 0 become null and times become Unix ms", () => {
    expect(toPosition(fields(position), time)).toEqual({
      ticket: 91733506,
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.1,
      price_open: 1.17419,
      price_current: 1.17455,
      sl: 1.1705,
      tp: null,
      profit: 3.6,
      swap: 0,
      magic: 570100,
      comment: "k7Qm2xV9",
      time: 1767607202311 - 7_200_000,
      time_update: 1767607260120 - 7_200_000,
    });
  });

  test("tickets beyond 2^53 are refused rather than rounded (§4)", () => {
    const huge = JSON.parse(`{"ticket": 9007199254740993}`) as Record<string, unknown>;
    expect(() => toPosition(fields({ ...position, ...huge }), time)).toThrow("safe integer");
  });

  test("a side other than BUY/SELL is a protocol error", () => {
    expect(() => toPosition(fields({ ...position, side: "LONG" }), time)).toThrow("BUY or SELL");
  });

  const deal = {
    ticket: 80515390,
    order: 91733677,
    position: 91733506,
    symbol: "EURUSD",
    side: "SELL",
    entry: "OUT_BY",
    reason: "SL",
    volume: 0.05,
    price: 1.1705,
    profit: -18.45,
    commission: 0,
    swap: 0,
    fee: 0,
    magic: 570100,
    comment: "[sl 1.17050]",
    time: 1767609012455,
  };

  test("OUT_BY counts as OUT; reasons follow §14", () => {
    expect(toDeal(fields(deal), time).deal).toMatchObject({ entry: "OUT", reason: "SL" });
    expect(dealReason("MOBILE")).toEqual({ reason: "CLIENT", known: true });
    expect(dealReason("WEB")).toEqual({ reason: "CLIENT", known: true });
    expect(dealReason("EXPERT")).toEqual({ reason: "EXPERT", known: true });
    expect(dealReason("CORPORATE_ACTION")).toEqual({ reason: "CLIENT", known: false });
    expect(toDeal(fields({ ...deal, reason: "ROLLOVER" }), time).unknownReason).toBe("ROLLOVER");
    expect(() => toDeal(fields({ ...deal, entry: "SIDEWAYS" }), time)).toThrow("deal entry");
  });

  test("another EA's magic beyond 2^53 degrades that item's magic, never the link (§4)", () => {
    // The EA writes the ulong exactly; JSON.parse cannot hold it
    const parsed = JSON.parse('{"magic": 18446744073709551615}') as Record<string, unknown>;
    expect(toPosition(fields({ ...position, ...parsed }), time).magic).toBe(MAX_EXACT_MAGIC);
    expect(toDeal(fields({ ...deal, ...parsed }), time).deal).toMatchObject({
      magic: MAX_EXACT_MAGIC,
      ticket: deal.ticket,
      profit: deal.profit,
    });
    expect(toPosition(fields({ ...position, magic: 2 ** 53 - 1 }), time).magic).toBe(2 ** 53 - 1);
    expect(() => toPosition(fields({ ...position, magic: -1 }), time)).toThrow("magic was -1");
    expect(() => toPosition(fields({ ...position, magic: 1.5 }), time)).toThrow("safe integer");
  });
});

describe("account (§7.2)", () => {
  test("GET_ACCOUNT carries the trade mode the selftest trusts, as MT5 reports it now", () => {
    const account = {
      login: 5012345,
      server: "MetaQuotes-Demo",
      name: "Demo",
      company: "MetaQuotes Ltd.",
      currency: "USD",
      balance: 10000,
      equity: 10000,
      profit: 0,
      margin: 0,
      margin_free: 10000,
      margin_level: 0,
      leverage: 100,
      margin_mode: "HEDGING",
      account_trade_mode: "REAL",
      trade_allowed: true,
      trade_expert: true,
      margin_so_mode: "PERCENT",
      margin_so_call: 100,
      margin_so_so: 50,
    };
    const details = toAccountDetails(fields(account));
    expect(details.account_trade_mode).toBe("REAL");
    expect(details.account.login).toBe(5012345);
    expect(() => toAccountDetails(fields({ ...account, account_trade_mode: "LIVE" }))).toThrow(
      "account_trade_mode was LIVE",
    );
  });
});

describe("trade replies (§9, §10.3)", () => {
  const read = (body: Record<string, unknown>, cmd: "OPEN" | "CLOSE" = "OPEN") =>
    readTradeReply(cmd, "c1", fields(body));

  test("a SERVER answer is MT5's result; duplicate is passed on", () => {
    const body = tradeBody("OPEN", "c1", "SERVER", 10009, "Request executed", {
      deal: 5,
      order: 6,
      position: 6,
      volume: 0.1,
      price: 1.1,
      sl: 1.0,
    });
    expect(read(body)).toEqual({
      kind: "answered",
      outcome: {
        result: {
          retcode: 10009,
          deal: 5,
          order: 6,
          position: 6,
          volume: 0.1,
          price: 1.1,
          bid: 0,
          ask: 0,
          comment: "Request executed",
        },
        source: "SERVER",
        duplicate: false,
        sl: 1,
        tp: 0,
      },
    });
    const repeat = read({ duplicate: true, ...body });
    expect(repeat.kind === "answered" && repeat.outcome.duplicate).toBe(true);
  });

  test.each([
    ["EA", 10014],
    ["CHECK", 10030],
    ["CHECK", 10027],
    ["SERVER", 10004],
  ] as const)("a %s refusal %d is an answer with that retcode", (source, retcode) => {
    const reading = read(tradeBody("OPEN", "c1", source, retcode, "no"));
    expect(reading.kind === "answered" && reading.outcome.result.retcode).toBe(retcode);
    expect(reading.kind === "answered" && reading.outcome.source).toBe(source);
  });

  test.each([
    ["another cmd", { cmd: "CLOSE" }, "reply names CLOSE c1"],
    ["another client_order_id", { client_order_id: "other" }, "reply names OPEN other"],
    ["an unknown source", { source: "BROKER" }, "source was BROKER"],
    ["success decided by the EA", { source: "EA", retcode: 10009 }, "from EA with retcode 10009"],
    ["a stored CHECK answer", { source: "CHECK", duplicate: true }, "and duplicate"],
    ["a negative ticket", { deal: -1 }, "deal was -1"],
    ["a string volume", { volume: "0.1" }, "volume must be a finite number"],
  ])("%s is a protocol error", (_name, change, message) => {
    const body = { ...tradeBody("OPEN", "c1", "SERVER", 10016, "x"), ...change };
    expect(() => read(body)).toThrow(message);
  });

  const error = (code: string, extra: Record<string, unknown> = {}) =>
    read({ ok: false, error: code, error_msg: "why", ...extra });

  test.each([
    ["BAD_REQUEST", Retcode.INVALID],
    ["UNKNOWN_SYMBOL", Retcode.INVALID],
    ["COID_CONFLICT", Retcode.INVALID],
    ["RUNTIME_4752", Retcode.CLIENT_DISABLES_AT],
    ["RUNTIME_4753", Retcode.POSITION_CLOSED],
    ["RUNTIME_4756", Retcode.ERROR],
  ])("%s (nothing sent) becomes retcode %d", (code, retcode) => {
    const reading = error(code);
    expect(reading.kind).toBe("answered");
    if (reading.kind === "answered") {
      expect(reading.outcome.result).toMatchObject({ retcode, comment: `EA: ${code}: why` });
      expect(reading.outcome.source).toBe("EA");
    }
  });

  test("in_flight, OUTCOME_UNKNOWN and unknown codes are unknown; a dead store is unavailable", () => {
    expect(error("RUNTIME_4756", { in_flight: true }).kind).toBe("unknown");
    expect(error("OUTCOME_UNKNOWN").kind).toBe("unknown");
    expect(error("TOO_LARGE").kind).toBe("unknown");
    expect(error("SOMETHING_NEW").kind).toBe("unknown");
    expect(error("DEDUP_STORE_FAILED").kind).toBe("unavailable");
  });
});

describe("link state (§7.1)", () => {
  test("TRADE_DISABLED names the first false flag in §7.1's order", () => {
    const status = {
      terminal_connected: true,
      terminal_trade_allowed: false,
      ea_trade_allowed: false,
      account_trade_allowed: true,
      account_trade_expert: true,
      server_time: 0,
      gmt_offset_s: 0,
    };
    expect(stateFromStatus(status)).toEqual({
      state: "TRADE_DISABLED",
      detail: "terminal_trade_allowed is false: the toolbar Algo Trading button is off",
    });
    expect(
      stateFromStatus({ ...status, terminal_trade_allowed: true, ea_trade_allowed: true }),
    ).toEqual({
      state: "UP",
    });
  });
});
