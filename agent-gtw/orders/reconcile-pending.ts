/**
 * Reconciliation of the pending-order actions (reconcile.ts does OPEN, CLOSE, MODIFY): an intent
 * whose outcome is unknown is decided from what MT5 shows, never by sending it again.
 *
 * - PLACE: an active order, or a history order (it may have filled, been cancelled or expired
 *   since), carrying the comment tag of the client_order_id → FILLED with its ticket.
 * - MODIFY_ORDER: the order is still active and has every value the request asked for → FILLED.
 * - CANCEL: the order is in the history as CANCELED → FILLED; still active → NOT_EXECUTED.
 * - CLOSE_BY: deals carrying the tag → FILLED.
 * Anything else is NOT_EXECUTED; a backend that cannot answer leaves it UNKNOWN for later.
 */
import {
  type Deal,
  hasCommentTag,
  type TradeOrder,
  type TradeReply,
} from "../../shared/protocol/index.ts";
import type { Backend } from "../backend/backend.ts";
import { findHistoryOrder } from "../backend/market-reads.ts";
import type { JournalEntry } from "./journal.ts";
import type { Reconciliation } from "./reconciliation.ts";

const NOT_EXECUTED: Reconciliation = { state: "NOT_EXECUTED", reply: null };

/** What reconcile() worked out for every action: where to search, and the reply's base. */
export interface PendingSearch {
  /** The magic the request was sent with. */
  readonly magic: number;
  /** Unix ms: the window around the intent that deals and history orders are searched in. */
  readonly from: number;
  readonly to: number;
  readonly base: Pick<TradeReply, "v" | "id" | "status" | "retcode" | "client_order_id">;
}

/** Called by reconcile() (reconcile.ts) for PLACE, MODIFY_ORDER, CANCEL and CLOSE_BY. */
export async function reconcilePending(
  entry: JournalEntry,
  backend: Backend,
  search: PendingSearch,
): Promise<Reconciliation> {
  const request = entry.request;
  const { magic } = search;
  const window = { from: search.from, to: search.to };
  try {
    switch (entry.action) {
      case "PLACE": {
        const tagged = (order: TradeOrder) => hasCommentTag(order.comment, entry.brokerKey);
        const order =
          (await backend.orders()).find(tagged) ??
          (await findHistoryOrder(backend.market, { kind: "range", ...window }, tagged));
        return order === undefined ? NOT_EXECUTED : filled(search, order.ticket, order);
      }
      case "MODIFY_ORDER": {
        const ticket = request["ticket"] as number;
        const order = (await backend.orders({ ticket }))[0];
        return order !== undefined && hasRequestedValues(request, order)
          ? filled(search, ticket, order)
          : NOT_EXECUTED;
      }
      case "CANCEL": {
        const ticket = request["ticket"] as number;
        if ((await backend.orders({ ticket })).length > 0) return NOT_EXECUTED;
        // The order may have been placed long before the cancel: ask for it by ticket
        const order = await findHistoryOrder(
          backend.market,
          { kind: "ticket", ticket },
          (o) => o.state === "CANCELED",
        );
        return order === undefined ? NOT_EXECUTED : filled(search, ticket, undefined);
      }
      case "CLOSE_BY": {
        const deals = (await backend.deals({ ...window, magic })).filter((deal) =>
          hasCommentTag(deal.comment, entry.brokerKey),
        );
        return deals.length === 0 ? NOT_EXECUTED : closedBy(search, entry, deals);
      }
      default:
        return { state: "UNKNOWN", reason: `${entry.action} is not a pending-order action` };
    }
  } catch (error) {
    return { state: "UNKNOWN", reason: `backend: ${(error as Error).message}` };
  }
}

function filled(
  search: PendingSearch,
  ticket: number,
  order: TradeOrder | undefined,
): Reconciliation {
  return {
    state: "FILLED",
    reply: {
      ...search.base,
      order: ticket,
      ...(order === undefined ? {} : { pending_order: order }),
    },
  };
}

function closedBy(
  search: PendingSearch,
  entry: JournalEntry,
  deals: readonly Deal[],
): Reconciliation {
  const first = deals[0] as Deal;
  return {
    state: "FILLED",
    reply: {
      ...search.base,
      ticket: entry.request["ticket"] as number,
      ticket_by: entry.request["ticket_by"] as number,
      deal: first.ticket,
      order: first.order,
      volume: first.volume,
      price: first.price,
    },
  };
}

/** Every field the MODIFY_ORDER asked for is what the order now has. */
function hasRequestedValues(
  request: Readonly<Record<string, unknown>>,
  order: TradeOrder,
): boolean {
  const asked = (name: string) => Object.hasOwn(request, name);
  if (asked("price") && request["price"] !== order.price_open) return false;
  if (asked("stoplimit") && request["stoplimit"] !== order.price_stoplimit) return false;
  if (asked("sl") && request["sl"] !== order.sl) return false;
  if (asked("tp") && request["tp"] !== order.tp) return false;
  if (asked("type_time") && request["type_time"] !== order.type_time) return false;
  // SPECIFIED keeps the time given; SPECIFIED_DAY shows the end of that trading day instead
  if (asked("expiration") && order.type_time === "SPECIFIED") {
    return request["expiration"] === order.time_expiration;
  }
  return true;
}
