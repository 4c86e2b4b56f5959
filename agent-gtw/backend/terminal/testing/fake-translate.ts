/**
 * Test-only: the simulated broker's types → the fields GatewayBridge.mq5 sends (EA-LINK §7, §12,
 * §13): int enums with their MQL5 names, filling flags, broker-server milliseconds, sl/tp 0 for
 * none. Tables written from §13 on their own (not from the gateway's mapping), so a mistake on
 * either side shows up in the tests.
 */

import type {
  AccountInfo,
  CalcMode,
  Deal,
  ExecutionMode,
  OrderTimeType,
  Position,
  SymbolInfo,
  SymbolOrderMode,
  SymbolTradeMode,
  TradeOrder,
} from "../../../../shared/protocol/index.ts";
import type { EaRecord } from "./ea-json.ts";

const EXECUTION: Record<ExecutionMode, [number, string]> = {
  REQUEST: [0, "SYMBOL_TRADE_EXECUTION_REQUEST"],
  INSTANT: [1, "SYMBOL_TRADE_EXECUTION_INSTANT"],
  MARKET: [2, "SYMBOL_TRADE_EXECUTION_MARKET"],
  EXCHANGE: [3, "SYMBOL_TRADE_EXECUTION_EXCHANGE"],
};

const TRADE_MODE: Record<SymbolTradeMode, [number, string]> = {
  DISABLED: [0, "SYMBOL_TRADE_MODE_DISABLED"],
  LONG_ONLY: [1, "SYMBOL_TRADE_MODE_LONGONLY"],
  SHORT_ONLY: [2, "SYMBOL_TRADE_MODE_SHORTONLY"],
  CLOSE_ONLY: [3, "SYMBOL_TRADE_MODE_CLOSEONLY"],
  FULL: [4, "SYMBOL_TRADE_MODE_FULL"],
};

const CALC_MODE: Record<CalcMode, [number, string]> = {
  FOREX: [0, "SYMBOL_CALC_MODE_FOREX"],
  CFD: [2, "SYMBOL_CALC_MODE_CFD"],
  CFD_INDEX: [3, "SYMBOL_CALC_MODE_CFDINDEX"],
  CFD_LEVERAGE: [4, "SYMBOL_CALC_MODE_CFDLEVERAGE"],
  FOREX_NO_LEVERAGE: [5, "SYMBOL_CALC_MODE_FOREX_NO_LEVERAGE"],
};

/** SYMBOL_ORDER_MODE bits (MQL5 reference, SYMBOL_ORDER_*). */
export const ORDER_MODE_BITS: Record<SymbolOrderMode, number> = {
  MARKET: 1,
  LIMIT: 2,
  STOP: 4,
  STOP_LIMIT: 8,
  SL: 16,
  TP: 32,
  CLOSE_BY: 64,
};

/** SYMBOL_EXPIRATION_MODE bits (MQL5 reference, SYMBOL_EXPIRATION_*). */
export const EXPIRATION_BITS: Record<OrderTimeType, number> = {
  GTC: 1,
  DAY: 2,
  SPECIFIED: 4,
  SPECIFIED_DAY: 8,
};

/** The flags of these names, as SymbolInfoInteger reports them. */
export function bitsOf<K extends string>(names: readonly K[], bits: Record<K, number>): number {
  return names.reduce((flags, name) => flags | bits[name], 0);
}

/** Converts the sim's Unix ms to the broker-server ms the EA reports (§5). */
export class BrokerClock {
  readonly offsetMs: number;

  constructor(gmtOffsetS: number) {
    this.offsetMs = gmtOffsetS * 1000;
  }

  toServer(unixMs: number): number {
    return unixMs === 0 ? 0 : unixMs + this.offsetMs;
  }

  toUnix(serverMs: number): number {
    return serverMs - this.offsetMs;
  }
}

export function eaSymbolInfo(info: SymbolInfo, clock: BrokerClock): EaRecord {
  const [execution, executionName] = EXECUTION[info.execution_mode];
  const [tradeMode, tradeModeName] = TRADE_MODE[info.trade_mode];
  const [calcMode, calcModeName] = CALC_MODE[info.calc_mode];
  // SYMBOL_FILLING_MODE flags: 1 FOK, 2 IOC (RETURN has no flag)
  const flags =
    (info.filling_modes.includes("FOK") ? 1 : 0) | (info.filling_modes.includes("IOC") ? 2 : 0);
  return {
    symbol: info.symbol,
    description: info.description,
    digits: info.digits,
    point: info.point,
    tick_size: info.tick_size,
    tick_value: info.tick_value,
    contract_size: info.contract_size,
    volume_min: info.volume_min,
    volume_max: info.volume_max,
    volume_step: info.volume_step,
    volume_limit: info.volume_limit,
    stops_level: info.stops_level,
    freeze_level: info.freeze_level,
    filling_mode: flags,
    expiration_mode: bitsOf(info.expiration_modes ?? [], EXPIRATION_BITS),
    execution_mode: execution,
    execution_mode_name: executionName,
    trade_mode: tradeMode,
    trade_mode_name: tradeModeName,
    calc_mode: calcMode,
    calc_mode_name: calcModeName,
    currency_base: info.currency_base,
    currency_profit: info.currency_profit,
    currency_margin: info.currency_margin,
    margin_hedged: info.margin_hedged,
    bid: info.bid,
    ask: info.ask,
    quote_time: clock.toServer(info.quote_time),
    spread: info.spread,
    session_open: info.session_open,
  };
}

export function eaAccount(
  account: AccountInfo,
  extra: { company: string; tradeMode: string; tradeExpert: boolean },
): EaRecord {
  return {
    login: account.login,
    server: account.server,
    name: account.name,
    company: extra.company,
    currency: account.currency,
    balance: account.balance,
    equity: account.equity,
    profit: account.profit,
    margin: account.margin,
    margin_free: account.margin_free,
    margin_level: account.margin_level,
    leverage: account.leverage,
    margin_mode: account.margin_mode,
    account_trade_mode: extra.tradeMode,
    trade_allowed: account.trade_allowed,
    trade_expert: extra.tradeExpert,
    margin_so_mode: "PERCENT",
    margin_so_call: account.margin_so_call,
    margin_so_so: account.margin_so_so,
  };
}

/** A position as PositionJson writes it; `ticket` differs from the identifier once re-opened. */
export function eaPosition(
  position: Position,
  clock: BrokerClock,
  ticket: number = position.ticket,
): EaRecord {
  return {
    ticket,
    identifier: position.ticket,
    symbol: position.symbol,
    side: position.side,
    volume: position.volume,
    price_open: position.price_open,
    price_current: position.price_current,
    sl: position.sl ?? 0,
    tp: position.tp ?? 0,
    profit: position.profit,
    swap: position.swap,
    magic: position.magic,
    comment: position.comment,
    time: clock.toServer(position.time),
    time_update: clock.toServer(position.time_update),
  };
}

export function eaDeal(deal: Deal, clock: BrokerClock): EaRecord {
  return {
    ticket: deal.ticket,
    order: deal.order,
    position: deal.position,
    symbol: deal.symbol,
    side: deal.side,
    entry: deal.entry,
    reason: deal.reason,
    volume: deal.volume,
    price: deal.price,
    profit: deal.profit,
    commission: deal.commission,
    swap: deal.swap,
    fee: 0,
    magic: deal.magic,
    comment: deal.comment,
    time: clock.toServer(deal.time),
  };
}

/** An order as OrderJson writes it (active or from the history): MT5's 0 for "no price". */
export function eaOrder(order: TradeOrder, clock: BrokerClock): EaRecord {
  return {
    ticket: order.ticket,
    symbol: order.symbol,
    order_type: order.type,
    state: order.state,
    volume_initial: order.volume_initial,
    volume_current: order.volume_current,
    price_open: order.price_open,
    price_stoplimit: order.price_stoplimit ?? 0,
    sl: order.sl ?? 0,
    tp: order.tp ?? 0,
    price_current: order.price_current,
    type_time: order.type_time,
    time_expiration: clock.toServer(order.time_expiration),
    type_filling: order.type_filling,
    magic: order.magic,
    comment: order.comment,
    time_setup: clock.toServer(order.time_setup),
    time_done: clock.toServer(order.time_done),
    position_id: order.position_id,
    position_by_id: order.position_by_id,
    reason: order.reason,
  };
}
