/**
 * Which deals on the stream are this agent's own orders, so the live view can take their effect
 * from the order's reply instead of a RESYNC after every fill (issue 17 §1).
 *
 * The gateway streams a DEAL for every fill and sends the order's reply; either may come first.
 * The reply carries what the DEAL lacks (the position's stops, the lots left after a CLOSE), so:
 *
 * - while our OPENs are in flight, a DEAL opening a position the view does not know may be one of
 *   them: it waits for a reply (at most one waiting deal per OPEN in flight);
 * - while our CLOSE of position T is in flight, a DEAL taking lots off T waits the same way;
 * - a reply applied before its DEAL leaves a note, and that DEAL is then recognised as ours.
 *
 * A waiting deal means the broker holds something the view does not show yet: the view is not in
 * sync until the reply explains it. When no order of ours is in flight any more and a deal is
 * still unexplained, it was not ours (or its order's outcome is unknown): the view owes a RESYNC.
 * Anything else (a deal no order of ours can explain, a close-by, a netting reversal) costs a
 * RESYNC, as before.
 */
import type { Deal } from "../../shared/protocol/index.ts";

/** Notes of replies applied before their DEAL; older ones are forgotten past this many. */
const MAX_NOTES = 4096;

export type DealVerdict =
  /** A reply of ours already applied its effect (patch the position's details from it). */
  | "explained"
  /** May be one of our orders in flight: wait for its reply. */
  | "waiting"
  /** Not ours: the positions need a RESYNC. */
  | "foreign";

export class OwnOrders {
  #opens = 0;
  readonly #closes = new Map<number, number>();
  /** Deals waiting for a reply, by deal ticket. */
  readonly #waiting = new Map<number, Deal>();
  /** Positions a reply opened (IN) or took lots off (OUT) whose DEAL has not come yet. */
  readonly #notes = new Map<number, "IN" | "OUT">();

  /** Deals waiting for a reply: while any does, the view is not in sync. */
  get waiting(): number {
    return this.#waiting.size;
  }

  get inFlight(): number {
    let closes = 0;
    for (const count of this.#closes.values()) closes += count;
    return this.#opens + closes;
  }

  /** An order of ours goes out: OPEN, or a CLOSE of `ticket`. */
  begin(
    order: { readonly action: "OPEN" } | { readonly action: "CLOSE"; readonly ticket: number },
  ) {
    if (order.action === "OPEN") this.#opens += 1;
    else this.#closes.set(order.ticket, (this.#closes.get(order.ticket) ?? 0) + 1);
  }

  /** It was answered (whatever the outcome). */
  end(order: { readonly action: "OPEN" } | { readonly action: "CLOSE"; readonly ticket: number }) {
    if (order.action === "OPEN") {
      this.#opens = Math.max(0, this.#opens - 1);
      return;
    }
    const left = (this.#closes.get(order.ticket) ?? 1) - 1;
    if (left > 0) this.#closes.set(order.ticket, left);
    else this.#closes.delete(order.ticket);
  }

  /** A DEAL from the stream; `known`: whether the view holds its position. */
  classify(deal: Deal, known: boolean): DealVerdict {
    if (deal.entry === "IN") {
      if (this.#notes.get(deal.position) === "IN") {
        this.#notes.delete(deal.position);
        return "explained";
      }
      if (!known && this.#waitingIns() < this.#opens) {
        this.#waiting.set(deal.ticket, deal);
        return "waiting";
      }
      return "foreign";
    }
    if (deal.entry === "OUT") {
      if (this.#notes.get(deal.position) === "OUT") {
        this.#notes.delete(deal.position);
        return "explained";
      }
      if (this.#closes.has(deal.position)) {
        this.#waiting.set(deal.ticket, deal);
        return "waiting";
      }
    }
    return "foreign";
  }

  /**
   * Our reply for position `ticket` came: the DEAL it made, if it was waiting (taken out), else
   * a note so that DEAL is recognised when it comes.
   */
  claim(ticket: number, entry: "IN" | "OUT"): Deal | undefined {
    for (const [dealTicket, deal] of this.#waiting) {
      if (deal.position === ticket && deal.entry === entry) {
        this.#waiting.delete(dealTicket);
        return deal;
      }
    }
    this.#notes.set(ticket, entry);
    if (this.#notes.size > MAX_NOTES) {
      const oldest = this.#notes.keys().next().value;
      if (oldest !== undefined) this.#notes.delete(oldest);
    }
    return undefined;
  }

  /**
   * With nothing of ours in flight, deals still waiting were not ours (or their order's outcome is
   * unknown): dropped, and true when there were any (the view owes a RESYNC).
   */
  settleIdle(): boolean {
    if (this.inFlight > 0 || this.#waiting.size === 0) return false;
    this.#waiting.clear();
    return true;
  }

  /** A RESYNC replaced the positions: nothing is waiting or noted any more. */
  reset(): void {
    this.#waiting.clear();
    this.#notes.clear();
  }

  #waitingIns(): number {
    let count = 0;
    for (const deal of this.#waiting.values()) if (deal.entry === "IN") count += 1;
    return count;
  }
}
