/**
 * Reply and event shapes of the pending-order actions (pending-types.ts), read by the client the
 * same way as every other reply (reply-shapes.ts): known fields checked and copied, unknown ones
 * dropped, enumerations strict.
 */
import {
  MAX_ORDERS_PER_REPLY,
  ORDER_TIME_TYPES,
  ORDER_TYPES,
  type PendingRequest,
  TRADE_ORDER_STATES,
} from "./pending-types.ts";
import {
  arrayOf,
  count,
  DEAL_REASONS,
  DEAL_SHAPE,
  finite,
  integer,
  MAX_MESSAGE_LENGTH,
  nested,
  oneOf,
  opt,
  priceOrNull,
  req,
  type Shape,
  shapeReader,
  shortText,
  text,
} from "./reply-shapes.ts";

export const TRADE_ORDER_SHAPE: Shape = [
  req("ticket", count),
  req("symbol", shortText),
  req("type", oneOf(ORDER_TYPES)),
  req("state", oneOf(TRADE_ORDER_STATES)),
  req("volume_initial", finite),
  req("volume_current", finite),
  req("price_open", finite),
  req("price_stoplimit", priceOrNull),
  req("sl", priceOrNull),
  req("tp", priceOrNull),
  req("price_current", finite),
  req("type_time", oneOf(ORDER_TIME_TYPES)),
  req("time_expiration", count),
  req("type_filling", oneOf(["FOK", "IOC", "RETURN"])),
  req("magic", count),
  req("comment", shortText),
  req("time_setup", count),
  req("time_done", count),
  req("position_id", count),
  req("position_by_id", count),
  req("reason", oneOf(DEAL_REASONS)),
  req("external_id", shortText),
];

const CHECK_SHAPE: Shape = [
  req("retcode", integer),
  req("balance", finite),
  req("equity", finite),
  req("profit", finite),
  req("margin", finite),
  req("margin_free", finite),
  req("margin_level", finite),
  req("comment", text(MAX_MESSAGE_LENGTH)),
];

export const tradeOrder = shapeReader(TRADE_ORDER_SHAPE);

/** Reply fields the pending actions add to BASE_SHAPE. */
export const PENDING_REPLY_FIELDS: Shape = [
  nested("pending_order", false, tradeOrder),
  nested("orders", false, arrayOf(tradeOrder, MAX_ORDERS_PER_REPLY)),
  nested("check", false, shapeReader(CHECK_SHAPE)),
  opt("ticket_by", count),
  opt("remaining_volume_by", finite),
  opt("margin", finite),
  opt("profit", finite),
];

/** Fields a successful reply to each pending action must carry. */
export const PENDING_SUCCESS_FIELDS: Readonly<Record<PendingRequest["action"], readonly string[]>> =
  {
    PLACE: ["client_order_id", "order"],
    MODIFY_ORDER: ["client_order_id", "order"],
    CANCEL: ["client_order_id", "order"],
    CLOSE_BY: ["client_order_id", "ticket", "ticket_by"],
    GET_ORDERS: ["orders"],
    ORDER_CHECK: ["check"],
    CALC_MARGIN: ["margin"],
    CALC_PROFIT: ["profit"],
  };

/** Event bodies (validate-event.ts): every order event carries the order. */
const ORDER_EVENT_SHAPE: Shape = [
  nested("order", true, tradeOrder),
  nested("deal", false, shapeReader(DEAL_SHAPE)),
  opt("retcode", integer),
  opt("comment", text(MAX_MESSAGE_LENGTH)),
];

export const ORDER_EVENT_SHAPES = {
  ORDER_PLACED: ORDER_EVENT_SHAPE,
  ORDER_MODIFIED: ORDER_EVENT_SHAPE,
  ORDER_TRIGGERED: ORDER_EVENT_SHAPE,
  ORDER_CANCELED: ORDER_EVENT_SHAPE,
  ORDER_EXPIRED: ORDER_EVENT_SHAPE,
  ORDER_REJECTED: ORDER_EVENT_SHAPE,
} as const;
