/**
 * Reconciliation (DESIGN §6): an intent whose outcome is unknown (the backend timed out, or the
 * gateway died between sending and recording) is resolved from what MT5 shows, never by sending
 * it again. OPEN and CLOSE leave deals carrying the comment tag derived from the
 * client_order_id; MODIFY leaves the position's stops. The pending-order actions are
 * reconciled in reconcile-pending.ts.
 */

import {
  type Deal,
  hasCommentTag,
  type Position,
  Retcode,
  type TradeReply,
} from "../../shared/protocol/index.ts";
import type { Backend } from "../backend/backend.ts";
import type { JournalEntry } from "./journal.ts";
import { isPendingAction } from "./pending-orders.ts";
import { reconcilePending } from "./reconcile-pending.ts";
import type { Reconciliation } from "./reconciliation.ts";

/** Deals are searched from this long before the intent was received (clock differences). */
export const SEARCH_BEFORE_MS = 5 * 60_000;
/** ... to this long after now (broker clock ahead of ours). */
export const SEARCH_AFTER_MS = 5 * 60_000;

/**
 * Decide what happened to `entry`. Call it only when nothing for this intent can still be in
 * flight at the backend (after its timeout, or after a restart).
 */
export async function reconcile(
  entry: JournalEntry,
  backend: Backend,
  now: number,
  defaultMagic: number,
  /** Search from this time instead of the intent's (a broker tag the journal lost is older). */
  since: number = entry.receivedAt,
): Promise<Reconciliation> {
  if (backend.link().state === "DOWN") return { state: "UNKNOWN", reason: "MT5 link is down" };
  const request = entry.request;
  // OPENs without a magic were sent with the gateway's default; CLOSE deals carry the same.
  const magic = typeof request["magic"] === "number" ? request["magic"] : defaultMagic;
  if (isPendingAction(entry.action)) {
    return reconcilePending(entry, backend, {
      magic,
      from: since - SEARCH_BEFORE_MS,
      to: now + SEARCH_AFTER_MS,
      base: baseReply(entry),
    });
  }
  try {
    if (entry.action === "MODIFY") return reconcileModify(entry, await backend.positions());
    const deals = await backend.deals({
      from: since - SEARCH_BEFORE_MS,
      to: now + SEARCH_AFTER_MS,
      magic,
    });
    const tagged = deals.filter((deal) => hasCommentTag(deal.comment, entry.brokerKey));
    if (tagged.length === 0) {
      // An open position carrying the tag also proves an OPEN (deal history can lag a fill).
      if (entry.action === "OPEN") {
        const position = (await backend.positions()).find((p) =>
          hasCommentTag(p.comment, entry.brokerKey),
        );
        if (position !== undefined)
          return { state: "FILLED", reply: replyFromPosition(entry, position) };
      }
      return { state: "NOT_EXECUTED", reply: null };
    }
    return { state: "FILLED", reply: replyFromDeals(entry, tagged) };
  } catch (error) {
    return { state: "UNKNOWN", reason: `backend: ${(error as Error).message}` };
  }
}

export function baseReply(
  entry: JournalEntry,
): Pick<TradeReply, "v" | "id" | "status" | "retcode" | "client_order_id"> {
  // The original request id: this stands for the reply the first execution would have sent.
  const id = typeof entry.request["id"] === "string" ? entry.request["id"] : "";
  return {
    v: 1,
    id,
    status: "FILLED",
    retcode: Retcode.DONE,
    client_order_id: entry.clientOrderId,
  };
}

function replyFromDeals(entry: JournalEntry, deals: readonly Deal[]): TradeReply {
  const first = deals[0] as Deal;
  const volume = deals.reduce((sum, deal) => sum + deal.volume, 0);
  return {
    ...baseReply(entry),
    ticket: first.position,
    deal: first.ticket,
    order: first.order,
    volume: Math.round(volume * 1e8) / 1e8,
    price: first.price,
  };
}

function replyFromPosition(entry: JournalEntry, position: Position): TradeReply {
  return {
    ...baseReply(entry),
    ticket: position.ticket,
    volume: position.volume,
    price: position.price_open,
    sl: position.sl,
    tp: position.tp,
  };
}

/** MODIFY is executed when the position now has the stops it asked for. */
function reconcileModify(entry: JournalEntry, positions: readonly Position[]): Reconciliation {
  const ticket = entry.request["ticket"];
  const position = positions.find((p) => p.ticket === ticket);
  if (position === undefined) return { state: "NOT_EXECUTED", reply: null };
  const wanted = (key: "sl" | "tp") =>
    key in entry.request ? (entry.request[key] as number | null) : position[key];
  if (position.sl === wanted("sl") && position.tp === wanted("tp")) {
    return {
      state: "FILLED",
      reply: { ...baseReply(entry), ticket: position.ticket, sl: position.sl, tp: position.tp },
    };
  }
  return { state: "NOT_EXECUTED", reply: null };
}
