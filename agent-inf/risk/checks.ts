/**
 * The OPEN check table: small pure functions `(ctx) => Denial | undefined`, run in the fixed order
 * of OPEN_GATE_CHECKS then OPEN_ORDER_CHECKS; the first denial wins (house-style §11). The gate
 * needs nothing but the intent and the state; the order checks run only once the symbol is known,
 * which lets their context promise a SymbolInfo.
 *
 * Order: intent shape → trading state → breaker → symbol allow-list → symbol known → symbol info
 * and quote usable → Kelly sizing → volume (min, symbol max, step, configured max) → notional →
 * SL required → SL/TP placement → money at risk → positions (total, per symbol) → rate (second,
 * minute) → daily loss → drawdown → spread → quote age → session → symbol trade mode.
 *
 * CLOSE and MODIFY have their own tables in position-checks.ts; a pending order (PLACE) runs this
 * table from its own price (pending-checks.ts).
 */
import type { AccountInfo, SymbolInfo, TradingState } from "../../shared/protocol/index.ts";
import { type Denial, DenialCode, deny } from "./denial.ts";
import type { EquitySnapshot } from "./equity-tracker.ts";
import type { ExposureCount } from "./exposure-ledger.ts";
import {
  exceeds,
  fallsShort,
  isOnStep,
  lossPerLot,
  notionalInDeposit,
  type StopKind,
  spreadPoints,
  stopProblem,
} from "./money.ts";
import type { OpenIntent, RiskLimits } from "./types.ts";

export type Check<Context> = (ctx: Context) => Denial | undefined;

/** What the gate checks see: the intent and the switches that can refuse anything. */
export interface OpenGateContext {
  readonly intent: OpenIntent;
  readonly limits: RiskLimits;
  readonly tradingState: TradingState;
  readonly tradingStateReason: string;
  /** From the circuit breaker (passed as a flag so risk/ never imports the breaker). */
  readonly breakerEngaged: boolean;
  readonly symbol: SymbolInfo | undefined;
}

/**
 * What the checks of an order's terms read (volume, price, stops): OPEN, PLACE, and MODIFY_ORDER
 * with the order's terms after the change.
 */
export interface TermsContext {
  readonly intent: Pick<OpenIntent, "side" | "sl" | "tp">;
  readonly limits: RiskLimits;
  readonly symbol: SymbolInfo;
  readonly account: AccountInfo;
  /** Lots to check: Kelly-sized when Kelly sized the order, else the requested volume. */
  readonly volume: number;
  /**
   * The price the position would open at: the market's (ask for a BUY, bid for a SELL) for an
   * OPEN, the order's own for a pending order. Notional, money at risk and Kelly use it.
   */
  readonly entry: number;
  /** false for a pending order: its SL and TP are measured from `entry`, not from the quote. */
  readonly atMarket: boolean;
}

/** Everything the order checks need, gathered once by the risk monitor. */
export interface OpenRiskContext extends OpenGateContext, TermsContext {
  readonly intent: OpenIntent;
  readonly symbol: SymbolInfo;
  readonly account: AccountInfo;
  /**
   * Positions (and pending orders) counted against the position limits: the snapshot's plus the
   * orders that passed these checks and are not in the snapshot yet (exposure-ledger.ts).
   */
  readonly exposure: ExposureCount;
  /** Why Kelly sizing failed; reported in the sizing step's place in the order. */
  readonly sizingDenial: Denial | undefined;
  readonly ordersLastSecond: number;
  readonly ordersLastMinute: number;
  readonly equity: EquitySnapshot;
  /** Age of symbol.quote_time, ms, corrected by the gateway clock offset. */
  readonly quoteAgeMs: number;
}

/** Run `checks` in order; the first denial wins. */
export function firstDenial<Context>(
  checks: readonly Check<Context>[],
  ctx: Context,
): Denial | undefined {
  for (const check of checks) {
    const denial = check(ctx);
    if (denial !== undefined) return denial;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Gate

/** An SL or TP: a positive price, null (none) or absent. */
export const isPrice = (value: number | null | undefined) =>
  value === undefined || value === null || (Number.isFinite(value) && value > 0);

export const checkOpenIntent: Check<OpenGateContext> = ({ intent }) => {
  const invalid = (field: string, problem: string) =>
    deny(DenialCode.INVALID_INTENT, `${field} ${problem}`, { field });
  if (typeof intent.symbol !== "string" || intent.symbol === "") {
    return invalid("symbol", "must be a non-empty string");
  }
  if (intent.side !== "BUY" && intent.side !== "SELL")
    return invalid("side", "must be BUY or SELL");
  if (!(Number.isFinite(intent.volume) && intent.volume > 0)) {
    return invalid("volume", "must be a positive number");
  }
  if (!isPrice(intent.sl)) return invalid("sl", "must be a positive price or null");
  if (!isPrice(intent.tp)) return invalid("tp", "must be a positive price or null");
  const edge = intent.edge;
  if (edge !== undefined) {
    if (!(edge.winProbability >= 0 && edge.winProbability <= 1)) {
      return invalid("edge.winProbability", "must be in [0, 1]");
    }
    if (!(Number.isFinite(edge.payoffRatio) && edge.payoffRatio > 0)) {
      return invalid("edge.payoffRatio", "must be a positive number");
    }
  }
  return undefined;
};

/** HALTED refuses everything; REDUCING refuses every OPEN (closes go through CLOSE). */
export const checkOpenTradingState: Check<OpenGateContext> = (ctx) => {
  if (ctx.tradingState === "HALTED") {
    return deny(DenialCode.TRADING_HALTED, "trading is halted", {
      state: ctx.tradingState,
      reason: ctx.tradingStateReason,
    });
  }
  if (ctx.tradingState === "REDUCING") {
    return deny(DenialCode.REDUCING_ONLY, "only closes and risk-reducing modifies are allowed", {
      state: ctx.tradingState,
      reason: ctx.tradingStateReason,
    });
  }
  return undefined;
};

export const checkBreaker: Check<OpenGateContext> = (ctx) =>
  ctx.breakerEngaged
    ? deny(DenialCode.BREAKER_OPEN, "circuit breaker is engaged; no new positions")
    : undefined;

export const checkSymbolAllowed: Check<OpenGateContext> = ({ intent, limits }) =>
  limits.allowedSymbols.includes(intent.symbol)
    ? undefined
    : deny(DenialCode.SYMBOL_NOT_ALLOWED, "symbol is not on the allow-list", {
        symbol: intent.symbol,
      });

export const checkSymbolKnown: Check<OpenGateContext> = ({ intent, symbol }) =>
  symbol !== undefined && symbol.symbol === intent.symbol
    ? undefined
    : deny(DenialCode.UNKNOWN_SYMBOL, "no symbol info for the symbol", { symbol: intent.symbol });

export const OPEN_GATE_CHECKS: readonly Check<OpenGateContext>[] = [
  checkOpenIntent,
  checkOpenTradingState,
  checkBreaker,
  checkSymbolAllowed,
  checkSymbolKnown,
];

// ---------------------------------------------------------------------------------------------
// Symbol and quote (shared with MODIFY)

/** The fields every calculation divides by or compares with must be usable. */
export const checkSymbolInfo: Check<{ readonly symbol: SymbolInfo }> = ({ symbol }) => {
  const fields = {
    point: symbol.point,
    tick_size: symbol.tick_size,
    tick_value: symbol.tick_value,
    contract_size: symbol.contract_size,
    volume_step: symbol.volume_step,
    volume_min: symbol.volume_min,
    volume_max: symbol.volume_max,
  };
  for (const [field, value] of Object.entries(fields)) {
    if (!(Number.isFinite(value) && value > 0)) {
      return deny(DenialCode.INVALID_SYMBOL_INFO, "symbol info field is not a positive number", {
        symbol: symbol.symbol,
        field,
      });
    }
  }
  return undefined;
};

export const checkQuote: Check<{ readonly symbol: SymbolInfo }> = ({ symbol }) =>
  Number.isFinite(symbol.bid) &&
  Number.isFinite(symbol.ask) &&
  symbol.bid > 0 &&
  symbol.ask >= symbol.bid
    ? undefined
    : deny(DenialCode.NO_QUOTE, "symbol has no usable bid/ask", {
        symbol: symbol.symbol,
        bid: symbol.bid,
        ask: symbol.ask,
      });

// ---------------------------------------------------------------------------------------------
// Sizing and volume

export const checkSizing: Check<OpenRiskContext> = ({ sizingDenial }) => sizingDenial;

export const checkVolumeMin: Check<OpenRiskContext> = ({ volume, symbol }) =>
  fallsShort(volume, symbol.volume_min)
    ? deny(DenialCode.VOLUME_BELOW_MIN, "volume is below the symbol minimum", {
        volume,
        volume_min: symbol.volume_min,
      })
    : undefined;

export const checkVolumeSymbolMax: Check<OpenRiskContext> = ({ volume, symbol }) =>
  exceeds(volume, symbol.volume_max)
    ? deny(DenialCode.VOLUME_ABOVE_SYMBOL_MAX, "volume is above the symbol maximum", {
        volume,
        volume_max: symbol.volume_max,
      })
    : undefined;

export const checkVolumeStep: Check<OpenRiskContext> = ({ volume, symbol }) =>
  isOnStep(volume, symbol.volume_step)
    ? undefined
    : deny(DenialCode.VOLUME_STEP, "volume is not a multiple of the volume step", {
        volume,
        volume_step: symbol.volume_step,
      });

export const checkVolumeMax: Check<OpenRiskContext> = ({ volume, limits }) =>
  exceeds(volume, limits.maxLots)
    ? deny(DenialCode.VOLUME_ABOVE_MAX, "volume is above the configured maximum", {
        volume,
        max_lots: limits.maxLots,
      })
    : undefined;

export const checkNotional: Check<TermsContext> = ({ volume, symbol, entry, limits }) => {
  if (limits.maxNotional === null) return undefined;
  const notional = notionalInDeposit(symbol, volume, entry);
  return exceeds(notional, limits.maxNotional)
    ? deny(DenialCode.NOTIONAL_ABOVE_MAX, "notional is above the configured maximum", {
        notional,
        max_notional: limits.maxNotional,
      })
    : undefined;
};

// ---------------------------------------------------------------------------------------------
// Stops and money at risk

export const checkStopLossRequired: Check<TermsContext> = ({ intent, limits }) =>
  limits.requireStopLoss && (intent.sl === undefined || intent.sl === null)
    ? deny(DenialCode.SL_REQUIRED, "a stop-loss is required")
    : undefined;

/**
 * SL/TP placement for a position of `side` on `symbol`; shared with MODIFY. With `from`, for a
 * pending order, measured from the price it opens at instead of the quote (as MT5 does).
 */
export function stopPlacementDenial(
  symbol: SymbolInfo,
  side: OpenIntent["side"],
  kind: StopKind,
  price: number | null | undefined,
  from?: number,
): Denial | undefined {
  if (price === undefined || price === null) return undefined;
  const at = from === undefined ? symbol : { ...symbol, bid: from, ask: from };
  const found = stopProblem(at, side, kind, price);
  if (found === undefined) return undefined;
  const name = kind.toLowerCase();
  const reference = from !== undefined ? "order_price" : side === "BUY" ? "bid" : "ask";
  if (found.problem === "WRONG_SIDE") {
    const code = kind === "SL" ? DenialCode.SL_WRONG_SIDE : DenialCode.TP_WRONG_SIDE;
    return deny(code, `${name} is on the wrong side of the ${reference.replace("_", " ")}`, {
      side,
      [name]: price,
      [reference]: found.reference,
    });
  }
  const code = kind === "SL" ? DenialCode.SL_TOO_CLOSE : DenialCode.TP_TOO_CLOSE;
  return deny(code, `${name} is inside the stops level`, {
    side,
    [name]: price,
    [reference]: found.reference,
    distance_points: found.distancePoints,
    stops_level: found.stopsLevel,
  });
}

export const checkStopLossPlacement: Check<TermsContext> = (ctx) =>
  stopPlacementDenial(ctx.symbol, ctx.intent.side, "SL", ctx.intent.sl, stopsFrom(ctx));

export const checkTakeProfitPlacement: Check<TermsContext> = (ctx) =>
  stopPlacementDenial(ctx.symbol, ctx.intent.side, "TP", ctx.intent.tp, stopsFrom(ctx));

const stopsFrom = (ctx: TermsContext) => (ctx.atMarket ? undefined : ctx.entry);

/** Money lost if the SL is hit (from `from`, for `volume` lots) against max % of equity. */
export function riskDenial(
  limits: RiskLimits,
  symbol: SymbolInfo,
  equity: number,
  from: number,
  sl: number,
  volume: number,
): Denial | undefined {
  if (limits.maxRiskPercent === null) return undefined;
  const risk = lossPerLot(symbol, from, sl) * volume;
  const maxRisk = (equity * limits.maxRiskPercent) / 100;
  return exceeds(risk, maxRisk)
    ? deny(DenialCode.RISK_ABOVE_MAX, "money at risk to the stop-loss is above the maximum", {
        risk,
        max_risk: maxRisk,
        max_risk_percent: limits.maxRiskPercent,
        equity,
      })
    : undefined;
}

/** Without an SL the risk is unbounded; SL_REQUIRED is the switch for that, not this check. */
export const checkRiskToStop: Check<TermsContext> = (ctx) => {
  const sl = ctx.intent.sl;
  if (sl === undefined || sl === null) return undefined;
  return riskDenial(ctx.limits, ctx.symbol, ctx.account.equity, ctx.entry, sl, ctx.volume);
};

// ---------------------------------------------------------------------------------------------
// Exposure and rate

/**
 * Counts every position on the account, every pending order the snapshot has, and every order
 * that passed and is still in flight or unknown; an OPEN is assumed to add one (conservative on
 * netting).
 */
export const checkMaxPositions: Check<OpenRiskContext> = ({ exposure, limits }) =>
  limits.maxPositions !== null && exposure.total >= limits.maxPositions
    ? deny(DenialCode.MAX_POSITIONS, "open positions are at the maximum", {
        positions: exposure.total,
        in_flight: exposure.reserved,
        max_positions: limits.maxPositions,
      })
    : undefined;

export const checkMaxPositionsPerSymbol: Check<OpenRiskContext> = ({
  exposure,
  limits,
  intent,
}) => {
  if (limits.maxPositionsPerSymbol === null) return undefined;
  const { total, reserved } = exposure.onSymbol(intent.symbol);
  return total >= limits.maxPositionsPerSymbol
    ? deny(DenialCode.MAX_POSITIONS_PER_SYMBOL, "open positions on the symbol are at the maximum", {
        symbol: intent.symbol,
        positions: total,
        in_flight: reserved,
        max_positions_per_symbol: limits.maxPositionsPerSymbol,
      })
    : undefined;
};

export const checkRatePerSecond: Check<OpenRiskContext> = ({ ordersLastSecond, limits }) =>
  limits.maxOrdersPerSecond !== null && ordersLastSecond >= limits.maxOrdersPerSecond
    ? deny(DenialCode.RATE_LIMIT_PER_SECOND, "orders in the last second are at the maximum", {
        orders: ordersLastSecond,
        max_orders_per_second: limits.maxOrdersPerSecond,
      })
    : undefined;

export const checkRatePerMinute: Check<OpenRiskContext> = ({ ordersLastMinute, limits }) =>
  limits.maxOrdersPerMinute !== null && ordersLastMinute >= limits.maxOrdersPerMinute
    ? deny(DenialCode.RATE_LIMIT_PER_MINUTE, "orders in the last minute are at the maximum", {
        orders: ordersLastMinute,
        max_orders_per_minute: limits.maxOrdersPerMinute,
      })
    : undefined;

// ---------------------------------------------------------------------------------------------
// Loss limits (also drive the trading state; see risk-monitor.ts)

/** Daily loss above the money or the percent limit; exactly at a limit passes. */
export function dailyLossDenial(limits: RiskLimits, equity: EquitySnapshot): Denial | undefined {
  const { money, percent } = limits.dailyLossLimit;
  const overMoney = money !== null && exceeds(equity.dailyLoss, money);
  const overPercent = percent !== null && exceeds(equity.dailyLossPercent, percent);
  if (!overMoney && !overPercent) return undefined;
  return deny(DenialCode.DAILY_LOSS_LIMIT, "daily loss is above the limit", {
    day: equity.day,
    daily_loss: equity.dailyLoss,
    daily_loss_percent: equity.dailyLossPercent,
    day_start_equity: equity.dayStartEquity,
    equity: equity.equity,
    ...(money === null ? {} : { max_daily_loss: money }),
    ...(percent === null ? {} : { max_daily_loss_percent: percent }),
  });
}

export function drawdownDenial(limits: RiskLimits, equity: EquitySnapshot): Denial | undefined {
  const max = limits.maxDrawdownPercent;
  if (max === null || !exceeds(equity.drawdownPercent, max)) return undefined;
  return deny(
    DenialCode.MAX_DRAWDOWN,
    "drawdown from the equity high-water mark is above the limit",
    {
      drawdown_percent: equity.drawdownPercent,
      max_drawdown_percent: max,
      high_water_mark: equity.highWaterMark,
      equity: equity.equity,
    },
  );
}

export const checkDailyLoss: Check<OpenRiskContext> = (ctx) =>
  dailyLossDenial(ctx.limits, ctx.equity);

export const checkDrawdown: Check<OpenRiskContext> = (ctx) =>
  drawdownDenial(ctx.limits, ctx.equity);

// ---------------------------------------------------------------------------------------------
// Quote and session

export const checkSpread: Check<OpenRiskContext> = ({ symbol, limits }) => {
  if (limits.maxSpreadPoints === null) return undefined;
  const spread = spreadPoints(symbol);
  return spread > limits.maxSpreadPoints
    ? deny(DenialCode.SPREAD_TOO_WIDE, "spread is above the cap", {
        spread_points: spread,
        max_spread_points: limits.maxSpreadPoints,
      })
    : undefined;
};

export const checkQuoteAge: Check<OpenRiskContext> = ({ quoteAgeMs, limits, symbol }) =>
  limits.maxQuoteAgeMs !== null && quoteAgeMs > limits.maxQuoteAgeMs
    ? deny(DenialCode.STALE_QUOTE, "quote is older than the maximum age", {
        symbol: symbol.symbol,
        quote_age_ms: quoteAgeMs,
        max_quote_age_ms: limits.maxQuoteAgeMs,
      })
    : undefined;

export const checkSession: Check<OpenRiskContext> = ({ symbol }) =>
  symbol.session_open
    ? undefined
    : deny(DenialCode.MARKET_CLOSED, "the symbol's trading session is closed", {
        symbol: symbol.symbol,
      });

/** The symbol's trade_mode must allow opening on this side (MT5 10017, 10042–10044). */
export const checkTradeMode: Check<OpenRiskContext> = ({ symbol, intent }) => {
  const mode = symbol.trade_mode;
  const allowed =
    mode === "FULL" ||
    (mode === "LONG_ONLY" && intent.side === "BUY") ||
    (mode === "SHORT_ONLY" && intent.side === "SELL");
  return allowed
    ? undefined
    : deny(DenialCode.SIDE_NOT_ALLOWED, "the symbol's trade mode does not allow this side", {
        symbol: symbol.symbol,
        side: intent.side,
        trade_mode: mode,
      });
};

export const OPEN_ORDER_CHECKS: readonly Check<OpenRiskContext>[] = [
  checkSymbolInfo,
  checkQuote,
  checkSizing,
  checkVolumeMin,
  checkVolumeSymbolMax,
  checkVolumeStep,
  checkVolumeMax,
  checkNotional,
  checkStopLossRequired,
  checkStopLossPlacement,
  checkTakeProfitPlacement,
  checkRiskToStop,
  checkMaxPositions,
  checkMaxPositionsPerSymbol,
  checkRatePerSecond,
  checkRatePerMinute,
  checkDailyLoss,
  checkDrawdown,
  checkSpread,
  checkQuoteAge,
  checkSession,
  checkTradeMode,
];
