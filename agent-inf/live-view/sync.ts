/**
 * Keeps one lane's live view (live-view.ts) in step with its gateway's event stream and feeds
 * the strategies' streams (feed.ts).
 *
 * After every (re)connect: SUBSCRIBE (trade events, then the quote symbols one by one so an
 * unknown symbol refuses only itself), then RESYNC from the cursor (the last deal emitted, or
 * the subscription's start). Trade events arriving meanwhile are held back and merged with the
 * answer (merge.ts), so a gateway restart or a lost connection costs no fill and no
 * fill is told twice. A `seq` gap, RESYNC_REQUIRED, or the MT5 link coming back triggers the
 * same catch-up. While LIVE, each fill is passed on at once; the position a fill of our own made
 * comes from its order's reply (live-view.ts ownOrder), any other fill is followed by a RESYNC
 * to learn the position it made (a DEAL does not carry its SL/TP).
 *
 * Pending orders (issue 15): the RESYNC answer's `orders` replace the view's, and the order
 * events received meanwhile are applied over them in order (each carries the whole order, so the
 * last one wins, as for positions); each order event is passed on to the strategies' streams.
 */
import type { Clock } from "../../shared/clock.ts";
import { describeError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import {
  type Deal,
  ORDER_EVENT_TYPES,
  type OrderEvent,
  type Reply,
  type ResyncReply,
  type StreamEvent,
  type SubscribeReply,
} from "../../shared/protocol/index.ts";
import type { GatewayEvent, StatusListener } from "../gateway/events.ts";
import type { QueryBody } from "../gateway/gateway-client.ts";
import { GatewayRefused } from "../gateway/port.ts";
import type { FeedEventType, LaneFeed } from "./feed.ts";
import type { LiveView } from "./live-view.ts";
import { mergeResync, type WindowEvent } from "./merge.ts";
import { AccountRefresher, Teller } from "./tell.ts";

/** The part of GatewayClient the stream uses (a fake in unit tests). */
export interface StreamClient {
  readonly name: string;
  readonly connected: boolean;
  query(
    body: QueryBody,
    options?: { readonly timeoutMs?: number; readonly retries?: number },
  ): Promise<Reply>;
  onEvent(listener: (event: GatewayEvent) => void): () => void;
  onStatus(listener: StatusListener): () => void;
}

export type StreamState = "DISCONNECTED" | "SYNCING" | "LIVE";

/** A symbol the gateway would not stream, with its error_code (UNKNOWN_SYMBOL, …). */
export interface SymbolRefusal {
  readonly symbol: string;
  readonly code: string;
}

export interface LaneStreamOptions {
  readonly client: StreamClient;
  readonly view: LiveView;
  readonly feed: LaneFeed;
  /** Always streamed: the risk checks price orders on them. */
  readonly riskSymbols: readonly string[];
  readonly clock: Clock;
  readonly logger: Logger;
  /** Pause between attempts when SUBSCRIBE or RESYNC fails. */
  readonly retryMs?: number;
}

export interface StreamHealth {
  readonly state: StreamState;
  readonly positions_in_sync: boolean;
  readonly last_seq: number;
  readonly gaps: number;
  readonly resyncs: number;
  readonly symbols: readonly string[];
}

/** Events held back while syncing; past this they are dropped and the RESYNC repeated. */
const MAX_HELD_EVENTS = 50_000;

export class LaneStream {
  readonly #o: LaneStreamOptions;
  readonly #log: Logger;
  readonly #wanted = new Map<string, number>();
  readonly #unknown = new Set<string>();
  readonly #teller: Teller;
  readonly #account: AccountRefresher;
  #state: StreamState = "DISCONNECTED";
  #generation = 0;
  #lastSeq = 0;
  #gaps = 0;
  #resyncs = 0;
  /** Position events and DEALs received since the running RESYNC was sent. */
  #window: WindowEvent[] | undefined;
  /** Order events received since the running RESYNC was sent. */
  #orderWindow: OrderEvent[] | undefined;
  /** Trade events held back while SYNCING, in order. */
  #held: StreamEvent[] = [];
  #heldLost = false;
  #refreshing = false;
  #refreshOwed = false;
  #link: string | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  readonly #off: (() => void)[] = [];

  constructor(options: LaneStreamOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#account = new AccountRefresher(
      (body, opts) => options.client.query(body, opts),
      options.view,
      () => this.#state !== "DISCONNECTED",
    );
    this.#teller = new Teller(options.feed, () => {
      // A fill moved the balance and the margin: read the account again in the background, once
      // it is past half its age limit. The view keeps the old figures meanwhile (within that
      // limit): the risk checks read only equity, which a fill barely moves (it turns floating
      // profit into balance), while a read after every fill cost every order a second request.
      if (options.view.accountAging) this.#account.request();
    });
    for (const symbol of options.riskSymbols) this.#wanted.set(symbol, 1);
    options.view.onPositionsOwed = () => this.#owe();
    options.view.onAccountAging = () => {
      if (this.#state === "LIVE") this.#account.request();
    };
  }

  get state(): StreamState {
    return this.#state;
  }

  start(): void {
    const { client } = this.#o;
    this.#off.push(client.onEvent((event) => this.#onEvent(event)));
    this.#off.push(
      client.onStatus((status) => {
        if (status.type === "connected") this.#connected();
        else if (status.type === "disconnected") this.#disconnected();
      }),
    );
    if (client.connected) this.#connected();
  }

  stop(): void {
    for (const off of this.#off.splice(0)) off();
    this.#generation += 1;
    this.#state = "DISCONNECTED";
    this.#o.view.positionsInSync = false;
  }

  health(): StreamHealth {
    return {
      state: this.#state,
      positions_in_sync: this.#o.view.positionsInSync,
      last_seq: this.#lastSeq,
      gaps: this.#gaps,
      resyncs: this.#resyncs,
      symbols: [...this.#wanted.keys()].filter((symbol) => !this.#unknown.has(symbol)),
    };
  }

  /**
   * A strategy's stream wants quotes for `symbols`. Resolves with the ones the gateway refused
   * (an unknown symbol, a subscription limit); those are not held. While disconnected, or when
   * the gateway cannot be asked now, symbols are taken on trust and subscribed at the next sync.
   */
  acquire(symbols: readonly string[]): Promise<SymbolRefusal[]> {
    const refusedNow = symbols
      .filter((symbol) => this.#unknown.has(symbol))
      .map((symbol) => ({ symbol, code: "UNKNOWN_SYMBOL" }));
    const take = symbols.filter((symbol) => !this.#unknown.has(symbol));
    const added = take.filter((symbol) => !this.#wanted.has(symbol));
    for (const symbol of take) this.#wanted.set(symbol, (this.#wanted.get(symbol) ?? 0) + 1);
    if (added.length === 0 || this.#state === "DISCONNECTED") return Promise.resolve(refusedNow);
    const generation = this.#generation;
    return this.#serial(async () => {
      if (generation !== this.#generation) return refusedNow;
      let refused: SymbolRefusal[];
      try {
        refused = await this.#subscribeSymbols(added);
      } catch {
        return refusedNow;
      }
      for (const { symbol } of refused) {
        const count = (this.#wanted.get(symbol) ?? 1) - 1;
        if (count > 0) this.#wanted.set(symbol, count);
        else this.#wanted.delete(symbol);
      }
      return [...refusedNow, ...refused];
    });
  }

  release(symbols: readonly string[]): void {
    const dropped: string[] = [];
    for (const symbol of symbols) {
      const count = (this.#wanted.get(symbol) ?? 0) - 1;
      if (count > 0 || this.#o.riskSymbols.includes(symbol)) {
        if (count > 0) this.#wanted.set(symbol, count);
        continue;
      }
      this.#wanted.delete(symbol);
      this.#o.view.forgetQuote(symbol);
      if (!this.#unknown.delete(symbol)) dropped.push(symbol);
    }
    if (dropped.length === 0 || this.#state === "DISCONNECTED") return;
    void this.#serial(() =>
      this.#o.client.query({ action: "UNSUBSCRIBE", symbols: dropped }).catch(() => undefined),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Connection and sync

  #connected(): void {
    this.#newGeneration();
    const generation = this.#generation;
    this.#enter("SYNCING", "connected");
    this.#lastSeq = 0;
    this.#held = [];
    void this.#serial(() => this.#sync(generation, true));
  }

  #disconnected(): void {
    this.#newGeneration();
    this.#enter("DISCONNECTED", "connection to the gateway lost");
  }

  /**
   * What was running belongs to a connection that is gone: it checks the generation and gives
   * up. The new one starts at once instead of queueing behind requests that may only time out.
   */
  #newGeneration(): void {
    this.#generation += 1;
    this.#window = undefined;
    this.#orderWindow = undefined;
    this.#refreshing = false;
    this.#refreshOwed = false;
    this.#chain = Promise.resolve();
  }

  #enter(state: StreamState, reason: string): void {
    if (state !== "LIVE") this.#o.view.positionsInSync = false;
    if (this.#state === state) return;
    this.#state = state;
    this.#emit("STREAM_STATE", { state, reason });
  }

  /** Subscribe (when `subscribe`) and RESYNC until it works or the connection changes. */
  async #sync(generation: number, subscribe: boolean): Promise<void> {
    while (generation === this.#generation) {
      try {
        if (subscribe) {
          this.#lastSeq = 0;
          const reply = await this.#ask({ action: "SUBSCRIBE", events: true });
          this.#teller.startAt((reply as SubscribeReply).server_time);
          await this.#subscribeSymbols([...this.#wanted.keys()]);
          subscribe = false;
        }
        if (generation !== this.#generation) return;
        const again = await this.#refresh(generation);
        if (again && generation === this.#generation) this.#owe();
        return;
      } catch (error) {
        if (generation !== this.#generation) return;
        if (error instanceof GatewayRefused && error.errorCode === "UNKNOWN_ACTION") {
          // A gateway from before streaming: orders keep asking it for their snapshot
          this.#log.warn("The gateway does not stream events; orders use queries", {
            gateway: this.#o.client.name,
          });
          this.#enter("DISCONNECTED", "the gateway does not stream events");
          return;
        }
        this.#log.warn("Stream sync failed; retrying", { error: describeError(error) });
        await new Promise<void>((resolve) =>
          this.#o.clock.setTimeout(resolve, this.#o.retryMs ?? 1000),
        );
      }
    }
  }

  /** SUBSCRIBE each symbol alone, so one the gateway refuses costs only itself. */
  async #subscribeSymbols(symbols: readonly string[]): Promise<SymbolRefusal[]> {
    const refused: SymbolRefusal[] = [];
    await Promise.all(
      symbols.map(async (symbol) => {
        const reply = await this.#o.client.query({ action: "SUBSCRIBE", symbols: [symbol] });
        if (reply.status === "OK") {
          this.#unknown.delete(symbol);
          return;
        }
        const code = reply.error_code ?? reply.status;
        if (code === "UNKNOWN_SYMBOL") this.#unknown.add(symbol);
        refused.push({ symbol, code });
      }),
    );
    if (refused.length > 0) {
      this.#log.warn("The gateway refused quotes for some symbols", {
        refused: refused.map(({ symbol, code }) => `${symbol}: ${code}`).join(", "),
      });
    }
    return refused;
  }

  /**
   * RESYNC (all pages) and fold the answer in, then LIVE. True when positions need one more
   * RESYNC (a fill came meanwhile).
   */
  async #refresh(generation: number): Promise<boolean> {
    this.#refreshing = true;
    this.#refreshOwed = false;
    this.#window = [];
    this.#orderWindow = [];
    this.#resyncs += 1;
    try {
      const deals: Deal[] = [];
      let page = this.#teller.cursor ?? { time: this.#o.clock.now(), ticket: 0 };
      let reply: ResyncReply;
      for (;;) {
        reply = (await this.#ask({
          action: "RESYNC",
          since: page.time,
          after_deal: page.ticket,
        })) as ResyncReply;
        deals.push(...reply.deals);
        const last = reply.deals.at(-1);
        if (!reply.more || last === undefined) break;
        page = { time: last.time, ticket: last.ticket };
      }
      if (generation !== this.#generation) return false;
      const syncing = this.#state === "SYNCING";
      const held = syncing ? this.#held : [];
      const window = syncing ? held.filter(isWindowEvent) : (this.#window ?? []);
      const merged = mergeResync({
        before: this.#o.view.knownPositions,
        snapshot: reply.positions,
        deals,
        window,
        dealEmitted: (ticket) => this.#teller.dealTold(ticket),
        closeEmitted: (ticket) => this.#teller.closeTold(ticket),
        windowTold: !syncing,
      });
      this.#o.view.replacePositions([...merged.positions.values()]);
      const orderWindow = syncing ? held.filter(isOrderEvent) : (this.#orderWindow ?? []);
      let ordersFit = true;
      this.#o.view.replaceOrders(reply.orders);
      for (const event of orderWindow)
        ordersFit = this.#o.view.applyOrder(event.order) && ordersFit;
      for (const emission of merged.emissions) this.#teller.tell(emission);
      // Held events that are not about positions (the MT5 link, orders) go out after the catch-up
      for (const event of held) {
        if (event.event === "LINK_STATE") this.#onLink(event);
        else if (isOrderEvent(event)) this.#tellOrder(event);
      }
      this.#held = [];
      const again = merged.again || !ordersFit || this.#heldLost || this.#refreshOwed;
      this.#heldLost = false;
      this.#refreshOwed = false;
      this.#window = undefined;
      this.#orderWindow = undefined;
      this.#enter("LIVE", syncing ? "resynced" : "refreshed");
      this.#o.view.positionsInSync = !again;
      return again;
    } finally {
      // A RESYNC of an earlier connection must not clear the flag of the current one's
      if (generation === this.#generation) this.#refreshing = false;
    }
  }

  /** Positions need a RESYNC (a fill, the link back): one at a time, coalesced. */
  #owe(): void {
    this.#o.view.positionsInSync = false;
    if (this.#refreshing) {
      this.#refreshOwed = true;
      return;
    }
    if (this.#state !== "LIVE") return;
    this.#refreshing = true;
    const generation = this.#generation;
    void this.#serial(() => this.#sync(generation, false));
  }

  async #ask(body: QueryBody): Promise<Reply> {
    const reply = await this.#o.client.query(body);
    if (reply.status !== "OK") throw new GatewayRefused(body.action, reply);
    return reply;
  }

  #serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.#chain.then(run, run);
    this.#chain = next.catch(() => undefined);
    return next;
  }

  // -------------------------------------------------------------------------------------------
  // Events

  #onEvent({ event, seq }: GatewayEvent): void {
    if (this.#state === "DISCONNECTED") return;
    if (seq !== this.#lastSeq + 1 && this.#state === "LIVE") {
      this.#gaps += 1;
      this.#log.warn("Stream gap: events were lost; resyncing", {
        expected: this.#lastSeq + 1,
        seq,
      });
      this.#lastSeq = seq;
      this.#enter("SYNCING", `gap before seq ${seq}`);
      this.#held = [];
      if (event !== undefined) this.#hold(event);
      const generation = this.#generation;
      void this.#serial(() => this.#sync(generation, false));
      return;
    }
    this.#lastSeq = seq;
    if (event === undefined) return;
    if (event.event === "QUOTE") {
      // Only what we subscribed: a gateway sending others must not grow the view
      if (!this.#wanted.has(event.symbol)) return;
      const quote = { symbol: event.symbol, bid: event.bid, ask: event.ask, time: event.time };
      this.#o.view.setQuote(quote);
      this.#o.feed.publishQuote(quote);
      return;
    }
    if (event.event === "RESYNC_REQUIRED") {
      this.#log.warn("The gateway ended our stream; subscribing again", { reason: event.reason });
      this.#connected();
      return;
    }
    if (this.#state === "SYNCING") {
      this.#hold(event);
      return;
    }
    if (isWindowEvent(event)) this.#window?.push(event);
    if (isOrderEvent(event)) {
      this.#orderWindow?.push(event);
      if (!this.#o.view.applyOrder(event.order)) this.#owe();
      this.#tellOrder(event);
      return;
    }
    switch (event.event) {
      case "DEAL":
        this.#teller.tell({ type: "DEAL", deal: event.deal });
        // While a RESYNC runs its answer decides (the DEAL is in its window); else the view
        // knows whether one of our orders' replies explains it
        if (this.#refreshing || this.#o.view.onDeal(event.deal) === "foreign") this.#owe();
        break;
      case "POSITION_CLOSED":
        this.#o.view.removePosition(event.ticket);
        this.#teller.tell({
          type: "POSITION_CLOSED",
          ticket: event.ticket,
          symbol: event.symbol,
          reason: event.reason,
          deal: event.deal,
        });
        break;
      case "POSITION_MODIFIED":
        if (!this.#o.view.upsertPosition(event.position)) this.#owe();
        this.#teller.tell({ type: "POSITION_MODIFIED", position: event.position });
        break;
      case "LINK_STATE":
        this.#onLink(event);
        break;
    }
  }

  #hold(event: StreamEvent): void {
    if (this.#held.length >= MAX_HELD_EVENTS) {
      this.#held = [];
      this.#heldLost = true;
      return;
    }
    this.#held.push(event);
  }

  #onLink(event: Extract<StreamEvent, { event: "LINK_STATE" }>): void {
    const previous = this.#link;
    this.#link = event.mt5.link;
    this.#emit("LINK_STATE", { mt5: event.mt5 });
    // The EA does not buffer events while its link is down: catch up on what it missed
    if (event.mt5.link === "UP" && previous !== undefined && previous !== "UP") this.#owe();
  }

  #emit(type: FeedEventType, fields: Readonly<Record<string, unknown>>): void {
    this.#teller.emit(type, fields);
  }

  /** An order event for the strategies: the order, and the deal, retcode, comment it carries. */
  #tellOrder(event: OrderEvent): void {
    const { v: _v, seq: _seq, event: type, ...fields } = event;
    this.#emit(type, fields);
  }
}

function isOrderEvent(event: StreamEvent): event is OrderEvent {
  return (ORDER_EVENT_TYPES as readonly string[]).includes(event.event);
}

function isWindowEvent(event: StreamEvent): event is WindowEvent {
  return (
    event.event === "DEAL" ||
    event.event === "POSITION_CLOSED" ||
    event.event === "POSITION_MODIFIED"
  );
}
