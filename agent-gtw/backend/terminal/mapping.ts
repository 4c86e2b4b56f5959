/**
 * EA replies → the shared MT5 types (docs/EA-LINK.md §7, §13, §14): int/name enums through one
 * table, broker-server milliseconds → Unix milliseconds (§5), sl/tp 0 → null, deal reasons and
 * entries narrowed to our unions. A value our types cannot represent (e.g. an exchange-stock
 * calc mode) throws UnsupportedValueError: the EA did nothing wrong, so the link stays up.
 */

import type {
  AccountInfo,
  CalcMode,
  Deal,
  DealEntry,
  DealReason,
  ExecutionMode,
  FillingMode,
  MarginMode,
  OrderTimeType,
  Position,
  Side,
  SymbolInfo,
  SymbolOrderMode,
  SymbolTradeMode,
} from "../../../shared/protocol/index.ts";
import { MAX_SERVER_OFFSET_MS } from "../../../shared/protocol/index.ts";
import { LinkProtocolError, type WireFields } from "./wire-fields.ts";

/** MT5 magic is a ulong; JSON numbers are exact only below 2^53. */
export const MAX_EXACT_MAGIC = Number.MAX_SAFE_INTEGER;

/** A well-formed EA value that the gateway's types have no member for. */
export class UnsupportedValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedValueError";
  }
}

interface EnumEntry<T> {
  /** The MQL5 identifier the EA sends in `*_name` (EnumToString). */
  readonly name: string;
  /** The int (§13, from the MetaTrader5 Python package). */
  readonly code: number;
  /** Our string union member; undefined when the protocol has none. */
  readonly value: T | undefined;
}

/**
 * The one enum table (§13). §7.4 says map by name; the int is the fallback when a name is
 * missing. Members without a `value` are real MT5 modes our SymbolInfo cannot express.
 */
export const ENUM_TABLE = {
  execution_mode: [
    { name: "SYMBOL_TRADE_EXECUTION_REQUEST", code: 0, value: "REQUEST" },
    { name: "SYMBOL_TRADE_EXECUTION_INSTANT", code: 1, value: "INSTANT" },
    { name: "SYMBOL_TRADE_EXECUTION_MARKET", code: 2, value: "MARKET" },
    { name: "SYMBOL_TRADE_EXECUTION_EXCHANGE", code: 3, value: "EXCHANGE" },
  ] as const satisfies readonly EnumEntry<ExecutionMode>[],
  trade_mode: [
    { name: "SYMBOL_TRADE_MODE_DISABLED", code: 0, value: "DISABLED" },
    { name: "SYMBOL_TRADE_MODE_LONGONLY", code: 1, value: "LONG_ONLY" },
    { name: "SYMBOL_TRADE_MODE_SHORTONLY", code: 2, value: "SHORT_ONLY" },
    { name: "SYMBOL_TRADE_MODE_CLOSEONLY", code: 3, value: "CLOSE_ONLY" },
    { name: "SYMBOL_TRADE_MODE_FULL", code: 4, value: "FULL" },
  ] as const satisfies readonly EnumEntry<SymbolTradeMode>[],
  calc_mode: [
    { name: "SYMBOL_CALC_MODE_FOREX", code: 0, value: "FOREX" },
    { name: "SYMBOL_CALC_MODE_FUTURES", code: 1, value: undefined },
    { name: "SYMBOL_CALC_MODE_CFD", code: 2, value: "CFD" },
    { name: "SYMBOL_CALC_MODE_CFDINDEX", code: 3, value: "CFD_INDEX" },
    { name: "SYMBOL_CALC_MODE_CFDLEVERAGE", code: 4, value: "CFD_LEVERAGE" },
    { name: "SYMBOL_CALC_MODE_FOREX_NO_LEVERAGE", code: 5, value: "FOREX_NO_LEVERAGE" },
    { name: "SYMBOL_CALC_MODE_EXCH_STOCKS", code: 32, value: undefined },
    { name: "SYMBOL_CALC_MODE_EXCH_FUTURES", code: 33, value: undefined },
    { name: "SYMBOL_CALC_MODE_EXCH_OPTIONS", code: 34, value: undefined },
    { name: "SYMBOL_CALC_MODE_EXCH_OPTIONS_MARGIN", code: 36, value: undefined },
    { name: "SYMBOL_CALC_MODE_EXCH_BONDS", code: 37, value: undefined },
    { name: "SYMBOL_CALC_MODE_EXCH_STOCKS_MOEX", code: 38, value: undefined },
    { name: "SYMBOL_CALC_MODE_EXCH_BONDS_MOEX", code: 39, value: undefined },
    { name: "SYMBOL_CALC_MODE_SERV_COLLATERAL", code: 64, value: undefined },
  ] as const satisfies readonly EnumEntry<CalcMode>[],
};

type EnumField = keyof typeof ENUM_TABLE;
type EnumValue<F extends EnumField> = NonNullable<(typeof ENUM_TABLE)[F][number]["value"]>;

/** `SYMBOL_FILLING_*` flags (§7.4, §13). */
export const FillingFlag = { FOK: 1, IOC: 2, BOC: 4 } as const;

/** `SYMBOL_ORDER_MODE` flags (§7.4, §13): which order types and levels the symbol allows. */
export const OrderModeFlag = {
  MARKET: 1,
  LIMIT: 2,
  STOP: 4,
  STOP_LIMIT: 8,
  SL: 16,
  TP: 32,
  CLOSE_BY: 64,
} as const;

/** `SYMBOL_EXPIRATION_MODE` flags (§7.4, §13): the lifetimes pending orders may have. */
export const ExpirationFlag = { GTC: 1, DAY: 2, SPECIFIED: 4, SPECIFIED_DAY: 8 } as const;

/** The names of the set flags, in the table's order; bits this gateway does not know are left out. */
export function flagNames<K extends string>(
  flags: number,
  table: Readonly<Record<K, number>>,
): K[] {
  if (!Number.isSafeInteger(flags) || flags < 0) {
    throw new LinkProtocolError(`terminal: flags must be a non-negative integer (was ${flags})`);
  }
  return (Object.keys(table) as K[]).filter((name) => (flags & table[name]) !== 0);
}

export function enumValue<F extends EnumField>(field: F, fields: WireFields): EnumValue<F> {
  const table: readonly EnumEntry<string>[] = ENUM_TABLE[field];
  const name = fields.optionalString(`${field}_name`);
  const code = fields.integer(field);
  const entry =
    (name === undefined ? undefined : table.find((candidate) => candidate.name === name)) ??
    table.find((candidate) => candidate.code === code);
  if (entry === undefined) {
    throw new UnsupportedValueError(
      `terminal: unknown ${field} ${name ?? ""} (${code}); a newer MT5 build than this gateway knows`,
    );
  }
  if (entry.value === undefined) {
    throw new UnsupportedValueError(
      `terminal: ${field} ${entry.name} is not supported by the gateway's protocol`,
    );
  }
  return entry.value as EnumValue<F>;
}

/**
 * Filling policies for market orders (§10.2, §14), after the MQL5 reference's
 * ENUM_ORDER_TYPE_FILLING: FOK when the flag is set or execution is Instant or Request (they
 * take FOK whatever the flags say), IOC when its flag is set, RETURN on Market and Exchange
 * execution. (The terminal's help allows RETURN for market orders on Exchange execution only;
 * docs/MT5-SETUP.md §10 asks the first demo run to settle it.)
 */
export function fillingModes(flags: number, execution: ExecutionMode): FillingMode[] {
  const modes: FillingMode[] = [];
  if ((flags & FillingFlag.FOK) !== 0 || execution === "INSTANT" || execution === "REQUEST") {
    modes.push("FOK");
  }
  if ((flags & FillingFlag.IOC) !== 0) modes.push("IOC");
  if (execution === "MARKET" || execution === "EXCHANGE") modes.push("RETURN");
  return modes;
}

/** GET_SYMBOL_INFO fields beyond SymbolInfo: what the EA checks and sends for this symbol. */
export interface EaSymbolExtras {
  /** `SYMBOL_ORDER_MODE` flags (OrderModeFlag). */
  readonly order_mode: number;
  /** The filling the EA puts on this symbol's OPEN and CLOSE (§10.2). */
  readonly filling: FillingMode;
}

export function toSymbolExtras(fields: WireFields): EaSymbolExtras {
  const filling = fields.string("filling");
  if (filling !== "FOK" && filling !== "IOC" && filling !== "RETURN") {
    throw new LinkProtocolError(`terminal: filling must be FOK, IOC or RETURN (was ${filling})`);
  }
  const orderMode = fields.integer("order_mode");
  if (orderMode < 0) throw new LinkProtocolError(`terminal: order_mode was ${orderMode}`);
  return { order_mode: orderMode, filling };
}

/**
 * A magic number (§4): the EA writes the ulong exactly, but one at or above 2^53 (another EA's)
 * cannot be a JSON number here. That item keeps its other fields and reports MAX_EXACT_MAGIC
 * rather than closing the link (reconciliation matches the comment tag as well as the magic).
 */
export function magic(fields: WireFields, key = "magic"): number {
  if (fields.has(key) && fields.unsafeInteger(key)) return MAX_EXACT_MAGIC;
  const value = fields.integer(key);
  if (value < 0) throw new LinkProtocolError(`terminal: ${key} was ${value}`);
  return value;
}

/** §5: the offset comes from two local clock readings, so it is rounded to 15 minutes. */
export const OFFSET_ROUNDING_S = 900;
/** Broker offsets run from UTC−12 to UTC+14. */
const MAX_OFFSET_S = MAX_SERVER_OFFSET_MS / 1000;

export function roundOffsetSeconds(gmtOffsetS: number): number {
  const rounded = Math.round(gmtOffsetS / OFFSET_ROUNDING_S) * OFFSET_ROUNDING_S;
  if (Math.abs(rounded) > MAX_OFFSET_S) {
    throw new LinkProtocolError(`terminal: gmt_offset_s was ${gmtOffsetS}, beyond ±14 h`);
  }
  return rounded === 0 ? 0 : rounded;
}

/** Converts between broker-server ms and Unix ms with one (rounded) offset (§5). */
export class ServerTime {
  readonly offsetMs: number;

  constructor(gmtOffsetS: number) {
    this.offsetMs = roundOffsetSeconds(gmtOffsetS) * 1000;
  }

  /** 0 means "none" in MT5 (no quote yet) and stays 0. */
  toUnix(serverMs: number): number {
    return serverMs === 0 ? 0 : serverMs - this.offsetMs;
  }

  toServer(unixMs: number): number {
    return unixMs + this.offsetMs;
  }
}

function side(fields: WireFields, key = "side"): Side {
  const value = fields.string(key);
  if (value !== "BUY" && value !== "SELL") {
    throw new LinkProtocolError(`terminal: ${key} must be BUY or SELL (was ${value})`);
  }
  return value;
}

function marginMode(fields: WireFields): MarginMode {
  const value = fields.string("margin_mode");
  if (value !== "HEDGING" && value !== "NETTING") {
    throw new LinkProtocolError(`terminal: margin_mode must be HEDGING or NETTING (was ${value})`);
  }
  return value;
}

/** MT5 uses 0 for "no level"; our types use null. */
function level(fields: WireFields, key: "sl" | "tp"): number | null {
  const value = fields.number(key);
  return value === 0 ? null : value;
}

export function toSymbolInfo(fields: WireFields, time: ServerTime): SymbolInfo {
  const execution = enumValue("execution_mode", fields);
  return {
    symbol: fields.string("symbol"),
    description: fields.string("description"),
    digits: fields.integer("digits"),
    point: fields.number("point"),
    tick_size: fields.number("tick_size"),
    tick_value: fields.number("tick_value"),
    contract_size: fields.number("contract_size"),
    volume_min: fields.number("volume_min"),
    volume_max: fields.number("volume_max"),
    volume_step: fields.number("volume_step"),
    volume_limit: fields.number("volume_limit"),
    stops_level: fields.integer("stops_level"),
    freeze_level: fields.integer("freeze_level"),
    filling_modes: fillingModes(fields.integer("filling_mode"), execution),
    // An EA before 2.1.0 does not report SYMBOL_EXPIRATION_MODE: the modes are then unknown
    ...(fields.has("expiration_mode")
      ? {
          expiration_modes: flagNames<OrderTimeType>(
            fields.integer("expiration_mode"),
            ExpirationFlag,
          ),
        }
      : {}),
    order_modes: flagNames<SymbolOrderMode>(fields.integer("order_mode"), OrderModeFlag),
    execution_mode: execution,
    trade_mode: enumValue("trade_mode", fields),
    calc_mode: enumValue("calc_mode", fields),
    currency_base: fields.string("currency_base"),
    currency_profit: fields.string("currency_profit"),
    currency_margin: fields.string("currency_margin"),
    margin_hedged: fields.number("margin_hedged"),
    bid: fields.number("bid"),
    ask: fields.number("ask"),
    quote_time: time.toUnix(fields.integer("quote_time")),
    spread: fields.integer("spread"),
    session_open: fields.boolean("session_open"),
  };
}

export type AccountTradeMode = "DEMO" | "CONTEST" | "REAL";

/** `ACCOUNT_TRADE_MODE` as the EA names it (HELLO §6.2, GET_ACCOUNT §7.2). */
export function accountTradeMode(fields: WireFields): AccountTradeMode {
  const value = fields.string("account_trade_mode");
  if (value !== "DEMO" && value !== "CONTEST" && value !== "REAL") {
    throw new LinkProtocolError(`terminal: account_trade_mode was ${value}`);
  }
  return value;
}

/** GET_ACCOUNT with what AccountInfo has no field for (the selftest needs the trade mode). */
export interface AccountDetails {
  readonly account: AccountInfo;
  readonly account_trade_mode: AccountTradeMode;
  readonly trade_expert: boolean;
}

export function toAccountDetails(fields: WireFields): AccountDetails {
  return {
    account: toAccountInfo(fields),
    account_trade_mode: accountTradeMode(fields),
    trade_expert: fields.boolean("trade_expert"),
  };
}

export function toAccountInfo(fields: WireFields): AccountInfo {
  return {
    login: fields.integer("login"),
    server: fields.string("server"),
    name: fields.string("name"),
    currency: fields.string("currency"),
    balance: fields.number("balance"),
    equity: fields.number("equity"),
    profit: fields.number("profit"),
    margin: fields.number("margin"),
    margin_free: fields.number("margin_free"),
    margin_level: fields.number("margin_level"),
    leverage: fields.integer("leverage"),
    margin_mode: marginMode(fields),
    trade_allowed: fields.boolean("trade_allowed"),
    margin_so_call: fields.number("margin_so_call"),
    margin_so_so: fields.number("margin_so_so"),
  };
}

export function toPosition(fields: WireFields, time: ServerTime): Position {
  return {
    ticket: fields.integer("ticket"),
    symbol: fields.string("symbol"),
    side: side(fields),
    volume: fields.number("volume"),
    price_open: fields.number("price_open"),
    price_current: fields.number("price_current"),
    sl: level(fields, "sl"),
    tp: level(fields, "tp"),
    profit: fields.number("profit"),
    swap: fields.number("swap"),
    magic: magic(fields),
    comment: fields.string("comment"),
    time: time.toUnix(fields.integer("time")),
    time_update: time.toUnix(fields.integer("time_update")),
  };
}

/** §14: OUT_BY (close-by) counts as OUT. */
export function dealEntry(raw: string): DealEntry {
  if (raw === "IN" || raw === "OUT" || raw === "INOUT") return raw;
  if (raw === "OUT_BY") return "OUT";
  throw new LinkProtocolError(`terminal: deal entry must be IN, OUT, INOUT or OUT_BY (was ${raw})`);
}

const CLIENT_REASONS: ReadonlySet<string> = new Set(["CLIENT", "MOBILE", "WEB"]);

/**
 * §14: SL, TP, SO and EXPERT as they are; CLIENT, MOBILE and WEB are a person; anything else
 * (ROLLOVER, VMARGIN, SPLIT, newer names) is reported as CLIENT, and `known` tells the caller
 * to log the raw name.
 */
export function dealReason(raw: string): { reason: DealReason; known: boolean } {
  if (raw === "SL" || raw === "TP" || raw === "SO" || raw === "EXPERT") {
    return { reason: raw, known: true };
  }
  return { reason: "CLIENT", known: CLIENT_REASONS.has(raw) };
}

export interface MappedDeal {
  readonly deal: Deal;
  /** The EA's reason name when it is not one §14 names (for the log). */
  readonly unknownReason: string | undefined;
}

export function toDeal(fields: WireFields, time: ServerTime): MappedDeal {
  const rawReason = fields.string("reason");
  const { reason, known } = dealReason(rawReason);
  return {
    deal: {
      ticket: fields.integer("ticket"),
      order: fields.integer("order"),
      position: fields.integer("position"),
      symbol: fields.string("symbol"),
      side: side(fields),
      entry: dealEntry(fields.string("entry")),
      reason,
      volume: fields.number("volume"),
      price: fields.number("price"),
      profit: fields.number("profit"),
      commission: fields.number("commission"),
      swap: fields.number("swap"),
      magic: magic(fields),
      comment: fields.string("comment"),
      time: time.toUnix(fields.integer("time")),
    },
    unknownReason: known ? undefined : rawReason,
  };
}
