/**
 * One subscribed peer of the gateway's event stream (stream-hub.ts): what it subscribed to, its
 * bounded outbox, the per-symbol throttle and the pump that feeds the ROUTER only as fast as the
 * peer reads. Quotes are conflated (latest per symbol) once the peer falls behind; trade events
 * are never dropped: past the outbox cap the peer gets one RESYNC_REQUIRED event and its
 * subscription ends, so the gap is explicit.
 *
 * `seq` counts the events actually sent to this subscription, from 1. Conflated quotes never
 * took a number, so a gap at the peer always means a lost message.
 */
import type { Clock, TimerHandle } from "../../shared/clock.ts";
import {
  type EncodedEvent,
  encodeEventBody,
  encodeEventFrame,
  type QuoteSubscription,
  type SubscriptionState,
} from "../../shared/protocol/index.ts";
import { StreamOutbox } from "../../shared/stream-outbox.ts";

/** What the hub needs from the ROUTER (server/server.ts wires it). */
export interface StreamTransport {
  send(routingId: Uint8Array, frames: readonly Uint8Array[]): boolean;
  /** undefined when the peer is gone; `peer` changes when its routing id was handed over. */
  peerState(
    routingId: Uint8Array,
  ): { readonly peer: object; readonly queuedMessages: number } | undefined;
}

export interface PeerLimits {
  /** Trade events queued for one peer before it is cut off with RESYNC_REQUIRED. */
  readonly maxQueuedEvents: number;
  /**
   * Messages we let wait in the peer's socket queue. Well below the ROUTER's high-water mark, so
   * replies to this peer always find room; beyond it our own (conflating) outbox holds them.
   */
  readonly socketBudget: number;
  /** How soon to look again while the peer's socket queue is full (doubling up to 16×). */
  readonly retryMs: number;
}

interface SymbolState {
  throttleMs: number;
  lastSentAt: number;
  /** A quote held back by the throttle, sent when its window ends. */
  held: EncodedEvent | undefined;
}

export type DropReason = "gone" | "handed over" | "send failed" | "resync required";

export class StreamPeer {
  readonly key: string;
  readonly routingId: Uint8Array;
  /** The session's PeerInfo object: identity of this connection behind the routing id. */
  readonly peer: object;
  readonly client: string;
  readonly symbols = new Map<string, SymbolState>();
  events = false;
  seq = 0;
  readonly #outbox: StreamOutbox<EncodedEvent, EncodedEvent>;
  readonly #clock: Clock;
  readonly #limits: PeerLimits;
  readonly #transport: StreamTransport;
  readonly #dropped: (peer: StreamPeer, reason: DropReason) => void;
  readonly #overflowed: (peer: StreamPeer) => void;
  #final: EncodedEvent | undefined;
  #ended = false;
  #pumpScheduled = false;
  #retry: TimerHandle | undefined;
  #retryDelay = 0;
  #throttle: { timer: TimerHandle; at: number } | undefined;

  constructor(init: {
    key: string;
    routingId: Uint8Array;
    peer: object;
    client: string;
    clock: Clock;
    limits: PeerLimits;
    transport: StreamTransport;
    dropped: (peer: StreamPeer, reason: DropReason) => void;
    /** The outbox cap was hit: RESYNC_REQUIRED is on its way and the subscription ends. */
    overflowed: (peer: StreamPeer) => void;
  }) {
    this.key = init.key;
    this.routingId = init.routingId;
    this.peer = init.peer;
    this.client = init.client;
    this.#clock = init.clock;
    this.#limits = init.limits;
    this.#transport = init.transport;
    this.#dropped = init.dropped;
    this.#overflowed = init.overflowed;
    this.#outbox = new StreamOutbox(init.limits.maxQueuedEvents);
  }

  /** Overflowed: only the RESYNC_REQUIRED event is left to send, then the peer is dropped. */
  get ended(): boolean {
    return this.#ended;
  }

  get queuedEvents(): number {
    return this.#outbox.eventCount;
  }

  get conflated(): number {
    return this.#outbox.conflated;
  }

  state(): SubscriptionState {
    const quotes: QuoteSubscription[] = [];
    for (const [symbol, state] of this.symbols) {
      quotes.push({ symbol, throttle_ms: state.throttleMs });
    }
    return { quotes, events: this.events };
  }

  addSymbol(symbol: string, throttleMs: number): void {
    const existing = this.symbols.get(symbol);
    if (existing !== undefined) existing.throttleMs = throttleMs;
    else this.symbols.set(symbol, { throttleMs, lastSentAt: 0, held: undefined });
  }

  removeSymbol(symbol: string): void {
    this.symbols.delete(symbol);
    this.#outbox.dropQuote(symbol);
  }

  /** A new quote for a subscribed symbol: now, or when its throttle window ends. */
  offerQuote(symbol: string, quote: EncodedEvent, now: number): void {
    const state = this.symbols.get(symbol);
    if (state === undefined || this.#ended) return;
    if (state.throttleMs === 0 || now - state.lastSentAt >= state.throttleMs) {
      state.lastSentAt = now;
      state.held = undefined;
      this.#outbox.putQuote(symbol, quote);
      this.#schedule();
      return;
    }
    state.held = quote;
    this.#armThrottle(state.lastSentAt + state.throttleMs);
  }

  /** A trade event (or LINK_STATE): queued in order, never dropped. */
  pushEvent(event: EncodedEvent): void {
    if (this.#ended) return;
    if (!this.#outbox.pushEvent(event)) {
      this.#end(
        `more than ${this.#limits.maxQueuedEvents} events were waiting for this peer; resubscribe and RESYNC`,
      );
      return;
    }
    this.#schedule();
  }

  /** Stop everything: timers off, nothing more to send. */
  dispose(): void {
    this.#ended = true;
    this.#retry?.cancel();
    this.#retry = undefined;
    this.#throttle?.timer.cancel();
    this.#throttle = undefined;
    this.#outbox.clear();
    this.#final = undefined;
  }

  // -------------------------------------------------------------------------------------------

  #end(reason: string): void {
    this.#ended = true;
    this.#overflowed(this);
    this.#outbox.clear();
    this.#throttle?.timer.cancel();
    this.#throttle = undefined;
    this.#final = encodeEventBody("RESYNC_REQUIRED", { reason });
    this.#schedule();
  }

  #schedule(): void {
    // One pump per turn of the event loop: a burst of ticks is conflated before it is sent.
    if (this.#pumpScheduled || this.#retry !== undefined) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => this.#pump());
  }

  #pump(): void {
    this.#pumpScheduled = false;
    this.#retry = undefined;
    const state = this.#transport.peerState(this.routingId);
    if (state === undefined || state.peer !== this.peer) {
      this.#dropped(this, state === undefined ? "gone" : "handed over");
      return;
    }
    let budget = this.#limits.socketBudget - state.queuedMessages;
    if (budget > 0) this.#retryDelay = 0;
    while (budget > 0) {
      const next = this.#outbox.shiftEvent() ?? this.#outbox.shiftQuote() ?? this.#takeFinal();
      if (next === undefined) break;
      this.seq += 1;
      if (!this.#transport.send(this.routingId, [encodeEventFrame(next, this.seq)])) {
        this.#dropped(this, "send failed");
        return;
      }
      budget -= 1;
      if (next.type === "RESYNC_REQUIRED") {
        this.#dropped(this, "resync required");
        return;
      }
    }
    if (!this.#outbox.empty || this.#final !== undefined) {
      // The peer is not reading fast enough: let its socket drain, meanwhile quotes conflate.
      // Look again soon, less often while it stays stuck (its heartbeat ends a dead one).
      const base = this.#limits.retryMs;
      this.#retryDelay = Math.min(base * 16, this.#retryDelay === 0 ? base : this.#retryDelay * 2);
      this.#retry = this.#clock.setTimeout(() => this.#pump(), this.#retryDelay);
    }
  }

  #takeFinal(): EncodedEvent | undefined {
    const final = this.#final;
    this.#final = undefined;
    return final;
  }

  #armThrottle(at: number): void {
    if (this.#throttle !== undefined && this.#throttle.at <= at) return;
    this.#throttle?.timer.cancel();
    const delay = Math.max(0, at - this.#clock.now());
    this.#throttle = { at, timer: this.#clock.setTimeout(() => this.#releaseHeld(), delay) };
  }

  #releaseHeld(): void {
    this.#throttle = undefined;
    const now = this.#clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [symbol, state] of this.symbols) {
      if (state.held === undefined) continue;
      const due = state.lastSentAt + state.throttleMs;
      if (due <= now) {
        this.#outbox.putQuote(symbol, state.held);
        state.held = undefined;
        state.lastSentAt = now;
        this.#schedule();
      } else {
        next = Math.min(next, due);
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.#armThrottle(next);
  }
}
