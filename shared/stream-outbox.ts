/**
 * The bounded queue in front of one stream subscriber (a gateway peer, or an API connection of
 * agent-inf). Two kinds of items, two policies:
 *
 * - events (fills, SL/TP hits, link state): a FIFO, never dropped or reordered. Its length is
 *   capped so a reader that stopped cannot grow memory without bound; past the cap the outbox
 *   is "overflowed": it drops its events and refuses more, and its owner must tell the reader so
 *   (a final message) and end the stream. The gap is then explicit, never silent.
 * - quotes: conflated, the latest per key (symbol). A slow reader gets fewer quotes, never stale
 *   ones, and never more than one pending per symbol.
 *
 * Events go out before quotes: a reader that can take only a few messages gets the ones it
 * cannot rebuild. No I/O and no clock; the owner drains it as its transport accepts.
 */
export class StreamOutbox<E, Q> {
  readonly #maxEvents: number;
  #events: E[] = [];
  #head = 0;
  readonly #quotes = new Map<string, Q>();
  #overflowed = false;
  /** Quotes replaced by a newer one before they could be sent. */
  conflated = 0;

  constructor(maxEvents: number) {
    if (!Number.isSafeInteger(maxEvents) || maxEvents < 1) {
      throw new RangeError(`stream outbox: maxEvents must be a positive integer, was ${maxEvents}`);
    }
    this.#maxEvents = maxEvents;
  }

  get eventCount(): number {
    return this.#events.length - this.#head;
  }

  get quoteCount(): number {
    return this.#quotes.size;
  }

  get empty(): boolean {
    return this.#events.length === this.#head && this.#quotes.size === 0;
  }

  /** The cap was hit: nothing more is accepted and what was queued is gone. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  /** Queue an event; false (and overflowed from now on) when that would pass the cap. */
  pushEvent(event: E): boolean {
    if (this.#overflowed) return false;
    if (this.eventCount >= this.#maxEvents) {
      this.#overflowed = true;
      this.clear();
      return false;
    }
    this.#events.push(event);
    return true;
  }

  /** Make `quote` the pending one for `key`, replacing (conflating) any older pending quote. */
  putQuote(key: string, quote: Q): void {
    if (this.#overflowed) return;
    if (this.#quotes.has(key)) {
      this.conflated += 1;
      // Delete first so the key moves to the back: each symbol waits its turn, none starves.
      this.#quotes.delete(key);
    }
    this.#quotes.set(key, quote);
  }

  /** The oldest queued event, removed; undefined when there is none. */
  shiftEvent(): E | undefined {
    if (this.#head === this.#events.length) return undefined;
    const event = this.#events[this.#head] as E;
    this.#events[this.#head] = undefined as E;
    this.#head += 1;
    if (this.#head === this.#events.length) {
      this.#events = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#events.length) {
      // Compact now and then so a long-lived backlog does not keep a dead prefix alive.
      this.#events = this.#events.slice(this.#head);
      this.#head = 0;
    }
    return event;
  }

  /** The pending quote that has waited longest, removed; undefined when there is none. */
  shiftQuote(): Q | undefined {
    for (const [key, quote] of this.#quotes) {
      this.#quotes.delete(key);
      return quote;
    }
    return undefined;
  }

  /** Drop the pending quote of `key` (its subscription ended). */
  dropQuote(key: string): void {
    this.#quotes.delete(key);
  }

  /** Forget everything queued (events and quotes). */
  clear(): void {
    this.#events = [];
    this.#head = 0;
    this.#quotes.clear();
  }
}
