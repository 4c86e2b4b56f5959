/**
 * The exposure of orders that passed the risk checks but that the market snapshot may not show
 * yet (issue 12 §1). Without it, N OPENs checked at once each see the same snapshot and all pass
 * a limit only some of them fit under; with it, each check counts what the others reserved.
 *
 * Life of a reservation (one per order that passed; the check and the reservation happen in one
 * synchronous step of the risk monitor, so no other check can run between them):
 *
 *   IN_FLIGHT ──FILLED──▶ SETTLED ──(no snapshot read older than the fill is open)──▶ gone
 *       │   └──REJECTED / ERROR / DENIED──▶ gone
 *       └──UNKNOWN──▶ UNKNOWN ──GET_ORDER says FILLED, or its position appears──▶ SETTLED
 *                            └──GET_ORDER says it never executed (and never can)──▶ gone
 *
 * Which snapshot shows what: every snapshot read is stamped (beginRead) with the ledger's epoch,
 * which moves on at every settlement. A read that began after a fill was recorded was asked after
 * the gateway had executed it (the gateway answers FILLED only then, and the live view is told of
 * our own fills before they are settled: live-view.ts ownOrder), so it shows the fill: the
 * position, or the smaller position after a partial close. A read that began before may or may
 * not, so a SETTLED reservation counts for older reads only, unless the snapshot plainly holds
 * its position (the ticket, or the comment tag of its client_order_id). IN_FLIGHT and UNKNOWN
 * reservations count for every read unless their position is already there.
 *
 * What is counted: OPEN (a market order; one position on its symbol), PLACE (a pending order:
 * the same, from placement until it is cancelled, expires or fills, and then as the position;
 * the snapshot's `orders` carry the placed ones), and CLOSE and CLOSE_BY (volume being taken off
 * a position, or off two, so two closes cannot both pass against volume only one can have). An
 * order that triggered may show in a snapshot both as an order and as its position (the two
 * lists read a moment apart): one with the position's ticket counts once, as the position.
 *
 * Pure state, no I/O and no clock: the caller passes times.
 */
import {
  brokerOrderKey,
  carriesTag,
  commentTag,
  type Position,
  type Side,
} from "../../shared/protocol/index.ts";

/** Exposure an OPEN or a PLACE adds until it is settled: one position (or order) on `symbol`. */
export interface PositionExposure {
  readonly kind: "OPEN" | "PLACE";
  readonly clientOrderId?: string | undefined;
  readonly symbol: string;
  readonly side: Side;
  readonly volume: number;
}

/** A CLOSE's claim on a position's volume; `volume` is what it takes off. */
export interface CloseExposure {
  readonly kind: "CLOSE";
  readonly clientOrderId?: string | undefined;
  readonly ticket: number;
  readonly volume: number;
}

/** A CLOSE_BY's claim on both positions: `volume`, the smaller one's, comes off each. */
export interface CloseByExposure {
  readonly kind: "CLOSE_BY";
  readonly clientOrderId?: string | undefined;
  readonly ticket: number;
  readonly ticketBy: number;
  readonly volume: number;
}

export type Exposure = PositionExposure | CloseExposure | CloseByExposure;

export type ReservationPhase = "IN_FLIGHT" | "UNKNOWN" | "SETTLED";

/** What a snapshot holds that a reservation's effect may already be part of. */
export interface ExposureSnapshot {
  readonly positions: readonly Pick<Position, "ticket" | "symbol" | "comment">[];
  /** Pending orders at the broker, when the snapshot has them (each may become a position). */
  readonly orders?:
    | readonly { readonly ticket: number; readonly symbol: string; readonly comment: string }[]
    | undefined;
}

/** Positions (and pending orders) that count against the limits, snapshot plus reservations. */
export interface ExposureCount {
  /** Positions and pending orders in the snapshot plus the reservations it does not show. */
  readonly total: number;
  /** How many of `total` are reservations. */
  readonly reserved: number;
  /** The same, on one symbol. */
  onSymbol(symbol: string): { readonly total: number; readonly reserved: number };
}

/** A reservation's handle: the order service settles it once it knows the outcome. */
export interface Reservation {
  readonly exposure: Exposure;
  readonly phase: ReservationPhase | "RELEASED";
  /**
   * Executed: `ticket` is the position (OPEN), the order (PLACE) or the closed one (CLOSE,
   * CLOSE_BY).
   */
  settle(ticket?: number): void;
  /** Nothing happened (REJECTED, ERROR, never executed): the exposure is gone. */
  release(): void;
  /** The outcome is not known: kept in full until it is (`now`: wall ms, for `unknowns`). */
  unknown(now: number): void;
}

/** A snapshot read in progress; end() it once the decision that used it is taken. */
export interface SnapshotRead {
  readonly epoch: number;
  end(): void;
}

export interface UnknownReservation {
  readonly clientOrderId: string;
  readonly exposure: Exposure;
  /** Wall ms since the outcome has been unknown. */
  readonly since: number;
}

interface Entry {
  readonly exposure: Exposure;
  phase: ReservationPhase;
  /** The epoch its fill was recorded at (SETTLED). */
  settledAt: number;
  ticket: number | undefined;
  unknownSince: number;
  /** The comment tag of its client_order_id, computed once (every check compares it). */
  readonly tag: string | undefined;
}

/** A read that never began: counts every reservation, as the oldest possible snapshot would. */
const OLDEST = -1;

export class ExposureLedger {
  /**
   * The name the gateway knows this host by (its PING reply's `client`): the gateway tags broker
   * comments with brokerOrderKey(client, id), so that is the tag a position of ours carries.
   * Unknown before the first PING, or from a gateway that does not scope ids: the plain id's tag.
   */
  clientName: string | undefined;
  #epoch = 0;
  readonly #entries = new Set<Entry>();
  /** Start epochs of the snapshot reads in progress, with how many began at each. */
  readonly #reads = new Map<number, number>();

  /** Reservations held now, by phase (health and metrics). */
  get held(): Readonly<Record<ReservationPhase, number>> {
    const held = { IN_FLIGHT: 0, UNKNOWN: 0, SETTLED: 0 };
    for (const entry of this.#entries) held[entry.phase] += 1;
    return held;
  }

  /** Stamp a snapshot read before it starts; end() it after the check that used it. */
  beginRead(): SnapshotRead {
    const epoch = this.#epoch;
    this.#reads.set(epoch, (this.#reads.get(epoch) ?? 0) + 1);
    let ended = false;
    return {
      epoch,
      end: () => {
        if (ended) return;
        ended = true;
        const left = (this.#reads.get(epoch) ?? 1) - 1;
        if (left > 0) this.#reads.set(epoch, left);
        else this.#reads.delete(epoch);
        this.#prune();
      },
    };
  }

  /** Positions and pending orders counted against the position limits for this snapshot. */
  count(snapshot: ExposureSnapshot, read?: SnapshotRead): ExposureCount {
    const epoch = read?.epoch ?? OLDEST;
    const bySymbol = new Map<string, { total: number; reserved: number }>();
    const add = (symbol: string, reserved: boolean) => {
      const counts = bySymbol.get(symbol) ?? { total: 0, reserved: 0 };
      counts.total += 1;
      if (reserved) counts.reserved += 1;
      bySymbol.set(symbol, counts);
    };
    const positionTickets = new Set<number>();
    for (const position of snapshot.positions) {
      positionTickets.add(position.ticket);
      add(position.symbol, false);
    }
    let orders = 0;
    for (const order of snapshot.orders ?? []) {
      // Triggered: its position is in the snapshot too, under the order's ticket
      if (positionTickets.has(order.ticket)) continue;
      add(order.symbol, false);
      orders += 1;
    }
    let reserved = 0;
    for (const entry of this.#entries) {
      const exposure = entry.exposure;
      if (!isPositionExposure(exposure) || !counts(entry, epoch)) continue;
      if (findShown(snapshot, entry) !== undefined) continue;
      add(exposure.symbol, true);
      reserved += 1;
    }
    const total = snapshot.positions.length + orders + reserved;
    return {
      total,
      reserved,
      onSymbol: (symbol) => bySymbol.get(symbol) ?? { total: 0, reserved: 0 },
    };
  }

  /**
   * Lots of position `ticket` that closes and close-bys in flight (or not yet in this snapshot)
   * take off.
   */
  closing(ticket: number, read?: SnapshotRead): number {
    const epoch = read?.epoch ?? OLDEST;
    let volume = 0;
    for (const entry of this.#entries) {
      const exposure = entry.exposure;
      if (isPositionExposure(exposure) || !counts(entry, epoch)) continue;
      const on =
        exposure.ticket === ticket ||
        (exposure.kind === "CLOSE_BY" && exposure.ticketBy === ticket);
      if (on) volume += exposure.volume;
    }
    return volume;
  }

  /** Reserve `exposure` now: call it in the same synchronous step as the check it passed. */
  reserve(exposure: Exposure): Reservation {
    const entry: Entry = {
      exposure,
      phase: "IN_FLIGHT",
      settledAt: 0,
      ticket: undefined,
      unknownSince: 0,
      tag:
        exposure.clientOrderId === undefined
          ? undefined
          : commentTag(brokerOrderKey(this.clientName ?? null, exposure.clientOrderId)),
    };
    this.#entries.add(entry);
    let released = false;
    return {
      exposure,
      get phase() {
        return released ? "RELEASED" : entry.phase;
      },
      settle: (ticket) => {
        if (!released) this.#settle(entry, ticket);
      },
      release: () => {
        if (released) return;
        released = true;
        this.#entries.delete(entry);
      },
      unknown: (now) => {
        if (released || entry.phase !== "IN_FLIGHT") return;
        entry.phase = "UNKNOWN";
        entry.unknownSince = now;
      },
    };
  }

  /** Reservations whose outcome is unknown, for the order service to ask the gateway about. */
  unknowns(): UnknownReservation[] {
    const out: UnknownReservation[] = [];
    for (const entry of this.#entries) {
      const id = entry.exposure.clientOrderId;
      if (entry.phase === "UNKNOWN" && id !== undefined)
        out.push({ clientOrderId: id, exposure: entry.exposure, since: entry.unknownSince });
    }
    return out;
  }

  /**
   * What the gateway says about an unknown outcome: "executed" (with the position's, the
   * order's or the closed position's ticket) or "not_executed" (never will: the exposure goes).
   */
  resolve(clientOrderId: string, outcome: "executed" | "not_executed", ticket?: number): void {
    for (const entry of this.#entries) {
      if (entry.phase !== "UNKNOWN" || entry.exposure.clientOrderId !== clientOrderId) continue;
      if (outcome === "executed") this.#settle(entry, ticket);
      else this.#entries.delete(entry);
    }
  }

  /**
   * An unknown OPEN or PLACE whose position (or order) a snapshot shows did execute: settled,
   * so it stops counting once every older read is done. Returns how many were resolved.
   */
  observe(snapshot: ExposureSnapshot): number {
    let resolved = 0;
    for (const entry of this.#entries) {
      const exposure = entry.exposure;
      if (entry.phase !== "UNKNOWN" || !isPositionExposure(exposure)) continue;
      const found = findShown(snapshot, entry);
      if (found === undefined) continue;
      this.#settle(entry, found);
      resolved += 1;
    }
    return resolved;
  }

  #settle(entry: Entry, ticket: number | undefined): void {
    if (entry.phase === "SETTLED") return;
    this.#epoch += 1;
    entry.phase = "SETTLED";
    entry.settledAt = this.#epoch;
    if (ticket !== undefined) entry.ticket = ticket;
    this.#prune();
  }

  /** SETTLED reservations no read in progress can need any more. */
  #prune(): void {
    let oldest = Number.POSITIVE_INFINITY;
    for (const epoch of this.#reads.keys()) oldest = Math.min(oldest, epoch);
    for (const entry of this.#entries)
      if (entry.phase === "SETTLED" && oldest >= entry.settledAt) this.#entries.delete(entry);
  }
}

function isPositionExposure(exposure: Exposure): exposure is PositionExposure {
  return exposure.kind === "OPEN" || exposure.kind === "PLACE";
}

/** Whether `entry` counts for a read that began at `epoch`. */
function counts(entry: Entry, epoch: number): boolean {
  return entry.phase !== "SETTLED" || epoch < entry.settledAt;
}

/** The ticket of the position or order in `snapshot` that is this reservation's, if any. */
function findShown(snapshot: ExposureSnapshot, entry: Entry): number | undefined {
  const tag = entry.tag;
  const mine = (item: { readonly ticket: number; readonly comment: string }) =>
    item.ticket === entry.ticket || (tag !== undefined && carriesTag(item.comment, tag));
  for (const position of snapshot.positions) if (mine(position)) return position.ticket;
  for (const order of snapshot.orders ?? []) if (mine(order)) return order.ticket;
  return undefined;
}
