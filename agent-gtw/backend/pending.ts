/**
 * The pending-order half of the Backend contract (backend.ts): the requests the gateway hands a
 * backend for PLACE, MODIFY_ORDER, CANCEL, CLOSE_BY and the pre-trade calculations, and the order
 * events a backend publishes. Trade calls follow the same rules as open/close/modify: a resolved
 * TradeResult is MT5's answer (retcode), BACKEND_UNAVAILABLE means nothing reached MT5,
 * BACKEND_TIMEOUT means the outcome is unknown and gets reconciled (orders and history orders by
 * comment tag, deals for CLOSE_BY), and BACKEND_UNSUPPORTED means this backend cannot do it.
 */
import type {
  CheckOrderType,
  FillingMode,
  OrderCheckResult,
  OrderEventFields,
  OrderEventType,
  OrderTimeType,
  PendingOrderType,
  Side,
} from "../../shared/protocol/index.ts";

/** The terms PlaceOrder and CheckOrder share (the gateway fills them in: orderFields()). */
export interface OrderTerms {
  /** Stop-limit types only. */
  readonly stoplimit: number | null;
  readonly sl: number | null;
  readonly tp: number | null;
  readonly typeTime: OrderTimeType;
  /** Unix ms, whole seconds; 0 unless typeTime is SPECIFIED or SPECIFIED_DAY. */
  readonly expiration: number;
  /** null: the backend picks as for market orders (FOK if allowed, else IOC, else RETURN). */
  readonly filling: FillingMode | null;
}

/** Terms with nothing added: no stop-limit price, SL or TP, good till cancelled, the usual filling. */
export const PLAIN_TERMS: OrderTerms = {
  stoplimit: null,
  sl: null,
  tp: null,
  typeTime: "GTC",
  expiration: 0,
  filling: null,
};

export interface PlaceOrder extends OrderTerms {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly type: PendingOrderType;
  readonly volume: number;
  readonly price: number;
  readonly magic: number;
  /** Full order comment, already starting with the tag derived from clientOrderId. */
  readonly comment: string;
}

/** undefined keeps a field; null removes sl/tp. */
export interface ModifyPendingOrder {
  readonly clientOrderId: string;
  readonly ticket: number;
  readonly price: number | undefined;
  readonly stoplimit: number | undefined;
  readonly sl: number | null | undefined;
  readonly tp: number | null | undefined;
  readonly typeTime: OrderTimeType | undefined;
  readonly expiration: number | undefined;
}

export interface CancelPendingOrder {
  readonly clientOrderId: string;
  readonly ticket: number;
}

export interface CloseByOrder {
  readonly clientOrderId: string;
  readonly ticket: number;
  readonly ticketBy: number;
  readonly magic: number;
  readonly comment: string;
}

/** GET_ORDERS: at most one filter; none lists every pending order. */
export interface OrderFilter {
  readonly symbol?: string;
  /** MT5 group masks (shared/protocol/symbol-group.ts). */
  readonly group?: string;
  readonly ticket?: number;
}

/** ORDER_CHECK: a market or pending order checked without being sent. */
export interface CheckOrder extends OrderTerms {
  readonly symbol: string;
  readonly type: CheckOrderType;
  readonly volume: number;
  /** Pending types: the order price; market types: undefined (the current price). */
  readonly price: number | undefined;
  readonly deviation: number;
  readonly magic: number;
  readonly comment: string;
}

export interface MarginQuery {
  readonly symbol: string;
  readonly side: Side;
  readonly volume: number;
  readonly price: number;
}

export interface ProfitQuery {
  readonly symbol: string;
  readonly side: Side;
  readonly volume: number;
  readonly priceOpen: number;
  readonly priceClose: number;
}

/** A pending order changed at the broker; the fields are those of the stream event. */
export type OrderBackendEvent = { readonly type: OrderEventType } & OrderEventFields;

export type { OrderCheckResult };
