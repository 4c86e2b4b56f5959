/**
 * ORDER events (docs/EA-LINK.md §12.5) → the Backend's order events. The EA reports what
 * OnTradeTransaction tells it, an order snapshot per ORDER_ADD, ORDER_UPDATE and HISTORY_ADD;
 * what happened is worked out here, where it can be tested:
 *
 * - ORDER_ADD / ORDER_UPDATE of an order in state PLACED (or PARTIAL): a ticket first seen being
 *   added → ORDER_PLACED; a stop-limit that became a limit order → ORDER_TRIGGERED without a
 *   deal; any other change of its terms → ORDER_MODIFIED; the same terms again → nothing. An
 *   update of a ticket never seen (placed before this gateway watched) → ORDER_MODIFIED.
 *   Transitional states (STARTED, REQUEST_*) change nothing but mark a ticket being added.
 * - HISTORY_ADD: CANCELED, EXPIRED, REJECTED → that event; FILLED → ORDER_TRIGGERED with the
 *   deal of that order, whichever of the two arrives first (MT5 does not promise an order); a
 *   stop-limit in the history as FILLED placed its limit order under a new ticket: ORDER_TRIGGERED
 *   without a deal, and the limit order arrives as its own ORDER_PLACED.
 *
 * Memory is bounded: tickets and deals waiting to be paired are the most recent ones.
 */
import {
  type Deal,
  isStopLimit,
  PENDING_ORDER_TYPES,
  type TradeOrder,
} from "../../../shared/protocol/index.ts";
import type { BackendEvent } from "../backend.ts";
import { LinkProtocolError } from "./wire-fields.ts";

/** Orders whose last terms are kept; far more than an account holds pending at once. */
const KNOWN_ORDERS = 4096;
/** Fills waiting for their deal, and deals waiting for their order; they arrive together. */
const PAIRING = 64;

export const ORDER_TRANSACTIONS = ["ORDER_ADD", "ORDER_UPDATE", "HISTORY_ADD"] as const;
export type OrderTransaction = (typeof ORDER_TRANSACTIONS)[number];

const ADDING = "adding" as const;
const PENDING: ReadonlySet<string> = new Set(PENDING_ORDER_TYPES);

export class OrderEventMapper {
  readonly #known = new Map<number, TradeOrder | typeof ADDING>();
  readonly #awaitingDeal = new Map<number, TradeOrder>();
  readonly #dealsByOrder = new Map<number, Deal>();

  /** A new session: whatever was half-paired belongs to the old one (events are not buffered). */
  newSession(): void {
    this.#awaitingDeal.clear();
    this.#dealsByOrder.clear();
  }

  order(transaction: string, order: TradeOrder): BackendEvent[] {
    if (!(ORDER_TRANSACTIONS as readonly string[]).includes(transaction)) {
      throw new LinkProtocolError(
        `terminal: ORDER event transaction must be ${ORDER_TRANSACTIONS.join(", ")} (was ${transaction})`,
      );
    }
    // Market and close-by orders pass through the same transactions; their deals tell the story
    if (!PENDING.has(order.type)) return [];
    return transaction === "HISTORY_ADD" ? this.#left(order) : this.#active(transaction, order);
  }

  /** A DEAL event: the fill a FILLED order may be waiting for. */
  deal(deal: Deal): BackendEvent[] {
    const waiting = this.#awaitingDeal.get(deal.order);
    if (waiting !== undefined) {
      this.#awaitingDeal.delete(deal.order);
      return [{ type: "ORDER_TRIGGERED", order: waiting, deal }];
    }
    remember(this.#dealsByOrder, deal.order, deal, PAIRING);
    return [];
  }

  #active(transaction: string, order: TradeOrder): BackendEvent[] {
    const ticket = order.ticket;
    if (order.state === "STARTED" || order.state === "REQUEST_ADD") {
      if (!this.#known.has(ticket)) remember(this.#known, ticket, ADDING, KNOWN_ORDERS);
      return [];
    }
    if (order.state !== "PLACED" && order.state !== "PARTIAL") return [];
    const previous = this.#known.get(ticket);
    remember(this.#known, ticket, order, KNOWN_ORDERS);
    if (previous === ADDING || (previous === undefined && transaction === "ORDER_ADD")) {
      return [{ type: "ORDER_PLACED", order }];
    }
    if (previous !== undefined && isStopLimit(previous.type) && !isStopLimit(order.type)) {
      return [{ type: "ORDER_TRIGGERED", order }];
    }
    if (previous === undefined || changed(previous, order)) {
      return [{ type: "ORDER_MODIFIED", order }];
    }
    return [];
  }

  #left(order: TradeOrder): BackendEvent[] {
    this.#known.delete(order.ticket);
    switch (order.state) {
      case "CANCELED":
        return [{ type: "ORDER_CANCELED", order }];
      case "EXPIRED":
        return [{ type: "ORDER_EXPIRED", order }];
      case "REJECTED":
        return [{ type: "ORDER_REJECTED", order }];
      case "FILLED":
      case "PARTIAL": {
        if (isStopLimit(order.type)) return [{ type: "ORDER_TRIGGERED", order }];
        const deal = this.#dealsByOrder.get(order.ticket);
        if (deal === undefined) {
          remember(this.#awaitingDeal, order.ticket, order, PAIRING);
          return [];
        }
        this.#dealsByOrder.delete(order.ticket);
        return [{ type: "ORDER_TRIGGERED", order, deal }];
      }
      default:
        return [];
    }
  }
}

/** The terms a modification can change (the current price moves on its own). */
function changed(before: TradeOrder, after: TradeOrder): boolean {
  return (
    before.type !== after.type ||
    before.state !== after.state ||
    before.price_open !== after.price_open ||
    before.price_stoplimit !== after.price_stoplimit ||
    before.sl !== after.sl ||
    before.tp !== after.tp ||
    before.type_time !== after.type_time ||
    before.time_expiration !== after.time_expiration ||
    before.volume_current !== after.volume_current
  );
}

/** Set, moving the key to the newest end, and drop the oldest past `max`. */
function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}
