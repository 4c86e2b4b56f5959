/**
 * Test-only: the fake EA's HELLO and its command table (GatewayBridge.mq5 BuildHello and
 * Dispatch): which handler answers which `cmd`, and BAD_REQUEST for anything else (§7, §15).
 */
import type { EaRecord, FlatObject } from "./ea-json.ts";
import * as market from "./fake-market.ts";
import * as orders from "./fake-orders.ts";
import type { FakeEaState } from "./fake-reads.ts";
import * as reads from "./fake-reads.ts";
import { TRADE_COMMANDS, type TradeCmd, type TradeHooks, trade } from "./fake-trades.ts";

export interface DispatchHooks extends TradeHooks {
  /** SUBSCRIBE_TICKS succeeded: the terminal starts scanning these symbols. */
  readonly subscribe: (symbols: readonly string[], throttleMs: number) => void;
}

/** BuildHello (§6.2): sent once the gateway's proof checked out, with the EA's own proof. */
export function helloFields(ea: FakeEaState, proof: string): EaRecord {
  return {
    type: "HELLO",
    proto: 2,
    ea_proof: proof,
    login: ea.identity.login,
    server: ea.identity.server,
    company: ea.company,
    currency: "USD",
    account_trade_mode: ea.identity.accountTradeMode,
    margin_mode: "HEDGING",
    terminal_build: 4755,
    ea_version: ea.eaVersion,
    magic: BigInt(ea.magic),
    max_lots: ea.maxLots,
    deviation: ea.deviation,
    chart_symbol: "EURUSD",
    dedup_entries: ea.dedup.size,
    ...reads.statusFields(ea),
  };
}

export function dispatch(
  ea: FakeEaState,
  cmd: string,
  frame: FlatObject,
  hooks: DispatchHooks,
): Promise<EaRecord> | EaRecord {
  switch (cmd) {
    case "PING":
      return reads.ping(ea);
    case "GET_ACCOUNT":
      return reads.account(ea);
    case "GET_POSITIONS":
      return reads.positions(ea, frame);
    case "GET_SYMBOL_INFO":
      return reads.symbolInfo(ea, frame);
    case "GET_DEALS":
      return reads.deals(ea, frame);
    case "GET_ORDERS":
      return orders.orders(ea, frame);
    case "GET_HISTORY_ORDERS":
      return orders.historyOrders(ea, frame);
    case "GET_HISTORY_DEALS":
      return market.historyDeals(ea, frame);
    case "GET_SYMBOL_NAMES":
      return market.symbolNames(ea, frame);
    case "GET_SYMBOLS":
      return market.symbols(ea, frame);
    case "GET_TICK":
      return market.tick(ea, frame);
    case "GET_RATE_SPAN":
      return market.rateSpan(ea, frame);
    case "GET_RATES":
      return market.rates(ea, frame);
    case "GET_TICKS":
      return market.ticks(ea, frame);
    case "ORDER_CHECK":
      return orders.orderCheck(ea, frame);
    case "CALC_MARGIN":
      return orders.calcMargin(ea, frame);
    case "CALC_PROFIT":
      return orders.calcProfit(ea, frame);
    case "FORGET":
      return reads.forget(ea, frame);
    case "SUBSCRIBE_TICKS":
      return reads.subscription(ea, frame).then(({ reply, symbols, throttleMs }) => {
        if (symbols !== undefined && throttleMs !== undefined) hooks.subscribe(symbols, throttleMs);
        return reply;
      });
    default:
      // OPEN, CLOSE, MODIFY, PLACE, MODIFY_ORDER, CANCEL, CLOSE_BY: CmdTrade
      if ((TRADE_COMMANDS as readonly string[]).includes(cmd)) {
        return trade(ea, cmd as TradeCmd, frame, hooks);
      }
      return reads.err("BAD_REQUEST", `unknown command ${cmd}`);
  }
}
