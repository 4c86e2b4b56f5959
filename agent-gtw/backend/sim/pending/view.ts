/**
 * Pending orders as the wire shows them (TradeOrder): an active order with the live price, and
 * the history entry an order becomes when it leaves the book.
 */
import type { TradeOrder, TradeOrderState } from "../../../../shared/protocol/index.ts";
import type { Market } from "../market.ts";
import type { OrderState } from "./order-book.ts";
import { activationPrice } from "./rules.ts";

export function orderView(market: Market, order: OrderState): TradeOrder {
  return {
    ticket: order.ticket,
    symbol: order.symbol,
    type: order.type,
    state: "PLACED",
    volume_initial: order.volume,
    volume_current: order.volume,
    price_open: order.price_open,
    price_stoplimit: order.price_stoplimit,
    sl: order.sl,
    tp: order.tp,
    price_current: activationPrice(order.type, market.quote(order.symbol)),
    type_time: order.type_time,
    time_expiration: order.expires_at,
    type_filling: order.type_filling,
    magic: order.magic,
    comment: order.comment,
    time_setup: order.time_setup,
    time_done: 0,
    position_id: 0,
    position_by_id: 0,
    reason: order.reason,
    external_id: "",
  };
}

/** The history entry of an order leaving the book; a filled order's volume is done (0 left). */
export function doneView(
  market: Market,
  order: OrderState,
  state: Exclude<TradeOrderState, "PLACED">,
  time: number,
  positionId = 0,
): TradeOrder {
  return {
    ...orderView(market, order),
    state,
    volume_current: state === "FILLED" ? 0 : order.volume,
    time_done: time,
    position_id: positionId,
  };
}
