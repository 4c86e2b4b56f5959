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
import { hasCommentTag } from "../shared/protocol/codec.ts";
import type { TradeOrder } from "../shared/protocol/pending-types.ts";
import type { Deal } from "../shared/protocol/types.ts";
import type { Backend } from "./backend/backend.ts";
import type { JournalEntry } from "./journal.ts";
import { baseReply, type Reconciliation, SEARCH_AFTER_MS, SEARCH_BEFORE_MS } from "./reconcile.ts";

const NOT_EXECUTED: Reconciliation = { state: "NOT_EXECUTED", reply: null };

export async function reconcilePending(
  entry: JournalEntry,
  backend: Backend,
  now: number,
  defaultMagic: number,
): Promise<Reconciliation> {
  if (backend.link().state === "DOWN") return { state: "UNKNOWN", reason: "MT5 link is down" };
  const request = entry.request;
  const magic = typeof request["magic"] === "number" ? request["magic"] : defaultMagic;
  const window = { from: entry.receivedAt - SEARCH_BEFORE_MS, to: now + SEARCH_AFTER_MS };
  try {
    switch (entry.action) {
      case "PLACE": {
        const tagged = (order: TradeOrder) => hasCommentTag(order.comment, entry.clientOrderId);
        const order =
          (await backend.orders()).find(tagged) ??
          (await backend.historyOrders({ ...window, magic })).find(tagged);
        return order === undefined ? NOT_EXECUTED : filled(entry, order.ticket, order);
      }
      case "MODIFY_ORDER": {
        const ticket = request["ticket"] as number;
        const order = (await backend.orders({ ticket }))[0];
        return order !== undefined && hasRequestedValues(request, order)
          ? filled(entry, ticket, order)
          : NOT_EXECUTED;
      }
      case "CANCEL": {
        const ticket = request["ticket"] as number;
        if ((await backend.orders({ ticket })).length > 0) return NOT_EXECUTED;
        // The order may have been placed long before the cancel: search the whole history
        const history = await backend.historyOrders({ from: 0, to: window.to });
        const order = history.find((o) => o.ticket === ticket && o.state === "CANCELED");
        return order === undefined ? NOT_EXECUTED : filled(entry, ticket, undefined);
      }
      case "CLOSE_BY": {
        const deals = (await backend.deals({ ...window, magic })).filter((deal) =>
          hasCommentTag(deal.comment, entry.clientOrderId),
        );
        return deals.length === 0 ? NOT_EXECUTED : closedBy(entry, deals);
      }
      default:
        return { state: "UNKNOWN", reason: `${entry.action} is not a pending-order action` };
    }
  } catch (error) {
    return { state: "UNKNOWN", reason: `backend: ${(error as Error).message}` };
  }
}

function filled(
  entry: JournalEntry,
  ticket: number,
  order: TradeOrder | undefined,
): Reconciliation {
  return {
    state: "FILLED",
    reply: {
      ...baseReply(entry),
      order: ticket,
      ...(order === undefined ? {} : { pending_order: order }),
    },
  };
}

function closedBy(entry: JournalEntry, deals: readonly Deal[]): Reconciliation {
  const first = deals[0] as Deal;
  return {
    state: "FILLED",
    reply: {
      ...baseReply(entry),
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
