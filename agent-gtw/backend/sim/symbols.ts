/**
 * The sim's symbol table: static MT5 symbol properties (the SymbolInfo fields that do not move with
 * the market) plus what the quote generator needs. Values follow research/mt5-bridges.md §4.1 and
 * what retail demo servers typically publish; field names match SymbolInfo so an override reads
 * like a GET_SYMBOL_INFO reply. Not here: quotes (quotes.ts) and money maths (account/margin.ts).
 */

import type {
  CalcMode,
  ExecutionMode,
  FillingMode,
  SymbolInfo,
  SymbolOrderMode,
  SymbolTradeMode,
} from "../../../shared/protocol/index.ts";
import {
  ORDER_TIME_TYPES,
  type OrderTimeType,
  type OrderType,
} from "../../../shared/protocol/index.ts";
import type { SymbolSession } from "./sessions.ts";

/** Static properties of one symbol. */
export interface SymbolSpec {
  readonly symbol: string;
  readonly description: string;
  readonly digits: number;
  /** Smallest price change; usually one point. */
  readonly tick_size: number;
  readonly contract_size: number;
  readonly volume_min: number;
  readonly volume_max: number;
  readonly volume_step: number;
  /** Maximum total volume in one direction; 0 = no limit. */
  readonly volume_limit: number;
  /** Points. */
  readonly stops_level: number;
  /** Points. */
  readonly freeze_level: number;
  /** Filling policies the symbol's SYMBOL_FILLING_MODE flags allow for market orders. */
  readonly filling_modes: readonly FillingMode[];
  readonly execution_mode: ExecutionMode;
  readonly trade_mode: SymbolTradeMode;
  readonly calc_mode: CalcMode;
  readonly currency_base: string;
  readonly currency_profit: string;
  readonly currency_margin: string;
  /** SYMBOL_MARGIN_INITIAL rate multiplier (1 = plain formula). */
  readonly margin_rate: number;
  /** Contract size used for the hedged (covered) volume on hedging accounts. */
  readonly margin_hedged: number;
  /** Typical spread in points; the feed floats around it. */
  readonly typical_spread: number;
  /** Mid price a fresh sim starts from and drifts back towards. */
  readonly anchor_price: number;
  /** Standard deviation of one day's relative move (0.005 = 0.5 %). */
  readonly daily_volatility: number;
  readonly session: SymbolSession;
  /** SYMBOL_EXPIRATION_MODE: expiration types pending orders may use; default all four. */
  readonly expiration_modes?: readonly OrderTimeType[];
  /** SYMBOL_ORDER_MODE: the order kinds accepted; default all. */
  readonly order_modes?: readonly SymbolOrderMode[];
}

export const ALL_ORDER_MODES: readonly SymbolOrderMode[] = [
  "MARKET",
  "LIMIT",
  "STOP",
  "STOP_LIMIT",
  "SL",
  "TP",
  "CLOSE_BY",
];

export function expirationModes(spec: SymbolSpec): readonly OrderTimeType[] {
  return spec.expiration_modes ?? ORDER_TIME_TYPES;
}

export function orderModes(spec: SymbolSpec): readonly SymbolOrderMode[] {
  return spec.order_modes ?? ALL_ORDER_MODES;
}

/** A change to a default symbol (any subset of fields), or a complete new symbol. */
export type SymbolOverride = Partial<SymbolSpec> & { readonly symbol: string };

function forex(
  symbol: string,
  description: string,
  base: string,
  quote: string,
  fields: Partial<SymbolSpec> & Pick<SymbolSpec, "anchor_price" | "typical_spread">,
): SymbolSpec {
  const digits = fields.digits ?? 5;
  return {
    symbol,
    description,
    digits,
    tick_size: 10 ** -digits,
    contract_size: 100_000,
    volume_min: 0.01,
    volume_max: 500,
    volume_step: 0.01,
    volume_limit: 0,
    stops_level: 10,
    freeze_level: 5,
    filling_modes: ["FOK", "IOC"],
    execution_mode: "MARKET",
    trade_mode: "FULL",
    calc_mode: "FOREX",
    currency_base: base,
    currency_profit: quote,
    currency_margin: base,
    margin_rate: 1,
    margin_hedged: 50_000,
    daily_volatility: 0.005,
    session: "forex",
    ...fields,
  };
}

/**
 * Defaults: mostly Market execution (FOK and IOC) as on ECN-style servers; XAUUSD uses Instant
 * execution, so it is FOK-only and can requote (MT5 help "Fill Policy"); USDJPY allows IOC only,
 * which is the combination that trips EAs hard-coding FOK (research §6, 10030 threads).
 */
export const DEFAULT_SYMBOLS: readonly SymbolSpec[] = [
  forex("EURUSD", "Euro vs US Dollar", "EUR", "USD", { anchor_price: 1.1, typical_spread: 10 }),
  forex("GBPUSD", "Great Britain Pound vs US Dollar", "GBP", "USD", {
    anchor_price: 1.27,
    typical_spread: 14,
    daily_volatility: 0.006,
  }),
  forex("USDJPY", "US Dollar vs Japanese Yen", "USD", "JPY", {
    digits: 3,
    tick_size: 0.001,
    anchor_price: 150,
    typical_spread: 12,
    filling_modes: ["IOC"],
    daily_volatility: 0.006,
  }),
  {
    symbol: "XAUUSD",
    description: "Gold vs US Dollar",
    digits: 2,
    tick_size: 0.01,
    contract_size: 100,
    volume_min: 0.01,
    volume_max: 50,
    volume_step: 0.01,
    volume_limit: 100,
    stops_level: 50,
    freeze_level: 10,
    filling_modes: ["FOK"],
    execution_mode: "INSTANT",
    trade_mode: "FULL",
    calc_mode: "CFD_LEVERAGE",
    currency_base: "XAU",
    currency_profit: "USD",
    currency_margin: "USD",
    margin_rate: 1,
    margin_hedged: 50,
    typical_spread: 25,
    anchor_price: 2400,
    daily_volatility: 0.01,
    session: "forex",
  },
  {
    symbol: "US500",
    description: "US 500 Cash Index CFD",
    digits: 2,
    tick_size: 0.01,
    contract_size: 1,
    volume_min: 0.1,
    volume_max: 500,
    volume_step: 0.1,
    volume_limit: 0,
    stops_level: 100,
    freeze_level: 0,
    filling_modes: ["FOK", "IOC"],
    execution_mode: "MARKET",
    trade_mode: "FULL",
    calc_mode: "CFD_LEVERAGE",
    currency_base: "USD",
    currency_profit: "USD",
    currency_margin: "USD",
    margin_rate: 1,
    margin_hedged: 0.5,
    typical_spread: 50,
    anchor_price: 5500,
    daily_volatility: 0.01,
    session: "forex",
  },
  {
    symbol: "GER40",
    description: "Germany 40 Cash Index CFD",
    digits: 1,
    tick_size: 0.1,
    contract_size: 1,
    volume_min: 0.1,
    volume_max: 500,
    volume_step: 0.1,
    volume_limit: 0,
    stops_level: 20,
    freeze_level: 0,
    filling_modes: ["FOK", "IOC"],
    execution_mode: "MARKET",
    trade_mode: "FULL",
    calc_mode: "CFD_INDEX",
    currency_base: "EUR",
    currency_profit: "EUR",
    currency_margin: "EUR",
    margin_rate: 0.05,
    margin_hedged: 0.5,
    typical_spread: 10,
    anchor_price: 18500,
    daily_volatility: 0.01,
    session: "forex",
  },
  {
    symbol: "BTCUSD",
    description: "Bitcoin vs US Dollar CFD",
    digits: 2,
    tick_size: 0.01,
    contract_size: 1,
    volume_min: 0.01,
    volume_max: 10,
    volume_step: 0.01,
    volume_limit: 0,
    stops_level: 1000,
    freeze_level: 0,
    filling_modes: ["FOK", "IOC"],
    execution_mode: "MARKET",
    trade_mode: "FULL",
    calc_mode: "CFD",
    currency_base: "BTC",
    currency_profit: "USD",
    currency_margin: "USD",
    margin_rate: 0.5,
    margin_hedged: 0.5,
    typical_spread: 2000,
    anchor_price: 65000,
    daily_volatility: 0.03,
    session: "24x7",
  },
];

const SPEC_KEYS = Object.keys(DEFAULT_SYMBOLS[0]!) as (keyof SymbolSpec)[];

/** Defaults with overrides merged in by symbol name; unknown names must be complete specs. */
export function resolveSymbols(overrides: readonly SymbolOverride[] = []): Map<string, SymbolSpec> {
  const table = new Map<string, SymbolSpec>(DEFAULT_SYMBOLS.map((spec) => [spec.symbol, spec]));
  for (const override of overrides) {
    const base = table.get(override.symbol);
    const merged = { ...base, ...override } as Partial<SymbolSpec>;
    const missing = SPEC_KEYS.filter((key) => merged[key] === undefined);
    if (missing.length > 0) {
      throw new RangeError(
        `sim: symbol ${override.symbol} is not a default symbol and lacks ${missing.join(", ")}`,
      );
    }
    const spec = merged as SymbolSpec;
    validateSpec(spec);
    table.set(spec.symbol, spec);
  }
  return table;
}

export function validateSpec(spec: SymbolSpec): void {
  const positive: (keyof SymbolSpec)[] = [
    "tick_size",
    "contract_size",
    "volume_min",
    "volume_max",
    "volume_step",
    "anchor_price",
  ];
  for (const key of positive) {
    const value = spec[key];
    if (typeof value !== "number" || !(value > 0)) {
      throw new RangeError(`sim: symbol ${spec.symbol} ${key} must be > 0 (was ${String(value)})`);
    }
  }
  if (!Number.isInteger(spec.digits) || spec.digits < 0 || spec.digits > 8) {
    throw new RangeError(`sim: symbol ${spec.symbol} digits must be 0..8 (was ${spec.digits})`);
  }
  if (spec.volume_min > spec.volume_max) {
    throw new RangeError(`sim: symbol ${spec.symbol} volume_min exceeds volume_max`);
  }
  const unknownExpiration = spec.expiration_modes?.find((mode) => !ORDER_TIME_TYPES.includes(mode));
  const unknownOrderMode = spec.order_modes?.find((mode) => !ALL_ORDER_MODES.includes(mode));
  if (unknownExpiration !== undefined || unknownOrderMode !== undefined) {
    throw new RangeError(
      `sim: symbol ${spec.symbol} has an unknown expiration or order mode ` +
        `(${String(unknownExpiration ?? unknownOrderMode)})`,
    );
  }
}

export function pointOf(spec: SymbolSpec): number {
  return 10 ** -spec.digits;
}

/** Round to the symbol's digits; the division gives the double nearest the decimal value. */
export function roundPrice(price: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(price * scale) / scale;
}

/** How many decimals a volume step has (0.01 → 2), for rounding volume sums. */
export function stepDecimals(step: number): number {
  const text = step.toString();
  const exponent = text.indexOf("e-");
  if (exponent >= 0) return Number(text.slice(exponent + 2));
  const dot = text.indexOf(".");
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** Round a volume to its step grid, removing float dust from sums and differences. */
export function roundVolume(volume: number, step: number): number {
  const decimals = stepDecimals(step);
  const steps = Math.round(volume / step);
  return Number((steps * step).toFixed(decimals));
}

/**
 * Filling policies a market order may use: the symbol's flags, narrowed by its execution mode
 * (MT5 help "Fill Policy": Instant and Request execution accept FOK only for market orders;
 * Market execution accepts FOK and IOC, RETURN only for pending orders; Exchange accepts all).
 */
export function allowedFillings(spec: SymbolSpec): readonly FillingMode[] {
  switch (spec.execution_mode) {
    case "INSTANT":
    case "REQUEST":
      return spec.filling_modes.filter((mode) => mode === "FOK");
    case "MARKET":
      return spec.filling_modes.filter((mode) => mode !== "RETURN");
    case "EXCHANGE":
      return spec.filling_modes;
  }
}

/**
 * Filling policies a pending order may use. Stop orders become market orders when they trigger,
 * so they take the market-order set; limit and stop-limit orders may also RETURN, which MT5
 * allows for them in every execution mode (MT5 help "Fill Policy").
 */
export function pendingFillings(spec: SymbolSpec, type: OrderType): readonly FillingMode[] {
  const market = allowedFillings(spec);
  if (type === "BUY_STOP" || type === "SELL_STOP") return market;
  return market.includes("RETURN") ? market : [...market, "RETURN"];
}

/**
 * The filling mode the request carries. The Backend interface has no filling field, so the sim
 * does what the EA does (research §3.2 step 5): FOK if the flags allow it, else IOC, else RETURN.
 * A forced mode (tests, or reproducing a hard-coding client) replaces that choice.
 */
export function requestFilling(spec: SymbolSpec, forced: FillingMode | undefined): FillingMode {
  if (forced !== undefined) return forced;
  if (spec.filling_modes.includes("FOK")) return "FOK";
  if (spec.filling_modes.includes("IOC")) return "IOC";
  return "RETURN";
}

/** The static half of a SymbolInfo reply. */
export function staticInfo(
  spec: SymbolSpec,
): Omit<
  SymbolInfo,
  "tick_value" | "bid" | "ask" | "quote_time" | "spread" | "session_open" | "point"
> {
  return {
    symbol: spec.symbol,
    description: spec.description,
    digits: spec.digits,
    tick_size: spec.tick_size,
    contract_size: spec.contract_size,
    volume_min: spec.volume_min,
    volume_max: spec.volume_max,
    volume_step: spec.volume_step,
    volume_limit: spec.volume_limit,
    stops_level: spec.stops_level,
    freeze_level: spec.freeze_level,
    filling_modes: spec.filling_modes,
    execution_mode: spec.execution_mode,
    trade_mode: spec.trade_mode,
    calc_mode: spec.calc_mode,
    currency_base: spec.currency_base,
    currency_profit: spec.currency_profit,
    currency_margin: spec.currency_margin,
    margin_hedged: spec.margin_hedged,
    expiration_modes: expirationModes(spec),
    order_modes: orderModes(spec),
  };
}
