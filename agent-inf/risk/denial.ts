/**
 * Risk denials: the closed list of reasons the risk monitor refuses an order, and the value that
 * carries one. A denial is a normal outcome returned to the strategy, never an exception
 * (house-style §3). It renders as `CODE: key=value, key=value` (Nautilus `OrderDeniedReason`);
 * callers branch on `code`, never on `message`.
 */

export const DenialCode = {
  // Intent itself
  INVALID_INTENT: "INVALID_INTENT",

  // Trading state and breaker
  TRADING_HALTED: "TRADING_HALTED",
  REDUCING_ONLY: "REDUCING_ONLY",
  BREAKER_OPEN: "BREAKER_OPEN",

  // Symbol
  SYMBOL_NOT_ALLOWED: "SYMBOL_NOT_ALLOWED",
  UNKNOWN_SYMBOL: "UNKNOWN_SYMBOL",
  INVALID_SYMBOL_INFO: "INVALID_SYMBOL_INFO",
  NO_QUOTE: "NO_QUOTE",
  MARKET_CLOSED: "MARKET_CLOSED",
  SIDE_NOT_ALLOWED: "SIDE_NOT_ALLOWED",

  // Sizing
  KELLY_NO_EDGE: "KELLY_NO_EDGE",
  KELLY_BELOW_MIN: "KELLY_BELOW_MIN",
  VOLUME_BELOW_MIN: "VOLUME_BELOW_MIN",
  VOLUME_ABOVE_SYMBOL_MAX: "VOLUME_ABOVE_SYMBOL_MAX",
  VOLUME_STEP: "VOLUME_STEP",
  VOLUME_ABOVE_MAX: "VOLUME_ABOVE_MAX",
  NOTIONAL_ABOVE_MAX: "NOTIONAL_ABOVE_MAX",

  // Stops and money at risk
  SL_REQUIRED: "SL_REQUIRED",
  SL_WRONG_SIDE: "SL_WRONG_SIDE",
  SL_TOO_CLOSE: "SL_TOO_CLOSE",
  TP_WRONG_SIDE: "TP_WRONG_SIDE",
  TP_TOO_CLOSE: "TP_TOO_CLOSE",
  RISK_ABOVE_MAX: "RISK_ABOVE_MAX",

  // Account exposure and rate
  MAX_POSITIONS: "MAX_POSITIONS",
  MAX_POSITIONS_PER_SYMBOL: "MAX_POSITIONS_PER_SYMBOL",
  RATE_LIMIT_PER_SECOND: "RATE_LIMIT_PER_SECOND",
  RATE_LIMIT_PER_MINUTE: "RATE_LIMIT_PER_MINUTE",

  // Loss limits
  DAILY_LOSS_LIMIT: "DAILY_LOSS_LIMIT",
  MAX_DRAWDOWN: "MAX_DRAWDOWN",

  // Quotes
  SPREAD_TOO_WIDE: "SPREAD_TOO_WIDE",
  STALE_QUOTE: "STALE_QUOTE",

  // Close and modify
  POSITION_NOT_FOUND: "POSITION_NOT_FOUND",
  INVALID_CLOSE_VOLUME: "INVALID_CLOSE_VOLUME",

  // Pending orders and close-by (issue 15)
  ORDER_NOT_FOUND: "ORDER_NOT_FOUND",
  INVALID_CLOSE_BY: "INVALID_CLOSE_BY",
} as const;
export type DenialCode = (typeof DenialCode)[keyof typeof DenialCode];

export const DENIAL_CODES: readonly DenialCode[] = Object.values(DenialCode);

export type DenialContext = Readonly<Record<string, number | string>>;

export interface Denial {
  readonly code: DenialCode;
  /** Human sentence for the strategy's log; lowercase, no trailing period. */
  readonly message: string;
  /** The numbers the decision was made on, snake_case keys (`volume`, `max_lots`, ...). */
  readonly context: DenialContext;
}

export function deny(code: DenialCode, message: string, context: DenialContext = {}): Denial {
  return { code, message, context };
}

/** `CODE: key=value, key=value`; floats are shown to 12 significant digits to hide FP noise. */
export function formatDenial(denial: Denial): string {
  const parts: string[] = [];
  for (const key in denial.context) {
    const value = denial.context[key];
    if (value === undefined) continue;
    parts.push(`${key}=${typeof value === "number" ? formatNumber(value) : value}`);
  }
  return parts.length === 0 ? denial.code : `${denial.code}: ${parts.join(", ")}`;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) || !Number.isFinite(value)
    ? String(value)
    : String(Number(value.toPrecision(12)));
}
