/**
 * The risk monitor's inputs: the limits it enforces (RiskLimits), the order intents a strategy
 * sends (OPEN, CLOSE, MODIFY, and the pending-order ones: PLACE, MODIFY_ORDER, CANCEL, CLOSE_BY),
 * and the market snapshot each decision is made against. Types only,
 * plus `riskLimitIssues()`, which lists everything wrong with a RiskLimits value at once.
 */
import type {
  AccountInfo,
  PendingOrderType,
  Position,
  Side,
  SymbolInfo,
  TradeOrder,
} from "../../shared/protocol/index.ts";

/** What a breached daily loss limit does to the trading state. Max drawdown always HALTs. */
export const DAILY_LOSS_ACTIONS = ["REDUCING", "HALTED"] as const;
export type DailyLossAction = (typeof DAILY_LOSS_ACTIONS)[number];

export interface KellyLimits {
  /** When false, an intent's `edge` is ignored and its volume is used as given. */
  readonly enabled: boolean;
  /** Multiplier on the full Kelly fraction, e.g. 0.25 for quarter Kelly. In (0, 1]. */
  readonly fraction: number;
  /** Cap on the equity fraction put at risk by one order after `fraction`. In (0, 1]. */
  readonly maxFraction: number;
}

export interface DailyLossLimit {
  /** Loss from start-of-day equity, deposit currency; null for no money limit. */
  readonly money: number | null;
  /** Loss as a percent of start-of-day equity; null for no percent limit. */
  readonly percent: number | null;
}

/**
 * Limits the risk monitor enforces. `null` switches a limit off; every field is required so a
 * forgotten key can never silently disable a check (the config loader supplies defaults).
 */
export interface RiskLimits {
  /** Exact MT5 symbol names that may be traded; an empty list allows none. */
  readonly allowedSymbols: readonly string[];
  /** Maximum lots per order, on top of the symbol's own volume_max. */
  readonly maxLots: number;
  /** Maximum notional per order in the deposit currency (see notionalInDeposit). */
  readonly maxNotional: number | null;
  /** Refuse OPENs without a stop-loss, and MODIFYs that remove one. */
  readonly requireStopLoss: boolean;
  /** Maximum money lost if the SL is hit, percent of current equity. */
  readonly maxRiskPercent: number | null;
  /** Maximum open positions on the account, all symbols. */
  readonly maxPositions: number | null;
  readonly maxPositionsPerSymbol: number | null;
  /** OPENs allowed per sliding second / minute (only orders passed to recordOrder() count). */
  readonly maxOrdersPerSecond: number | null;
  readonly maxOrdersPerMinute: number | null;
  readonly dailyLossLimit: DailyLossLimit;
  readonly dailyLossAction: DailyLossAction;
  /** Drop from the equity high-water mark, percent, that HALTs trading. */
  readonly maxDrawdownPercent: number | null;
  /** Widest spread, in points, at which an OPEN may be sent. */
  readonly maxSpreadPoints: number | null;
  /** Oldest quote (quote_time vs the clock, offset-corrected) an OPEN may be priced on. */
  readonly maxQuoteAgeMs: number | null;
  /** IANA zone whose local midnight starts a trading day for the daily loss limit. */
  readonly timeZone: string;
  readonly kelly: KellyLimits;
}

/** The strategy's estimate of its edge for one trade, used for Kelly sizing. */
export interface TradeEdge {
  /** Probability the trade reaches its target, in [0, 1]. */
  readonly winProbability: number;
  /** Average win divided by average loss (b in Kelly's formula), > 0. */
  readonly payoffRatio: number;
}

export interface OpenIntent {
  /** Carried into logs only; idempotency is the gateway's job. */
  readonly clientOrderId?: string;
  readonly symbol: string;
  readonly side: Side;
  /** Lots requested. With Kelly sizing this is the ceiling: Kelly may shrink an order, never grow it. */
  readonly volume: number;
  readonly sl?: number | null;
  readonly tp?: number | null;
  readonly edge?: TradeEdge;
}

export interface CloseIntent {
  readonly clientOrderId?: string;
  /** Position ticket. */
  readonly ticket: number;
  /** Lots to close; omitted for the whole position. */
  readonly volume?: number;
}

export interface ModifyIntent {
  readonly clientOrderId?: string;
  readonly ticket: number;
  /** New stop-loss: a price, null to remove it, omitted to keep it. */
  readonly sl?: number | null;
  /** New take-profit: a price, null to remove it, omitted to keep it. */
  readonly tp?: number | null;
}

/**
 * A pending order (issue 15): the OPEN it may become, at its own price. `side` is the order
 * type's (orderSide); every OPEN field means what it means there, measured from `price`, or from
 * `stoplimit` for a stop-limit, the price it opens a position at.
 */
export interface PlaceIntent extends OpenIntent {
  readonly type: PendingOrderType;
  /** The limit or stop price (a stop-limit's trigger price). */
  readonly price: number;
  /** Stop-limit types only: the price of the limit order it places, and so its entry. */
  readonly stoplimit?: number;
}

/** A change to a pending order; each field omitted keeps the order's own (null removes a stop). */
export interface ModifyOrderIntent {
  readonly clientOrderId?: string;
  /** Order ticket. */
  readonly ticket: number;
  readonly price?: number;
  readonly stoplimit?: number;
  readonly sl?: number | null;
  readonly tp?: number | null;
}

export interface CancelIntent {
  readonly clientOrderId?: string;
  /** Order ticket. */
  readonly ticket: number;
  /** Asked with the operator's token: passes while HALTED (removing orders only takes risk off). */
  readonly operator?: boolean;
}

export interface CloseByIntent {
  readonly clientOrderId?: string;
  /** The position to close… */
  readonly ticket: number;
  /** …by this opposite one on the same symbol. */
  readonly ticketBy: number;
}

/** What the gateway last told us; every decision is made against one snapshot. */
export interface MarketSnapshot {
  /** Info and quote for the intent's symbol (for CLOSE/MODIFY: the position's symbol). */
  readonly symbol?: SymbolInfo | undefined;
  readonly account: AccountInfo;
  /** All open positions on the account, not only this strategy's. */
  readonly positions: readonly Position[];
  /**
   * Pending orders on the account, when the snapshot has them: each counts against the position
   * limits like a position, as it may become one (issue 15).
   */
  readonly orders?: readonly TradeOrder[] | undefined;
  /** Gateway clock minus ours (HeartbeatMonitor.clockOffsetMs), to age quote_time; default 0. */
  readonly clockOffsetMs?: number | undefined;
}

export interface LimitIssue {
  /** Dotted key, e.g. `kelly.fraction`. */
  readonly path: string;
  readonly message: string;
}

/** Every problem with `limits`, for the config loader to report together; empty when valid. */
export function riskLimitIssues(limits: RiskLimits): LimitIssue[] {
  const issues: LimitIssue[] = [];
  const positive = (path: string, value: number | null, integer = false) => {
    if (value === null) return;
    if (!Number.isFinite(value) || value <= 0) {
      issues.push({ path, message: `must be a positive number, was ${value}` });
    } else if (integer && !Number.isInteger(value)) {
      issues.push({ path, message: `must be a whole number, was ${value}` });
    }
  };
  const unitInterval = (path: string, value: number) => {
    if (!(value > 0 && value <= 1))
      issues.push({ path, message: `must be in (0, 1], was ${value}` });
  };
  const percent = (path: string, value: number | null) => {
    positive(path, value);
    if (value !== null && value > 100) {
      issues.push({ path, message: `must be at most 100, was ${value}` });
    }
  };

  positive("maxLots", limits.maxLots);
  positive("maxNotional", limits.maxNotional);
  percent("maxRiskPercent", limits.maxRiskPercent);
  positive("maxPositions", limits.maxPositions, true);
  positive("maxPositionsPerSymbol", limits.maxPositionsPerSymbol, true);
  positive("maxOrdersPerSecond", limits.maxOrdersPerSecond, true);
  positive("maxOrdersPerMinute", limits.maxOrdersPerMinute, true);
  positive("dailyLossLimit.money", limits.dailyLossLimit.money);
  percent("dailyLossLimit.percent", limits.dailyLossLimit.percent);
  percent("maxDrawdownPercent", limits.maxDrawdownPercent);
  positive("maxSpreadPoints", limits.maxSpreadPoints);
  positive("maxQuoteAgeMs", limits.maxQuoteAgeMs);
  if (!(DAILY_LOSS_ACTIONS as readonly string[]).includes(limits.dailyLossAction)) {
    issues.push({
      path: "dailyLossAction",
      message: `must be REDUCING or HALTED, was ${limits.dailyLossAction}`,
    });
  }
  if (!isTimeZone(limits.timeZone)) {
    issues.push({ path: "timeZone", message: `unknown IANA time zone ${limits.timeZone}` });
  }
  unitInterval("kelly.fraction", limits.kelly.fraction);
  unitInterval("kelly.maxFraction", limits.kelly.maxFraction);
  return issues;
}

function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}
