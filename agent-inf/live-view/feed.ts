/**
 * What one gateway lane offers the strategies' streams (api/stream.ts): quotes as they arrive,
 * and trade events (fills, SL/TP hits, position changes, link and stream state) each with an id
 * that increases by one per event of the lane. The last few hundred events are kept, so a
 * strategy that reconnects with `Last-Event-ID` gets what it missed instead of a resync.
 *
 * Every message is serialized once here and shared by all the connections that want it.
 */
import type { LiveQuote } from "./live-view.ts";

/** Trade event types of the local stream (docs/API.md §9). */
export type FeedEventType =
  | "DEAL"
  | "POSITION_CLOSED"
  | "POSITION_MODIFIED"
  | "LINK_STATE"
  | "STREAM_STATE"
  | "BAR"
  | "BAR_GAP";

export interface FeedEvent {
  readonly type: FeedEventType;
  /** `<epoch>-<n>`: the epoch tells this agent run apart from an earlier one. */
  readonly id: string;
  readonly n: number;
  /** The whole message, `{"event":…,"gateway":…,"id":…,…}`. */
  readonly json: string;
  /** LINK_STATE and STREAM_STATE reach quote-only streams too: they say whether prices flow. */
  readonly forAll: boolean;
  /** BAR and BAR_GAP: the "SYMBOL:TIMEFRAME" pair; only streams that asked for it get them. */
  readonly pair?: string;
}

export interface FeedListener {
  readonly events: boolean;
  /** Whether this listener asked for the bars of a pair (bars.ts). */
  wantsBars?(pair: string): boolean;
  wantsQuote(symbol: string): boolean;
  quote(symbol: string, json: string): void;
  event(event: FeedEvent): void;
}

/** Events kept for Last-Event-ID resumes. */
export const REPLAY_EVENTS = 1024;

export class LaneFeed {
  readonly gateway: string;
  readonly #epoch: string;
  readonly #listeners = new Set<FeedListener>();
  readonly #ring: FeedEvent[] = [];
  readonly #ringSize: number;
  #n = 0;
  #observer: ((quote: LiveQuote) => void) | undefined;

  constructor(gateway: string, epoch: string, ringSize = REPLAY_EVENTS) {
    this.gateway = gateway;
    this.#epoch = epoch;
    this.#ringSize = ringSize;
  }

  get listeners(): number {
    return this.#listeners.size;
  }

  /** Id of the newest event ("" before the first); a SNAPSHOT carries it. */
  get lastId(): string {
    return this.#n === 0 ? `${this.#epoch}-0` : `${this.#epoch}-${this.#n}`;
  }

  add(listener: FeedListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Every quote, whoever streams it (the bar watcher learns from them when bars close). */
  observeQuotes(observer: (quote: LiveQuote) => void): void {
    this.#observer = observer;
  }

  publishQuote(quote: LiveQuote): void {
    this.#observer?.(quote);
    if (this.#listeners.size === 0) return;
    let json: string | undefined;
    for (const listener of this.#listeners) {
      if (!listener.wantsQuote(quote.symbol)) continue;
      json ??= quoteJson(this.gateway, quote);
      listener.quote(quote.symbol, json);
    }
  }

  /** Number of the newest event (0 before the first). */
  get lastN(): number {
    return this.#n;
  }

  /** `pair` routes the event to the streams that asked for that pair's bars only. */
  publishEvent(
    type: FeedEventType,
    fields: Readonly<Record<string, unknown>>,
    pair?: string,
  ): FeedEvent {
    this.#n += 1;
    const id = `${this.#epoch}-${this.#n}`;
    const event: FeedEvent = {
      type,
      id,
      n: this.#n,
      json: JSON.stringify({ event: type, gateway: this.gateway, id, ...fields }),
      forAll: type === "LINK_STATE" || type === "STREAM_STATE",
      ...(pair === undefined ? {} : { pair }),
    };
    this.#ring.push(event);
    if (this.#ring.length > this.#ringSize) this.#ring.shift();
    for (const listener of this.#listeners) {
      if (wants(listener, event)) listener.event(event);
    }
    return event;
  }

  /**
   * The events after `lastId`, or undefined when they cannot all be given (another agent run,
   * or older than the ring): the stream then starts over with a SNAPSHOT.
   */
  since(lastId: string): FeedEvent[] | undefined {
    const match = /^([0-9a-z]+)-(\d{1,15})$/.exec(lastId);
    if (match === null || match[1] !== this.#epoch) return undefined;
    const n = Number(match[2]);
    if (n > this.#n) return undefined;
    if (n === this.#n) return [];
    const oldest = this.#ring[0]?.n ?? this.#n + 1;
    if (n + 1 < oldest) return undefined;
    return this.#ring.filter((event) => event.n > n);
  }
}

/** Whether a listener gets an event: bars by pair, trade events with `events`, state for all. */
export function wants(listener: FeedListener, event: FeedEvent): boolean {
  if (event.pair !== undefined) return listener.wantsBars?.(event.pair) === true;
  return listener.events || event.forAll;
}

export function quoteJson(gateway: string, quote: LiveQuote): string {
  return `{"event":"QUOTE","gateway":${JSON.stringify(gateway)},"symbol":${JSON.stringify(quote.symbol)},"bid":${quote.bid},"ask":${quote.ask},"time":${quote.time}}`;
}
