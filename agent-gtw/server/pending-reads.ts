/**
 * The gateway's answers to the unsigned pending-order reads (GET_ORDERS, ORDER_CHECK,
 * CALC_MARGIN, CALC_PROFIT) and the current state of the order a PLACE created (GET_ORDER).
 * Reads change nothing, so they need no signature, journal or gate; a backend that cannot answer
 * them says NOT_SUPPORTED (read-failure.ts).
 */
import {
  ErrorCode,
  errorReply,
  orderSide,
  type PendingReadRequest,
  type Reply,
  type TradeOrder,
} from "../../shared/protocol/index.ts";
import type { Backend } from "../backend/backend.ts";
import { findHistoryOrder } from "../backend/market-reads.ts";
import type { JournalEntry } from "../orders/journal.ts";
import { activeOrder, orderFields } from "../orders/pending-orders.ts";
import { SEARCH_AFTER_MS, SEARCH_BEFORE_MS } from "../orders/reconcile.ts";

/**
 * The reply body (or a refusal) of a pending-order read; the caller wraps it in OK, and turns a
 * BackendError into NOT_SUPPORTED or MT5_LINK_DOWN (read-failure.ts).
 */
export async function answerPendingRead(
  request: PendingReadRequest,
  backend: Backend,
): Promise<object | Reply> {
  const unknown = (symbol: string) =>
    errorReply(request.id, ErrorCode.UNKNOWN_SYMBOL, `the broker does not know ${symbol}`);
  switch (request.action) {
    case "GET_ORDERS": {
      const filter =
        request.symbol !== undefined
          ? { symbol: request.symbol }
          : request.group !== undefined
            ? { group: request.group }
            : request.ticket !== undefined
              ? { ticket: request.ticket }
              : {};
      return { orders: await backend.orders(filter) };
    }
    case "ORDER_CHECK": {
      const pending = request.type !== "BUY" && request.type !== "SELL";
      const check = await backend.orderCheck({
        symbol: request.symbol,
        type: request.type,
        volume: request.volume,
        price: pending ? request.price : undefined,
        ...orderFields(request),
        deviation: request.deviation ?? 0,
        magic: request.magic ?? 0,
        comment: request.comment ?? "",
      });
      const figures = [check.balance, check.equity, check.profit, check.margin, check.margin_free];
      return figures.every(Number.isFinite) ? { check } : beyondNumbers(request.id);
    }
    case "CALC_MARGIN": {
      const margin = await backend.calcMargin({
        symbol: request.symbol,
        side: orderSide(request.type),
        volume: request.volume,
        price: request.price,
      });
      if (margin === undefined) return unknown(request.symbol);
      return Number.isFinite(margin) ? { margin } : beyondNumbers(request.id);
    }
    case "CALC_PROFIT": {
      const profit = await backend.calcProfit({
        symbol: request.symbol,
        side: orderSide(request.type),
        volume: request.volume,
        priceOpen: request.price_open,
        priceClose: request.price_close,
      });
      if (profit === undefined) return unknown(request.symbol);
      return Number.isFinite(profit) ? { profit } : beyondNumbers(request.id);
    }
  }
}

/** Volume × price beyond what a double holds: JSON would carry null, so say so instead. */
function beyondNumbers(id: string): Reply {
  return errorReply(
    id,
    ErrorCode.INVALID_REQUEST,
    "the volume and prices give an amount beyond what a number can hold; check them",
  );
}

/**
 * GET_ORDER of a PLACE that placed an order: that order as the broker shows it now, active or
 * in the history (filled, cancelled, expired, rejected). undefined for anything else, or when
 * the backend cannot say.
 */
export async function currentPendingOrder(
  entry: JournalEntry,
  backend: Backend,
  now: number,
): Promise<TradeOrder | undefined> {
  const ticket = (entry.reply as { order?: unknown } | null)?.order;
  if (entry.action !== "PLACE" || entry.state !== "FILLED" || typeof ticket !== "number") {
    return undefined;
  }
  const active = await activeOrder(backend, ticket);
  if (active !== undefined) return active;
  try {
    // Placed around the request: a range the broker reads quickly, unlike its whole history
    const placed = { from: entry.receivedAt - SEARCH_BEFORE_MS, to: now + SEARCH_AFTER_MS };
    return await findHistoryOrder(
      backend.market,
      { kind: "range", ...placed },
      (order) => order.ticket === ticket,
    );
  } catch {
    return undefined;
  }
}
