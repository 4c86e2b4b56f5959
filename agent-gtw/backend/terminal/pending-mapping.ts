/**
 * Pending orders and pre-trade calculations both ways over the EA link (docs/EA-LINK.md §7.9–
 * §7.12, §10.6): Backend requests → PLACE / MODIFY_ORDER / CANCEL / CLOSE_BY / ORDER_CHECK /
 * CALC_* fields (Unix ms → server ms, null → absent or 0; the order's type travels as
 * `order_type`, since `type` names the frame), and the EA's orders and check results
 * → the shared types (enum names without their MQL5 prefix, server ms → Unix ms, MT5's 0 for
 * "no price" → null). Everything the EA sends is checked; a value outside the contract throws
 * LinkProtocolError and the link closes.
 */
import {
  type FillingMode,
  ORDER_TIME_TYPES,
  ORDER_TYPES,
  type OrderCheckResult,
  type OrderTimeType,
  type OrderType,
  Retcode,
  TRADE_ORDER_STATES,
  type TradeOrder,
  type TradeOrderState,
} from "../../../shared/protocol/index.ts";
import type {
  CancelPendingOrder,
  CheckOrder,
  CloseByOrder,
  MarginQuery,
  ModifyPendingOrder,
  PlaceOrder,
  ProfitQuery,
} from "../pending.ts";
import type { WireObject, WireValue } from "./framing.ts";
import { dealReason, magic, type ServerTime } from "./mapping.ts";
import { LinkProtocolError, type WireFields } from "./wire-fields.ts";

/** Unix ms → server ms for an expiration; 0 ("none") stays 0 (§5). */
function serverMs(time: ServerTime, unixMs: number): number {
  return unixMs === 0 ? 0 : Math.floor(time.toServer(unixMs));
}

/** Only the defined entries: an absent field means "the EA's default" or "keep" (§10.6). */
function defined(fields: Record<string, WireValue | undefined>): WireObject {
  const out: Record<string, WireValue> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return out;
}

/** The order terms PLACE and ORDER_CHECK share (OrderTerms in BridgePending.mqh). */
function termsFields(order: PlaceOrder | CheckOrder, time: ServerTime) {
  return {
    symbol: order.symbol,
    order_type: order.type,
    volume: order.volume,
    price: order.price,
    stoplimit: order.stoplimit ?? undefined,
    sl: order.sl ?? undefined,
    tp: order.tp ?? undefined,
    type_time: order.typeTime,
    expiration: order.expiration === 0 ? undefined : serverMs(time, order.expiration),
    filling: order.filling ?? undefined,
    magic: order.magic,
    comment: order.comment,
  };
}

export function placeFields(order: PlaceOrder, time: ServerTime): WireObject {
  return defined({ client_order_id: order.clientOrderId, ...termsFields(order, time) });
}

/** §10.6: an absent field keeps the order's value; sl/tp 0 removes the level. */
export function modifyOrderFields(order: ModifyPendingOrder, time: ServerTime): WireObject {
  const level = (value: number | null | undefined) => (value === null ? 0 : value);
  return defined({
    client_order_id: order.clientOrderId,
    ticket: order.ticket,
    price: order.price,
    stoplimit: order.stoplimit,
    sl: level(order.sl),
    tp: level(order.tp),
    type_time: order.typeTime,
    expiration: order.expiration === undefined ? undefined : serverMs(time, order.expiration),
  });
}

export function cancelFields(order: CancelPendingOrder): WireObject {
  return { client_order_id: order.clientOrderId, ticket: order.ticket };
}

export function closeByFields(order: CloseByOrder): WireObject {
  return {
    client_order_id: order.clientOrderId,
    ticket: order.ticket,
    ticket_by: order.ticketBy,
    magic: order.magic,
    comment: order.comment,
  };
}

export function orderCheckFields(order: CheckOrder, time: ServerTime): WireObject {
  return defined({ ...termsFields(order, time), deviation: order.deviation });
}

export function marginFields(query: MarginQuery): WireObject {
  return { symbol: query.symbol, side: query.side, volume: query.volume, price: query.price };
}

export function profitFields(query: ProfitQuery): WireObject {
  return {
    symbol: query.symbol,
    side: query.side,
    volume: query.volume,
    price_open: query.priceOpen,
    price_close: query.priceClose,
  };
}

// ---------------------------------------------------------------------------------------------
// EA → gateway

function member<T extends string>(fields: WireFields, key: string, allowed: readonly T[]): T {
  const value = fields.string(key);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new LinkProtocolError(
      `terminal: order ${key} must be one of ${allowed.join(", ")} (was ${value})`,
    );
  }
  return value as T;
}

/** ORDER_FILLING_* without the prefix; BOC (book or cancel) rests in the book like RETURN. */
function filling(fields: WireFields): FillingMode {
  const value = fields.string("type_filling");
  if (value === "FOK" || value === "IOC" || value === "RETURN") return value;
  if (value === "BOC") return "RETURN";
  throw new LinkProtocolError(
    `terminal: order type_filling must be FOK, IOC, RETURN or BOC (was ${value})`,
  );
}

function ticketField(fields: WireFields, key: string): number {
  const value = fields.integer(key);
  if (value < 0) throw new LinkProtocolError(`terminal: order ${key} was ${value}`);
  return value;
}

function amount(fields: WireFields, key: string): number {
  const value = fields.number(key);
  if (value < 0) throw new LinkProtocolError(`terminal: order ${key} was ${value}`);
  return value;
}

/** MT5 writes 0 for a price an order does not have (prices may be negative on some futures). */
function priceOrNull(fields: WireFields, key: string): number | null {
  const value = fields.number(key);
  return value === 0 ? null : value;
}

/**
 * An order as GET_ORDERS, GET_HISTORY_ORDERS and the ORDER event carry it (§7.9); the EA does not
 * send ORDER_EXTERNAL_ID (an exchange's own ID), so `external_id` is "" unless it does.
 */
export function toTradeOrder(fields: WireFields, time: ServerTime): TradeOrder {
  const ticket = ticketField(fields, "ticket");
  if (ticket === 0) throw new LinkProtocolError("terminal: order ticket was 0");
  return {
    ticket,
    symbol: fields.string("symbol"),
    type: member<OrderType>(fields, "order_type", ORDER_TYPES),
    state: member<TradeOrderState>(fields, "state", TRADE_ORDER_STATES),
    volume_initial: amount(fields, "volume_initial"),
    volume_current: amount(fields, "volume_current"),
    price_open: fields.number("price_open"),
    price_stoplimit: priceOrNull(fields, "price_stoplimit"),
    sl: priceOrNull(fields, "sl"),
    tp: priceOrNull(fields, "tp"),
    price_current: fields.number("price_current"),
    type_time: member<OrderTimeType>(fields, "type_time", ORDER_TIME_TYPES),
    time_expiration: time.toUnix(ticketField(fields, "time_expiration")),
    type_filling: filling(fields),
    magic: magic(fields),
    comment: fields.string("comment"),
    time_setup: time.toUnix(ticketField(fields, "time_setup")),
    time_done: time.toUnix(ticketField(fields, "time_done")),
    position_id: ticketField(fields, "position_id"),
    position_by_id: ticketField(fields, "position_by_id"),
    reason: dealReason(fields.string("reason")).reason,
    external_id: fields.optionalString("external_id") ?? "",
  };
}

/**
 * §7.11: MqlTradeCheckResult. OrderCheck passes with retcode 0 ("Done"); a terminal that reports
 * 10009 DONE for a pass is read the same way, so "passed" has one value for the gateway.
 */
export function toOrderCheck(fields: WireFields): OrderCheckResult {
  const retcode = fields.integer("retcode");
  if (retcode < 0) throw new LinkProtocolError(`terminal: ORDER_CHECK retcode was ${retcode}`);
  return {
    retcode: retcode === Retcode.DONE ? Retcode.CHECK_OK : retcode,
    balance: fields.number("balance"),
    equity: fields.number("equity"),
    profit: fields.number("profit"),
    margin: amount(fields, "margin"),
    margin_free: fields.number("margin_free"),
    margin_level: amount(fields, "margin_level"),
    comment: fields.string("comment"),
  };
}

/** §7.12: OrderCalcMargin's result, never negative. */
export function toMargin(fields: WireFields): number {
  return amount(fields, "margin");
}
