/**
 * EVENT frames → BackendEvents (docs/EA-LINK.md §12, §14). POSITION_CLOSED carries only the
 * closing deal's ticket; the full deal came in the DEAL event just before it, so recent deals
 * are kept (bounded) to pair them. ORDER events become order events in order-events.ts (a fill
 * pairs with its DEAL, so one frame may give two events). Unknown event names are ignored
 * (newer EAs may add some); a known event with a malformed field throws LinkProtocolError.
 */
import type { Logger } from "../../../shared/log.ts";
import type { Deal } from "../../../shared/protocol/index.ts";
import type { BackendEvent } from "../backend.ts";
import { dealReason, type ServerTime, toDeal, toPosition } from "./mapping.ts";
import { OrderEventMapper } from "./order-events.ts";
import { toTradeOrder } from "./pending-mapping.ts";
import { WireFields } from "./wire-fields.ts";

/** Deals remembered for pairing; POSITION_CLOSED follows its DEAL at once (§12.2). */
const RECENT_DEALS = 64;

export class EventMapper {
  readonly #logger: Logger;
  readonly #recentDeals = new Map<number, Deal>();
  readonly #orders = new OrderEventMapper();
  #lastSeq = 0;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** §12: seq restarts at 1 after each HELLO_ACK. */
  newSession(): void {
    this.#lastSeq = 0;
    this.#recentDeals.clear();
    this.#orders.newSession();
  }

  map(message: Readonly<Record<string, unknown>>, time: ServerTime): BackendEvent[] {
    const fields = new WireFields(message, "EVENT");
    const seq = fields.integer("seq");
    if (seq !== this.#lastSeq + 1) {
      // §12 says a gap cannot happen within a session; worth knowing, not worth dropping the link
      this.#logger.warn("EA event sequence jumped", { expected: this.#lastSeq + 1, seq });
    }
    this.#lastSeq = seq;
    const name = fields.string("event");
    const what = new WireFields(message, `${name} event`);
    switch (name) {
      case "DEAL": {
        const deal = this.#deal(what, time);
        return [{ type: "DEAL", deal }, ...this.#orders.deal(deal)];
      }
      case "POSITION_CLOSED":
        return this.#closed(what);
      case "POSITION_MODIFIED":
        // §12.3: a partial event names a position that is already gone; the DEAL events tell more
        if (what.boolean("partial")) return [];
        return [{ type: "POSITION_MODIFIED", position: toPosition(what, time) }];
      case "ORDER":
        return this.#orders.order(what.string("transaction"), toTradeOrder(what, time));
      case "QUOTE":
        return [
          {
            type: "QUOTE",
            symbol: what.string("symbol"),
            bid: what.number("bid"),
            ask: what.number("ask"),
            time: time.toUnix(what.integer("time")),
          },
        ];
      default:
        this.#logger.debug("Unknown EA event ignored", { event: name, seq });
        return [];
    }
  }

  #deal(fields: WireFields, time: ServerTime): Deal {
    const { deal, unknownReason } = toDeal(fields, time);
    fields.boolean("position_open");
    if (unknownReason !== undefined) {
      this.#logger.info("Deal reason reported as CLIENT", {
        deal: deal.ticket,
        reason: unknownReason,
      });
    }
    this.#recentDeals.set(deal.ticket, deal);
    if (this.#recentDeals.size > RECENT_DEALS) {
      const oldest = this.#recentDeals.keys().next().value as number;
      this.#recentDeals.delete(oldest);
    }
    return deal;
  }

  #closed(fields: WireFields): BackendEvent[] {
    const ticket = fields.integer("ticket");
    const dealTicket = fields.integer("deal");
    const symbol = fields.string("symbol");
    const deal = this.#recentDeals.get(dealTicket);
    if (deal === undefined) {
      this.#logger.warn("POSITION_CLOSED without its DEAL event; reconciliation will see it", {
        ticket,
        deal: dealTicket,
      });
      return [];
    }
    return [
      {
        type: "POSITION_CLOSED",
        ticket,
        symbol,
        reason: dealReason(fields.string("reason")).reason,
        deal,
      },
    ];
  }
}
