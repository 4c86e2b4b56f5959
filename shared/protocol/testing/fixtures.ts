/**
 * Test-only builders for valid requests and replies, one per action, with overrides. Used by the
 * protocol tests and available to agent tests; production code never imports this file.
 */

import type { HistoryDeal } from "../market-types.ts";
import type { TradeOrder } from "../pending-types.ts";
import type {
  AccountInfo,
  CloseRequest,
  GetOrderRequest,
  ModifyRequest,
  OpenRequest,
  PingRequest,
  Position,
  Request,
  SymbolInfo,
} from "../types.ts";

/** 2026-11-18T12:00:00Z, the TestClock's default start. */
export const FIXTURE_NOW_MS = Date.UTC(2026, 10, 18, 12, 0, 0);
export const FIXTURE_GATEWAY = "gtw-1";
export const FIXTURE_KEY_ID = "inf-1";

const signedEnvelope = {
  v: 1,
  id: "01hx7m4k2q8r9s0t1v2w3x4y5z",
  ts: FIXTURE_NOW_MS,
  client_order_id: "01JBZ4N5T6ABCDEFGHJKMNPQ",
  gateway: FIXTURE_GATEWAY,
  key_id: FIXTURE_KEY_ID,
} as const;

export function makePing(overrides: Partial<PingRequest> = {}): PingRequest {
  return { v: 1, id: "ping-1", action: "PING", ts: FIXTURE_NOW_MS, ...overrides };
}

export function makeOpen(overrides: Partial<OpenRequest> = {}): OpenRequest {
  const { v, id, ts, client_order_id, gateway, key_id } = signedEnvelope;
  return {
    v,
    id,
    action: "OPEN",
    ts,
    client_order_id,
    gateway,
    key_id,
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.1,
    sl: 1.095,
    tp: 1.11,
    deviation: 10,
    magic: 20261118,
    comment: "momentum",
    ...overrides,
  };
}

export function makeClose(overrides: Partial<CloseRequest> = {}): CloseRequest {
  return { ...signedEnvelope, action: "CLOSE", ticket: 5001, volume: 0.05, ...overrides };
}

export function makeModify(overrides: Partial<ModifyRequest> = {}): ModifyRequest {
  return { ...signedEnvelope, action: "MODIFY", ticket: 5001, sl: 1.096, tp: null, ...overrides };
}

export function makeGetOrder(overrides: Partial<GetOrderRequest> = {}): GetOrderRequest {
  return {
    v: 1,
    id: "q-1",
    action: "GET_ORDER",
    ts: FIXTURE_NOW_MS,
    client_order_id: signedEnvelope.client_order_id,
    ...overrides,
  };
}

/** One valid request per action, with the optional fields each allows. */
export function validRequests(): readonly Request[] {
  return [
    makePing(),
    makeOpen(),
    makeClose(),
    makeModify(),
    { v: 1, id: "q-2", action: "GET_ACCOUNT", ts: FIXTURE_NOW_MS },
    { v: 1, id: "q-3", action: "GET_POSITIONS", ts: FIXTURE_NOW_MS, symbol: "US500.cash" },
    { v: 1, id: "q-4", action: "GET_SYMBOL_INFO", ts: FIXTURE_NOW_MS, symbol: "BTCUSD#" },
    makeGetOrder(),
  ];
}

/** Bytes of a request object, unchecked: for feeding the validator malformed input. */
export function rawBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

export function makeAccount(overrides: Partial<AccountInfo> = {}): AccountInfo {
  return {
    login: 5012345,
    server: "Sim-Demo",
    name: "Sim Trader",
    currency: "USD",
    balance: 10000,
    equity: 10012.5,
    profit: 12.5,
    margin: 110,
    margin_free: 9902.5,
    margin_level: 9102.27,
    leverage: 100,
    margin_mode: "HEDGING",
    trade_allowed: true,
    margin_so_call: 100,
    margin_so_so: 50,
    ...overrides,
  };
}

export function makePosition(overrides: Partial<Position> = {}): Position {
  return {
    ticket: 5001,
    symbol: "EURUSD",
    side: "BUY",
    volume: 0.1,
    price_open: 1.1,
    price_current: 1.10125,
    sl: 1.095,
    tp: null,
    profit: 12.5,
    swap: 0,
    magic: 20261118,
    comment: "BPR1N4S2Y2C momentum",
    time: FIXTURE_NOW_MS,
    time_update: FIXTURE_NOW_MS,
    ...overrides,
  };
}

export function makeSymbolInfo(overrides: Partial<SymbolInfo> = {}): SymbolInfo {
  return {
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
    stops_level: 10,
    freeze_level: 0,
    filling_modes: ["FOK", "IOC"],
    execution_mode: "MARKET",
    trade_mode: "FULL",
    calc_mode: "FOREX",
    currency_base: "EUR",
    currency_profit: "USD",
    currency_margin: "EUR",
    margin_hedged: 50000,
    bid: 1.10125,
    ask: 1.10135,
    quote_time: FIXTURE_NOW_MS,
    spread: 10,
    session_open: true,
    ...overrides,
  };
}

/** A buy limit order resting on EURUSD, as GET_ORDERS lists it (TradeOrder). */
export function makeTradeOrder(overrides: Partial<TradeOrder> = {}): TradeOrder {
  return {
    ticket: 100000001,
    symbol: "EURUSD",
    type: "BUY_LIMIT",
    state: "PLACED",
    volume_initial: 0.1,
    volume_current: 0.1,
    price_open: 1.095,
    price_stoplimit: null,
    sl: null,
    tp: null,
    price_current: 1.1,
    type_time: "GTC",
    time_expiration: 0,
    type_filling: "FOK",
    magic: 7,
    comment: "BABCDEFGHJK",
    time_setup: FIXTURE_NOW_MS,
    time_done: 0,
    position_id: 0,
    position_by_id: 0,
    reason: "EXPERT",
    external_id: "",
    ...overrides,
  };
}

/** A market buy's deal as GET_HISTORY_DEALS lists it (HistoryDeal). */
export function makeHistoryDeal(overrides: Partial<HistoryDeal> = {}): HistoryDeal {
  return {
    ticket: 50000001,
    order: 100000001,
    position: 100000001,
    symbol: "EURUSD",
    type: "BUY",
    entry: "IN",
    reason: "EXPERT",
    volume: 0.1,
    price: 1.10135,
    profit: 0,
    commission: 0,
    swap: 0,
    fee: 0,
    magic: 7,
    comment: "BABCDEFGHJK momentum",
    external_id: "",
    time: FIXTURE_NOW_MS,
    ...overrides,
  };
}
