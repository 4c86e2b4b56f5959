/**
 * Test-only: the fake EA's HELLO and its command table (GatewayBridge.mq5 BuildHello and
 * Dispatch): which handler answers which `cmd`, and BAD_REQUEST for anything else (§7, §15).
 */
import { SIM_SERVER_NAME } from "../../sim/options.ts";
import type { EaRecord, FlatObject } from "./ea-json.ts";
import type { FakeEaState } from "./fake-reads.ts";
import * as reads from "./fake-reads.ts";
import { type TradeCmd, type TradeHooks, trade } from "./fake-trades.ts";

export interface DispatchHooks extends TradeHooks {
  /** SUBSCRIBE_TICKS succeeded: the terminal starts scanning these symbols. */
  readonly subscribe: (symbols: readonly string[], throttleMs: number) => void;
}

/** §6.1: the first frame after connecting. */
export function helloFields(ea: FakeEaState, token: string): EaRecord {
  return {
    type: "HELLO",
    proto: 1,
    token,
    login: ea.login,
    server: SIM_SERVER_NAME,
    company: ea.company,
    currency: "USD",
    account_trade_mode: ea.accountTradeMode,
    margin_mode: "HEDGING",
    terminal_build: 4755,
    ea_version: "1.0.0",
    magic: ea.magic,
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
    case "OPEN":
    case "CLOSE":
    case "MODIFY":
      return trade(ea, cmd as TradeCmd, frame, hooks);
    case "FORGET":
      return reads.forget(ea, frame);
    case "SUBSCRIBE_TICKS":
      return reads.subscription(ea, frame).then(({ reply, symbols, throttleMs }) => {
        if (symbols !== undefined && throttleMs !== undefined) hooks.subscribe(symbols, throttleMs);
        return reply;
      });
    default:
      return reads.err("BAD_REQUEST", `unknown command ${cmd}`);
  }
}
