/**
 * The trade server's rules for pending orders, each answering with the retcode MT5 gives. Pure
 * functions; engine.ts decides the order they run in. Distances follow MQL5 "Requirements and
 * Limitations in Making Trades", with d = SYMBOL_TRADE_STOPS_LEVEL × point and
 * f = SYMBOL_TRADE_FREEZE_LEVEL × point:
 *
 *   order type   placed at (10015)         triggers when     frozen (10029) while
 *   BUY_LIMIT    Ask − price ≥ d           Ask ≤ price       Ask − price ≤ f
 *   SELL_LIMIT   price − Bid ≥ d           Bid ≥ price       price − Bid ≤ f
 *   BUY_STOP     price − Ask ≥ d           Ask ≥ price       price − Ask ≤ f
 *   SELL_STOP    Bid − price ≥ d           Bid ≤ price       Bid − price ≤ f
 *
 * A stop-limit is placed and frozen like its stop (price is the trigger) and its limit price
 * sits on the limit side of the trigger: BUY_STOP_LIMIT price − stoplimit ≥ d, SELL_STOP_LIMIT
 * stoplimit − price ≥ d. When it triggers it becomes the limit order at stoplimit. SL and TP
 * are measured from the price the order opens at (stoplimit for stop-limits) with the same d,
 * as for a position (checks.ts checkStops, 10016). A price exactly at the market is refused even
 * with stops level 0: a limit or stop order must wait for the market to move.
 */
import {
  type CheckOrderType,
  type OrderTimeType,
  orderSide,
  type PendingOrderType,
  Retcode,
  type SymbolOrderMode,
} from "../../../../shared/protocol/index.ts";
import { type Check, checkStops } from "../checks.ts";
import type { Quote } from "../quotes.ts";
import { tradingDayEnd } from "../sessions.ts";
import { expirationModes, orderModes, pointOf, type SymbolSpec } from "../symbols.ts";

/** The quote price a pending order is compared with: Ask for buys, Bid for sells. */
export function activationPrice(type: CheckOrderType, quote: Quote): number {
  return orderSide(type) === "BUY" ? quote.ask : quote.bid;
}

/**
 * How far the market must still move before the order triggers, in price units (≤ 0: it has
 * reached the order). Limits wait for the price to come down to (buy) or up to (sell) them,
 * stops for it to go up to (buy) or down to (sell) them.
 */
export function distanceToTrigger(type: PendingOrderType, price: number, quote: Quote): number {
  const market = activationPrice(type, quote);
  switch (type) {
    case "BUY_LIMIT":
    case "SELL_STOP":
    case "SELL_STOP_LIMIT":
      return market - price;
    case "SELL_LIMIT":
    case "BUY_STOP":
    case "BUY_STOP_LIMIT":
      return price - market;
  }
}

/** Whether the quote has reached the order (half a point absorbs float dust). */
export function isTriggered(spec: SymbolSpec, type: PendingOrderType, price: number, quote: Quote) {
  return distanceToTrigger(type, price, quote) <= pointOf(spec) / 2;
}

/** The price the order opens a position at once triggered: its stop-limit price, else its price. */
export function openPrice(price: number, stoplimit: number | null): number {
  return stoplimit ?? price;
}

/** SYMBOL_ORDER_MODE (10035 for a kind the symbol does not take; 10016 for SL/TP). */
export function checkOrderMode(
  spec: SymbolSpec,
  type: PendingOrderType,
  sl: number | null,
  tp: number | null,
): Check {
  const modes = orderModes(spec);
  const kind: SymbolOrderMode = type.endsWith("STOP_LIMIT")
    ? "STOP_LIMIT"
    : type.endsWith("LIMIT")
      ? "LIMIT"
      : "STOP";
  if (!modes.includes(kind)) return Retcode.INVALID_ORDER;
  if ((sl !== null && !modes.includes("SL")) || (tp !== null && !modes.includes("TP"))) {
    return Retcode.INVALID_STOPS;
  }
  return undefined;
}

/** Placement distance of the price (and the stop-limit price) from the market (10015). */
export function checkPlacement(
  spec: SymbolSpec,
  type: PendingOrderType,
  price: number | null,
  stoplimit: number | null,
  quote: Quote,
): Check {
  if (price === null || Number.isNaN(price) || Number.isNaN(stoplimit)) {
    return Retcode.INVALID_PRICE;
  }
  const point = pointOf(spec);
  const minimum = Math.max(spec.stops_level * point, point) - point / 2;
  if (distanceToTrigger(type, price, quote) < minimum) return Retcode.INVALID_PRICE;
  if (stoplimit !== null) {
    const gap = type === "BUY_STOP_LIMIT" ? price - stoplimit : stoplimit - price;
    if (gap < spec.stops_level * point - point / 2) return Retcode.INVALID_PRICE;
  }
  return undefined;
}

/** SL/TP against the price the order opens at, as checkStops does for positions (10016). */
export function checkOrderStops(
  spec: SymbolSpec,
  type: PendingOrderType,
  opensAt: number,
  sl: number | null,
  tp: number | null,
): Check {
  const at: Quote = { symbol: spec.symbol, bid: opensAt, ask: opensAt, time: 0 };
  return checkStops(spec, orderSide(type), sl, tp, at);
}

/** Within the freeze level of its trigger, an order can be neither changed nor cancelled (10029). */
export function checkOrderFreeze(
  spec: SymbolSpec,
  type: PendingOrderType,
  price: number,
  quote: Quote,
): Check {
  if (spec.freeze_level <= 0) return undefined;
  const point = pointOf(spec);
  return distanceToTrigger(type, price, quote) < spec.freeze_level * point + point / 2
    ? Retcode.FROZEN
    : undefined;
}

/**
 * When an order with this lifetime expires (0: never), or INVALID_EXPIRATION (10022) when the
 * symbol does not allow the type (SYMBOL_EXPIRATION_MODE) or the time is not in the future.
 * DAY ends with the trading day the order is placed in; SPECIFIED_DAY with the trading day
 * containing `expiration` (sessions.ts tradingDayEnd).
 */
export function expiryOf(
  spec: SymbolSpec,
  typeTime: OrderTimeType,
  expiration: number,
  now: number,
): { readonly expiresAt: number } | { readonly refusal: number } {
  if (!expirationModes(spec).includes(typeTime)) return { refusal: Retcode.INVALID_EXPIRATION };
  switch (typeTime) {
    case "GTC":
      return expiration === 0 ? { expiresAt: 0 } : { refusal: Retcode.INVALID_EXPIRATION };
    case "DAY":
      return expiration === 0
        ? { expiresAt: tradingDayEnd(now) }
        : { refusal: Retcode.INVALID_EXPIRATION };
    case "SPECIFIED":
      return expiration > now ? { expiresAt: expiration } : { refusal: Retcode.INVALID_EXPIRATION };
    case "SPECIFIED_DAY": {
      const end = tradingDayEnd(expiration);
      return expiration > 0 && end > now
        ? { expiresAt: end }
        : { refusal: Retcode.INVALID_EXPIRATION };
    }
  }
}
