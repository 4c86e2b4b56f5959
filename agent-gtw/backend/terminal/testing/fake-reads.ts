/**
 * Test-only: the fake EA's non-trade commands (EA-LINK §7.1–§7.5, §7.7, §7.8), answered from
 * the simulated broker the way GatewayBridge.mq5 answers them from the terminal: same fields,
 * same paging and validation, same error codes.
 */
import type { Clock } from "../../../../shared/clock.ts";
import type { SymbolInfo } from "../../../../shared/protocol/index.ts";
import type { SimBackend } from "../../sim/sim-backend.ts";
import { type EaRecord, eaJson, type FlatObject } from "./ea-json.ts";
import type { FakeDedup } from "./fake-dedup.ts";
import {
  type BrokerClock,
  bitsOf,
  eaAccount,
  eaDeal,
  eaPosition,
  eaSymbolInfo,
  ORDER_MODE_BITS,
} from "./fake-translate.ts";

export const DEFAULT_PAGE = 500;
export const MAX_PAGE = 1000;
/** PAGE_BUDGET_CHARS: a page's items stay under the 1 MiB frame. */
export const PAGE_BUDGET_CHARS = 960_000;

/** The five permission flags of HELLO and PING (§7.1). */
export interface FakeStatus {
  terminal_connected: boolean;
  terminal_trade_allowed: boolean;
  ea_trade_allowed: boolean;
  account_trade_allowed: boolean;
  account_trade_expert: boolean;
}

/** The account the terminal is logged into; login 0 = not logged in (ACCOUNT_LOGIN). */
export interface FakeIdentity {
  login: number;
  server: string;
  accountTradeMode: "DEMO" | "CONTEST" | "REAL";
}

/** What the fake EA knows besides the sim: its inputs, the account, the flags, broker quirks. */
export interface FakeEaState {
  readonly sim: SimBackend;
  readonly clock: Clock;
  readonly broker: BrokerClock;
  readonly dedup: FakeDedup;
  readonly status: FakeStatus;
  /** gmt_offset_s as reported (the real offset may be jittered by the PC clock, §5). */
  readonly reportedOffsetS: number;
  readonly identity: FakeIdentity;
  readonly company: string;
  readonly magic: number;
  readonly deviation: number;
  readonly maxLots: number;
  /** Items per page at most, whatever `limit` asks (a test knob; the EA's cap is 1,000). */
  readonly pageSize: number;
  /** PAGE_BUDGET_CHARS (a test knob, to see a page cut by size). */
  readonly pageBudgetChars: number;
  readonly startedAt: number;
  /** SYMBOL_ORDER_MODE per symbol, overriding the sim's order_modes. */
  readonly orderModes: Map<string, number>;
  /**
   * Positions the broker re-opened under a new ticket (swap rollover): sim ticket → the ticket
   * the terminal shows now. The sim ticket stays the POSITION_IDENTIFIER.
   */
  readonly tickets: Map<number, number>;
  /** Per symbol: copies that still find its history loading (fake-market.ts). */
  readonly historyLoading: Map<string, number>;
  /** EA_VERSION the HELLO announces. */
  readonly eaVersion: string;
}

export function ok(fields: EaRecord = {}): EaRecord {
  return { ok: true, ...fields };
}

export function err(code: string, message: string): EaRecord {
  return { ok: false, error: code, error_msg: message };
}

/** StatusFields(): shared by HELLO and the PING reply. */
export function statusFields(state: FakeEaState): EaRecord {
  const now = state.clock.now() + state.broker.offsetMs;
  return {
    ...state.status,
    // TimeTradeServer() × 1000: whole seconds
    server_time: Math.floor(now / 1000) * 1000,
    gmt_offset_s: state.reportedOffsetS,
  };
}

export function ping(state: FakeEaState): EaRecord {
  return ok({
    ...statusFields(state),
    ping_last_us: 38_211,
    uptime_ms: Math.round(state.clock.monotonic() - state.startedAt),
  });
}

export async function account(state: FakeEaState): Promise<EaRecord> {
  return ok(
    eaAccount(
      { ...(await state.sim.account()), login: state.identity.login },
      {
        company: state.company,
        tradeMode: state.identity.accountTradeMode,
        tradeExpert: state.status.account_trade_expert,
      },
    ),
  );
}

/** The ticket the terminal shows for a sim position (re-opened ones have a new one). */
export function shownTicket(state: FakeEaState, simTicket: number): number {
  return state.tickets.get(simTicket) ?? simTicket;
}

export function pageArgs(request: FlatObject): { offset: number; limit: number } | undefined {
  const offset = request.has("offset") ? request.integer("offset") : 0;
  const limit = request.has("limit") ? request.integer("limit") : DEFAULT_PAGE;
  if (offset === undefined || limit === undefined) return undefined;
  if (offset < 0 || offset > 1_000_000 || limit < 1 || limit > MAX_PAGE) return undefined;
  return { offset, limit };
}

/** PageAdd + PageReply: `limit` items, or fewer when the page's characters would pass the budget. */
export function page(
  state: FakeEaState,
  name: string,
  items: EaRecord[],
  offset: number,
  limit: number,
): EaRecord {
  const slice: EaRecord[] = [];
  let chars = 0;
  for (const item of items.slice(offset, offset + Math.min(limit, state.pageSize))) {
    const size = eaJson(item).length;
    if (chars + size + 1 > state.pageBudgetChars) break;
    chars += size + 1;
    slice.push(item);
  }
  return ok({
    total: items.length,
    offset,
    count: slice.length,
    more: offset + slice.length < items.length,
    [name]: slice,
  });
}

export async function positions(state: FakeEaState, request: FlatObject): Promise<EaRecord> {
  const symbol = request.string("symbol");
  const magic = request.integer("magic");
  const args = pageArgs(request);
  if (args === undefined) return err("BAD_REQUEST", "offset >= 0 and 1 <= limit <= 1000");
  const matching = (await state.sim.positions())
    .filter((p) => symbol === undefined || symbol === "" || p.symbol === symbol)
    .filter((p) => magic === undefined || p.magic === magic)
    .map((p) => eaPosition(p, state.broker, shownTicket(state, p.ticket)));
  return page(state, "positions", matching, args.offset, args.limit);
}

export async function deals(state: FakeEaState, request: FlatObject): Promise<EaRecord> {
  const from = request.integer("from");
  const to = request.integer("to");
  if (from === undefined || to === undefined || from < 0 || to < from) {
    return err("BAD_REQUEST", "from and to are required (server-time ms, from <= to)");
  }
  const symbol = request.string("symbol");
  const magic = request.integer("magic");
  const args = pageArgs(request);
  if (args === undefined) return err("BAD_REQUEST", "offset >= 0 and 1 <= limit <= 1000");
  const all = await state.sim.deals({
    from: state.broker.toUnix(from),
    to: state.broker.toUnix(to),
  });
  const matching = all
    .filter((d) => symbol === undefined || symbol === "" || d.symbol === symbol)
    .filter((d) => magic === undefined || d.magic === magic)
    .map((d) => eaDeal(d, state.broker));
  return page(state, "deals", matching, args.offset, args.limit);
}

export async function symbolInfo(state: FakeEaState, request: FlatObject): Promise<EaRecord> {
  const symbol = request.string("symbol");
  if (symbol === undefined || symbol === "") return err("BAD_REQUEST", "symbol is required");
  const info = await state.sim.symbolInfo(symbol);
  if (info === undefined) return err("UNKNOWN_SYMBOL", `unknown symbol ${symbol}`);
  return ok({
    ...eaSymbolInfo(info, state.broker),
    order_mode: orderModeFlags(state, info),
    filling: fillingFor(info),
  });
}

/** SymbolInfoInteger(SYMBOL_ORDER_MODE): a test's override, else the sim symbol's order modes. */
export function orderModeFlags(state: FakeEaState, info: SymbolInfo): number {
  return state.orderModes.get(info.symbol) ?? bitsOf(info.order_modes ?? [], ORDER_MODE_BITS);
}

/** FillingFor (BridgeTrades.mqh), from the sim's flags and execution mode. */
export function fillingFor(info: SymbolInfo): "FOK" | "IOC" | "RETURN" {
  if (info.execution_mode === "INSTANT" || info.execution_mode === "REQUEST") return "FOK";
  if (info.filling_modes.includes("FOK")) return "FOK";
  if (info.filling_modes.includes("IOC")) return "IOC";
  return "RETURN";
}

/** CmdForget. */
export function forget(state: FakeEaState, request: FlatObject): EaRecord {
  const coid = request.string("client_order_id");
  if (coid === undefined || !validCoid(coid)) {
    return err("BAD_REQUEST", "client_order_id must be 1-24 chars of [A-Za-z0-9_-]");
  }
  const known = state.dedup.has(coid);
  if (known && !state.dedup.forget(coid)) {
    return err("DEDUP_STORE_FAILED", "cannot write the dedup file");
  }
  return ok({ forgotten: known });
}

export function validCoid(coid: string): boolean {
  return /^[A-Za-z0-9_-]{1,24}$/.test(coid);
}

/** CmdSubscribe's validation; the terminal keeps the subscription. */
export async function subscription(
  state: FakeEaState,
  request: FlatObject,
): Promise<{ reply: EaRecord; symbols?: string[]; throttleMs?: number }> {
  const list = request.has("symbols") ? request.string("symbols") : "";
  const throttle = request.has("throttle_ms") ? request.integer("throttle_ms") : 100;
  if (list === undefined) {
    return { reply: err("BAD_REQUEST", "symbols must be a comma-separated string") };
  }
  if (throttle === undefined)
    return { reply: err("BAD_REQUEST", "throttle_ms must be an integer") };
  const symbols = list === "" ? [] : list.split(",").map((part) => part.trim());
  if (symbols.length > 64) return { reply: err("BAD_REQUEST", "at most 64 symbols") };
  for (const symbol of symbols) {
    if (symbol === "" || (await state.sim.symbolInfo(symbol)) === undefined) {
      return { reply: err("UNKNOWN_SYMBOL", `unknown symbol '${symbol}'`) };
    }
  }
  const throttleMs = Math.max(10, Math.min(throttle, 60_000));
  return {
    reply: ok({ subscribed: symbols.length, throttle_ms: throttleMs }),
    symbols,
    throttleMs,
  };
}
