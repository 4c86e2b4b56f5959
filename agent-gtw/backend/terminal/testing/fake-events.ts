/**
 * Test-only: the fake EA's events (EA-LINK §12). The sim's trade events become DEAL (with
 * position_open), POSITION_CLOSED right after its closing DEAL, and POSITION_MODIFIED for a
 * change not caused by a deal (a MODIFY); its order events become ORDER events the way
 * OnTradeTransaction reports them (§12.5): a placement as ORDER_ADD and then ORDER_UPDATE (the
 * state change STARTED → PLACED, read when the EA handles it), a change or a stop-limit's
 * trigger as ORDER_UPDATE, an order leaving the book as HISTORY_ADD, sent before its fill's DEAL
 * as the reference describes a fill. SUBSCRIBE_TICKS scans quotes on a timer. Events of a
 * command are held until its REPLY went out, as the terminal queues OnTradeTransaction calls
 * while the EA is busy; nothing is buffered while the link is down.
 */
import type { Clock, TimerHandle } from "../../../../shared/clock.ts";
import type { TradeOrder } from "../../../../shared/protocol/index.ts";
import type { BackendEvent } from "../../backend.ts";
import type { EaRecord } from "./ea-json.ts";
import { type FakeEaState, shownTicket } from "./fake-reads.ts";
import { eaDeal, eaOrder, eaPosition } from "./fake-translate.ts";

type Send = (event: string, fields: EaRecord) => void;

interface Pending {
  readonly event: BackendEvent;
  /** Emitted while the fake ran a MODIFY (TRADE_TRANSACTION_POSITION). */
  readonly fromModify: boolean;
}

export class EaEventPump {
  readonly #ea: FakeEaState;
  readonly #clock: Clock;
  readonly #send: Send;
  #seq = 0;
  #held = false;
  #modifying = false;
  #flushScheduled = false;
  #pending: Pending[] = [];
  #quoteTimer: TimerHandle | undefined;
  readonly #lastQuote = new Map<string, string>();

  constructor(ea: FakeEaState, clock: Clock, send: Send) {
    this.#ea = ea;
    this.#clock = clock;
    this.#send = send;
  }

  nextSeq(): number {
    this.#seq += 1;
    return this.#seq;
  }

  /** §12: seq starts at 1 after each HELLO_ACK. */
  newSession(): void {
    this.#seq = 0;
  }

  hold(): void {
    this.#held = true;
  }

  release(): void {
    this.#held = false;
    this.#flush();
  }

  modifying(active: boolean): void {
    this.#modifying = active;
  }

  linkDown(): void {
    this.#pending = [];
    this.#quoteTimer?.cancel();
    this.#quoteTimer = undefined;
    this.#lastQuote.clear();
  }

  simEvent(event: BackendEvent): void {
    if (event.type === "QUOTE" || event.type === "LINK_STATE") return;
    this.#pending.push({ event, fromModify: this.#modifying });
    if (this.#held || this.#flushScheduled) return;
    // One sim batch (a DEAL and its POSITION_CLOSED) arrives in one turn; send it together
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      if (!this.#held) this.#flush();
    });
  }

  /** CmdSubscribe: replaces the set; the first scan sends every current quote. */
  subscribe(symbols: readonly string[], throttleMs: number): void {
    this.#quoteTimer?.cancel();
    this.#quoteTimer = undefined;
    this.#lastQuote.clear();
    if (symbols.length === 0) return;
    const scan = async () => {
      for (const symbol of symbols) {
        const info = await this.#ea.sim.symbolInfo(symbol);
        if (info === undefined || this.#quoteTimer === undefined) continue;
        const key = `${info.bid}/${info.ask}/${info.quote_time}`;
        if (this.#lastQuote.get(symbol) === key) continue;
        this.#lastQuote.set(symbol, key);
        this.#send("QUOTE", {
          symbol,
          bid: info.bid,
          ask: info.ask,
          time: this.#ea.broker.toServer(info.quote_time),
        });
      }
    };
    this.#quoteTimer = this.#clock.setInterval(() => void scan(), throttleMs);
  }

  #flush(): void {
    const batch = this.#pending;
    this.#pending = [];
    const broker = this.#ea.broker;
    const order = (transaction: string, o: TradeOrder) =>
      this.#send("ORDER", { transaction, ...eaOrder(o, broker) });
    // A filled order reaches the history before its deal (HISTORY_ADD, then DEAL_ADD)
    const deals = new Set(
      batch.flatMap(({ event }) => (event.type === "DEAL" ? [event.deal.ticket] : [])),
    );
    const fills = new Map<number, TradeOrder>();
    for (const { event } of batch) {
      if (
        event.type === "ORDER_TRIGGERED" &&
        event.deal !== undefined &&
        deals.has(event.deal.ticket)
      ) {
        fills.set(event.deal.ticket, event.order);
      }
    }
    batch.forEach(({ event, fromModify }, index) => {
      if (event.type === "DEAL") {
        const filled = fills.get(event.deal.ticket);
        if (filled !== undefined) order("HISTORY_ADD", filled);
        const next = batch[index + 1]?.event;
        const closed = next?.type === "POSITION_CLOSED" && next.deal.ticket === event.deal.ticket;
        this.#send("DEAL", { ...eaDeal(event.deal, broker), position_open: !closed });
      } else if (event.type === "ORDER_PLACED") {
        order("ORDER_ADD", event.order);
        order("ORDER_UPDATE", event.order);
      } else if (event.type === "ORDER_MODIFIED") {
        order("ORDER_UPDATE", event.order);
      } else if (event.type === "ORDER_TRIGGERED") {
        // With a deal it went out before that deal; without one it became its limit order
        if (event.deal === undefined) order("ORDER_UPDATE", event.order);
        else if (!fills.has(event.deal.ticket)) order("HISTORY_ADD", event.order);
      } else if (
        event.type === "ORDER_CANCELED" ||
        event.type === "ORDER_EXPIRED" ||
        event.type === "ORDER_REJECTED"
      ) {
        order("HISTORY_ADD", event.order);
      } else if (event.type === "POSITION_CLOSED") {
        this.#send("POSITION_CLOSED", {
          ticket: event.ticket,
          symbol: event.symbol,
          reason: event.reason,
          deal: event.deal.ticket,
          price: event.deal.price,
          volume: event.deal.volume,
          profit: event.deal.profit,
          time: broker.toServer(event.deal.time),
        });
      } else if (event.type === "POSITION_MODIFIED" && fromModify) {
        const ticket = shownTicket(this.#ea, event.position.ticket);
        this.#send("POSITION_MODIFIED", {
          ...eaPosition(event.position, broker, ticket),
          partial: false,
        });
      }
    });
  }
}
