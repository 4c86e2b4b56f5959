/**
 * The individual trade-request checks of the simulated server, each answering with the retcode a
 * real MT5 server gives (research/mt5-bridges.md §4, §4.1). Pure functions: trading.ts decides
 * the order they run in. Not here: money (account/margin.ts) and execution (trading.ts).
 */
import {
  isOnVolumeStep,
  MAX_COMMENT_LENGTH,
  Retcode,
  type Side,
  type SymbolTradeMode,
} from "../../../shared/protocol/index.ts";
import type { Quote } from "./quotes.ts";
import type { PositionState } from "./records.ts";
import { pointOf, roundPrice, type SymbolSpec } from "./symbols.ts";

/** What the server writes in MqlTradeResult.comment for each outcome. */
export const RETCODE_COMMENTS: Readonly<Record<number, string>> = {
  [Retcode.CHECK_OK]: "Done",
  [Retcode.REQUOTE]: "Requote",
  [Retcode.PLACED]: "Order placed",
  [Retcode.INVALID_PRICE]: "Invalid price",
  [Retcode.INVALID_EXPIRATION]: "Invalid expiration",
  [Retcode.LIMIT_ORDERS]: "Orders limit reached",
  [Retcode.INVALID_ORDER]: "Invalid order type",
  [Retcode.DONE]: "Request executed",
  [Retcode.INVALID]: "Invalid request",
  [Retcode.INVALID_VOLUME]: "Invalid volume",
  [Retcode.INVALID_STOPS]: "Invalid stops",
  [Retcode.TRADE_DISABLED]: "Trade disabled",
  [Retcode.MARKET_CLOSED]: "Market closed",
  [Retcode.NO_MONEY]: "No money",
  [Retcode.PRICE_OFF]: "No prices",
  [Retcode.TOO_MANY_REQUESTS]: "Too many requests",
  [Retcode.NO_CHANGES]: "No changes",
  [Retcode.CLIENT_DISABLES_AT]: "AutoTrading disabled by client",
  [Retcode.FROZEN]: "Order or position frozen",
  [Retcode.INVALID_FILL]: "Unsupported filling mode",
  [Retcode.LIMIT_VOLUME]: "Volume limit reached",
  [Retcode.POSITION_CLOSED]: "Position doesn't exist",
  [Retcode.INVALID_CLOSE_VOLUME]: "Invalid close volume",
  [Retcode.LIMIT_POSITIONS]: "Position limit reached",
  [Retcode.LONG_ONLY]: "Long positions only allowed",
  [Retcode.SHORT_ONLY]: "Short positions only allowed",
  [Retcode.CLOSE_ONLY]: "Position closing only allowed",
};

/** A retcode, or undefined when the check passes. */
export type Check = number | undefined;

/**
 * Tolerance for "is this price on the tick grid", in ticks: far above float dust (1e-9 ticks even
 * at six-digit prices), far below any price a client meant to send.
 */
const GRID_TOLERANCE_TICKS = 1e-4;

/** Fields every request must carry (step 1, request validity). */
export function checkCommonFields(fields: {
  readonly deviation?: number;
  readonly magic?: number;
  readonly comment?: string;
}): Check {
  const { deviation, magic, comment } = fields;
  if (deviation !== undefined && !(Number.isSafeInteger(deviation) && deviation >= 0)) {
    return Retcode.INVALID;
  }
  if (magic !== undefined && !(Number.isSafeInteger(magic) && magic >= 0)) return Retcode.INVALID;
  if (comment !== undefined && comment.length > MAX_COMMENT_LENGTH) return Retcode.INVALID;
  return undefined;
}

/** A stop price as MT5 sees it: 0 and null both mean "none". Non-finite is a malformed field. */
export function checkStopField(value: number | null | undefined): Check {
  if (value === null || value === undefined) return undefined;
  return Number.isFinite(value) ? undefined : Retcode.INVALID;
}

/**
 * Normalise a stop price: null for none (MT5 stores 0), the grid value when it lies on the tick
 * grid within float dust, NaN when it is negative or off the grid (a server rejects prices that
 * were not NormalizeDouble'd with INVALID_STOPS).
 */
export function normaliseStop(value: number | null, spec: SymbolSpec): number | null {
  if (value === null || value === 0) return null;
  if (value < 0) return Number.NaN;
  const ticks = value / spec.tick_size;
  if (Math.abs(ticks - Math.round(ticks)) > GRID_TOLERANCE_TICKS) {
    return Number.NaN;
  }
  // A stop that rounds to 0 (5e-324) is MT5's "none", held as null like 0 itself
  const price = roundPrice(Math.round(ticks) * spec.tick_size, spec.digits);
  return price === 0 ? null : price;
}

/**
 * Stops-level rule (research §4.1), d = stops_level × point. A position is closed at the opposite
 * price, so each side is measured from its closing price:
 * BUY: SL ≤ Bid − d and TP ≥ Bid + d; SELL: SL ≥ Ask + d and TP ≤ Ask − d.
 * A stop on the wrong side of the price fails the same inequalities.
 */
export function checkStops(
  spec: SymbolSpec,
  side: Side,
  sl: number | null,
  tp: number | null,
  quote: Quote,
): Check {
  if (Number.isNaN(sl) || Number.isNaN(tp)) return Retcode.INVALID_STOPS;
  const point = pointOf(spec);
  const distance = spec.stops_level * point;
  const epsilon = point / 2;
  if (side === "BUY") {
    if (sl !== null && sl > quote.bid - distance + epsilon) return Retcode.INVALID_STOPS;
    if (tp !== null && tp < quote.bid + distance - epsilon) return Retcode.INVALID_STOPS;
  } else {
    if (sl !== null && sl < quote.ask + distance - epsilon) return Retcode.INVALID_STOPS;
    if (tp !== null && tp > quote.ask - distance + epsilon) return Retcode.INVALID_STOPS;
  }
  return undefined;
}

/**
 * Freeze level: a position whose SL or TP is within freeze_level points of its closing price
 * cannot be modified or closed (10029). 0 disables the check, as on a real server.
 */
export function checkFreeze(spec: SymbolSpec, position: PositionState, quote: Quote): Check {
  if (spec.freeze_level <= 0) return undefined;
  const point = pointOf(spec);
  const limit = spec.freeze_level * point + point / 2;
  const closing = position.side === "BUY" ? quote.bid : quote.ask;
  for (const stop of [position.sl, position.tp]) {
    if (stop !== null && Math.abs(closing - stop) < limit) return Retcode.FROZEN;
  }
  return undefined;
}

/**
 * Volume against the symbol's min, max and step (10014). Off the step is refused, never rounded:
 * a signed 4.99999999 on a 0.01 step is not 5 lots (isOnVolumeStep, the shared rule).
 */
export function checkVolume(spec: SymbolSpec, volume: number): Check {
  if (volume <= 0) return Retcode.INVALID_VOLUME;
  const tolerance = spec.volume_step * 1e-7;
  if (volume < spec.volume_min - tolerance) return Retcode.INVALID_VOLUME;
  if (volume > spec.volume_max + tolerance) return Retcode.INVALID_VOLUME;
  if (!isOnVolumeStep(volume, spec.volume_step)) return Retcode.INVALID_VOLUME;
  return undefined;
}

/**
 * Partial or full close volume (10038): at least volume_min, on the step, not more than the
 * position, and not leaving a remainder below volume_min (research §3.2 CLOSE).
 */
export function checkCloseVolume(spec: SymbolSpec, volume: number, positionVolume: number): Check {
  const tolerance = spec.volume_step * 1e-7;
  if (volume > positionVolume + tolerance) return Retcode.INVALID_CLOSE_VOLUME;
  if (Math.abs(volume - positionVolume) <= tolerance) return undefined;
  if (volume < spec.volume_min - tolerance) return Retcode.INVALID_CLOSE_VOLUME;
  if (!isOnVolumeStep(volume, spec.volume_step)) return Retcode.INVALID_CLOSE_VOLUME;
  if (positionVolume - volume < spec.volume_min - tolerance) return Retcode.INVALID_CLOSE_VOLUME;
  return undefined;
}

/** How an order changes the symbol's exposure; only netting accounts can reduce with an order. */
export type OrderEffect = "new" | "increase" | "reduce" | "close" | "reverse";

/**
 * SYMBOL_TRADE_MODE. DISABLED refuses everything (10017); the restricted modes refuse whatever
 * would open or grow exposure in the forbidden direction (10042, 10043, 10044) but still let a
 * position be reduced or closed, which is what the modes exist for.
 */
export function checkTradeMode(mode: SymbolTradeMode, side: Side, effect: OrderEffect): Check {
  if (mode === "DISABLED") return Retcode.TRADE_DISABLED;
  if (effect === "reduce" || effect === "close") return undefined;
  if (mode === "CLOSE_ONLY") return Retcode.CLOSE_ONLY;
  if (mode === "LONG_ONLY" && side === "SELL") return Retcode.LONG_ONLY;
  if (mode === "SHORT_ONLY" && side === "BUY") return Retcode.SHORT_ONLY;
  return undefined;
}

/**
 * Instant and Request execution fill only at the requested price or within `deviation` points of
 * it; beyond that the server requotes (10004). Market execution fills at whatever the price is.
 */
export function needsRequote(
  spec: SymbolSpec,
  requested: number,
  executable: number,
  deviation: number,
): boolean {
  if (spec.execution_mode !== "INSTANT" && spec.execution_mode !== "REQUEST") return false;
  const point = pointOf(spec);
  return Math.abs(executable - requested) > deviation * point + point / 2;
}
