/**
 * Folding a RESYNC answer into the live view (pure; sync.ts does the I/O). The answer
 * is a snapshot of positions plus the deals after our cursor; meanwhile events kept arriving.
 * The result is the positions as they are now and the events a strategy must see, each fill
 * exactly once and in deal-time order:
 *
 * - positions: the snapshot, then every position event received since the RESYNC was sent,
 *   re-applied in order. Events are full states (MODIFIED) or removals (CLOSED), so re-applying
 *   one the snapshot already reflects changes nothing, and the last event wins either way.
 * - deals: the answer's and the ones that arrived as events, minus those already emitted, sorted
 *   by (time, ticket); a closing deal whose position is gone is followed by its POSITION_CLOSED.
 * - what no event told: a position gone without a closing deal in sight (POSITION_CLOSED, reason
 *   UNKNOWN) and one whose volume or stops changed (POSITION_MODIFIED, e.g. a partial close at
 *   the terminal, which sends only a DEAL). After being away (SYNCING), a position that appeared
 *   meanwhile is told the same way, with its state now.
 *
 * A DEAL received during the RESYNC may have opened a position the snapshot missed; `again`
 * asks for one more RESYNC before the positions count as in sync.
 */

import type { Deal, Position, StreamEvent } from "../../shared/protocol/index.ts";

/** A position event or a DEAL, as received during the RESYNC. */
export type WindowEvent = Extract<
  StreamEvent,
  { event: "DEAL" | "POSITION_CLOSED" | "POSITION_MODIFIED" }
>;

export type Emission =
  | { readonly type: "DEAL"; readonly deal: Deal }
  | {
      readonly type: "POSITION_CLOSED";
      readonly ticket: number;
      readonly symbol: string;
      /** The closing deal's reason, or UNKNOWN when the position vanished without one. */
      readonly reason: string;
      readonly deal: Deal | null;
    }
  | { readonly type: "POSITION_MODIFIED"; readonly position: Position };

export interface MergeInput {
  /** The view's positions now (with live events applied, or as before a disconnect). */
  readonly before: ReadonlyMap<number, Position>;
  readonly snapshot: readonly Position[];
  /** The RESYNC answer's deals (all pages). */
  readonly deals: readonly Deal[];
  /** Events received since the RESYNC was sent, in order. */
  readonly window: readonly WindowEvent[];
  readonly dealEmitted: (ticket: number) => boolean;
  readonly closeEmitted: (ticket: number) => boolean;
  /**
   * The window's events were passed on as they came (LIVE). Else they were held back (SYNCING
   * after a reconnect or a gap), and every position not in `before` is told with its state.
   */
  readonly windowTold: boolean;
}

export interface MergeResult {
  readonly positions: Map<number, Position>;
  readonly emissions: Emission[];
  /** A DEAL arrived meanwhile: positions may miss it; RESYNC once more. */
  readonly again: boolean;
}

export function mergeResync(input: MergeInput): MergeResult {
  const positions = new Map<number, Position>();
  for (const position of input.snapshot) positions.set(position.ticket, position);
  const windowCloses = new Map<number, Extract<WindowEvent, { event: "POSITION_CLOSED" }>>();
  const candidates = new Map<number, Deal>();
  for (const deal of input.deals) candidates.set(deal.ticket, deal);
  let again = false;
  for (const event of input.window) {
    if (event.event === "POSITION_CLOSED") {
      positions.delete(event.ticket);
      windowCloses.set(event.ticket, event);
    } else if (event.event === "POSITION_MODIFIED") {
      positions.set(event.position.ticket, event.position);
    } else {
      again = true;
      candidates.set(event.deal.ticket, event.deal);
    }
  }

  const emissions: Emission[] = [];
  const closed = new Set<number>();
  const close = (ticket: number, symbol: string, reason: string, deal: Deal | null) => {
    if (closed.has(ticket) || input.closeEmitted(ticket)) return;
    closed.add(ticket);
    emissions.push({ type: "POSITION_CLOSED", ticket, symbol, reason, deal });
  };

  const deals = [...candidates.values()]
    .filter((deal) => !input.dealEmitted(deal.ticket))
    .sort((a, b) => a.time - b.time || a.ticket - b.ticket);
  for (const deal of deals) {
    emissions.push({ type: "DEAL", deal });
    if (deal.entry !== "IN" && !positions.has(deal.position)) {
      close(deal.position, deal.symbol, deal.reason, deal);
    }
  }

  for (const [ticket, event] of windowCloses) close(ticket, event.symbol, event.reason, event.deal);
  for (const [ticket, position] of input.before) {
    if (!positions.has(ticket)) close(ticket, position.symbol, "UNKNOWN", null);
  }
  for (const [ticket, position] of positions) {
    const previous = input.before.get(ticket);
    // After being away, a position we did not know: its DEAL told the opening, not its state
    const appeared = previous === undefined && !input.windowTold;
    if (appeared || (previous !== undefined && changed(previous, position))) {
      emissions.push({ type: "POSITION_MODIFIED", position });
    }
  }
  return { positions, emissions, again };
}

/** What the risk checks and a strategy care about: size and stops. */
function changed(a: Position, b: Position): boolean {
  return a.volume !== b.volume || a.sl !== b.sl || a.tp !== b.tp || a.side !== b.side;
}
