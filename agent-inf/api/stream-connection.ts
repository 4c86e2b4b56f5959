/**
 * One strategy's stream connection (SSE or WebSocket, stream.ts): what it asked for, its
 * bounded outbox, and the messages in the order it must see them.
 *
 * The first message is a SNAPSHOT (positions, the quotes it asked for, the stream state), unless
 * the strategy resumes with a Last-Event-ID the lane still has, in which case it gets exactly
 * the events it missed. Then quotes (conflated per symbol when the reader is slow) and trade
 * events (never dropped). A reader that falls more than `maxQueuedEvents` events behind gets a
 * final RESYNC_REQUIRED message and is disconnected: it reconnects and resyncs, nothing is
 * lost silently.
 */
import { StreamOutbox } from "../../shared/stream-outbox.ts";
import type { BarPair, BarWatcher } from "../live-view/bars.ts";
import type { FeedEvent, FeedListener, LaneFeed } from "../live-view/feed.ts";
import { quoteJson, wants } from "../live-view/feed.ts";
import type { LiveView } from "../live-view/live-view.ts";
import type { LaneStream } from "../live-view/sync.ts";

/** A message ready to frame: SSE needs the event name and id, WebSocket only the JSON. */
export interface StreamMessage {
  readonly event: string;
  readonly id: string | undefined;
  readonly json: string;
}

export interface ConnectionOptions {
  readonly feed: LaneFeed;
  readonly view: LiveView;
  readonly sync: LaneStream;
  readonly quotes: ReadonlySet<string>;
  readonly events: boolean;
  /** Closed bars of these pairs ("EURUSD:M1"), from the lane's bar watcher. */
  readonly bars: ReadonlySet<BarPair>;
  readonly watcher: BarWatcher;
  readonly maxQueuedEvents: number;
  /** Resume after this event id, when the feed still has what followed it. */
  readonly lastEventId?: string;
  /** Something new is queued: the transport should write. */
  readonly wake: () => void;
  /** The reader fell too far behind (for metrics and the log). */
  readonly overflowed: () => void;
  /** A last message was queued: the transport must not wait forever for it to be read. */
  readonly ending: () => void;
}

export class StreamConnection implements FeedListener {
  readonly events: boolean;
  readonly #o: ConnectionOptions;
  readonly #outbox: StreamOutbox<StreamMessage, StreamMessage>;
  #final: StreamMessage | undefined;
  #finished = false;
  #detach: (() => void) | undefined;

  constructor(options: ConnectionOptions) {
    this.#o = options;
    this.events = options.events;
    this.#outbox = new StreamOutbox(options.maxQueuedEvents);
  }

  /**
   * Join the lane's feed and queue the opening messages. Both in one synchronous step, so the
   * snapshot and the events that follow it fit together exactly.
   */
  start(): void {
    const { feed, view, sync, watcher, bars } = this.#o;
    const missed = this.#resumable();
    this.#detach = feed.add(this);
    if (missed !== undefined) {
      for (const event of missed) if (wants(this, event)) this.event(event);
    } else {
      const health = sync.health();
      const snapshot = {
        event: "SNAPSHOT",
        gateway: feed.gateway,
        id: feed.lastId,
        state: health.state,
        ...(this.events
          ? {
              positions: [...view.knownPositions.values()],
              positions_in_sync: health.positions_in_sync,
            }
          : {}),
        quotes: [...this.#o.quotes].flatMap((symbol) => {
          const quote = view.quote(symbol);
          return quote === undefined
            ? []
            : [{ symbol, bid: quote.bid, ask: quote.ask, time: quote.time }];
        }),
        ...(bars.size === 0
          ? {}
          : {
              bars: [...bars].flatMap((pair) => {
                const bar = watcher.lastBar(pair);
                const [symbol, timeframe] = pair.split(":");
                return bar === undefined ? [] : [{ symbol, timeframe, bar }];
              }),
            }),
      };
      this.#outbox.pushEvent({
        event: "SNAPSHOT",
        id: feed.lastId,
        json: JSON.stringify(snapshot),
      });
      this.#o.wake();
      return;
    }
    // A resume: the quotes are not replayed, the current ones are the news
    for (const symbol of this.#o.quotes) {
      const quote = view.quote(symbol);
      if (quote !== undefined) this.quote(symbol, quoteJson(feed.gateway, quote));
    }
    this.#o.wake();
  }

  /**
   * The events missed since Last-Event-ID, when they can all be given: the feed still has them
   * and every bar pair asked for was watched all along (else a SNAPSHOT starts over).
   */
  #resumable(): FeedEvent[] | undefined {
    const last = this.#o.lastEventId;
    if (last === undefined) return undefined;
    const missed = this.#o.feed.since(last);
    if (missed === undefined || this.#o.bars.size === 0) return missed;
    const n = Number(last.split("-")[1]);
    return this.#o.watcher.coversSince(this.#o.bars, n) ? missed : undefined;
  }

  wantsBars(pair: string): boolean {
    return this.#o.bars.has(pair);
  }

  /** No more messages: the final one was taken, or the connection closed. */
  get finished(): boolean {
    return this.#finished;
  }

  wantsQuote(symbol: string): boolean {
    return this.#o.quotes.has(symbol);
  }

  quote(symbol: string, json: string): void {
    if (this.#final !== undefined || this.#finished) return;
    this.#outbox.putQuote(symbol, { event: "QUOTE", id: undefined, json });
    this.#o.wake();
  }

  event(event: FeedEvent): void {
    if (this.#final !== undefined || this.#finished) return;
    if (!this.#outbox.pushEvent({ event: event.type, id: event.id, json: event.json })) {
      this.#o.overflowed();
      this.end(
        "RESYNC_REQUIRED",
        `this stream fell more than ${this.#o.maxQueuedEvents} events behind and is closed; reconnect (with Last-Event-ID) to resync`,
      );
      return;
    }
    this.#o.wake();
  }

  /** A last message is queued (or taken): nothing else will be. */
  get ending(): boolean {
    return this.#final !== undefined || this.#finished;
  }

  /** Queue a last message (RESYNC_REQUIRED, SHUTDOWN) after which the stream ends. */
  end(event: string, reason: string): void {
    if (this.#final !== undefined || this.#finished) return;
    this.#outbox.clear();
    this.#final = {
      event,
      id: undefined,
      json: JSON.stringify({ event, gateway: this.#o.feed.gateway, reason }),
    };
    this.#detach?.();
    this.#o.ending();
    this.#o.wake();
  }

  /** The next message to write, events before quotes; undefined when there is none now. */
  next(): StreamMessage | undefined {
    const message = this.#outbox.shiftEvent() ?? this.#outbox.shiftQuote();
    if (message !== undefined) return message;
    const final = this.#final;
    if (final !== undefined) {
      this.#final = undefined;
      this.#finished = true;
    }
    return final;
  }

  /** Quotes replaced by a newer one before this reader took them. */
  get conflated(): number {
    return this.#outbox.conflated;
  }

  get pending(): boolean {
    return !this.#outbox.empty || this.#final !== undefined;
  }

  /** The reader went away: leave the feed and forget what was queued. */
  dispose(): void {
    this.#finished = true;
    this.#detach?.();
    this.#outbox.clear();
    this.#final = undefined;
  }
}
