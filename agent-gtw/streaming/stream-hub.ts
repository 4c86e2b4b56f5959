/**
 * The gateway's event stream (issue 8, docs/PROTOCOL.md §13): one backend listener fanned out to
 * the connected peers that asked for it with SUBSCRIBE, over their existing CURVE connection
 * (ROUTER → DEALER). RESYNC answers positions and the deals since a cursor, so a peer that lost
 * its connection (or saw a gap in `seq`) can catch up without losing a fill.
 *
 * Subscription state lives per connected peer (routing id + session) and is dropped when the
 * peer disconnects: a reconnecting client subscribes again and resyncs. A peer nobody subscribed
 * costs nothing: the listener only remembers the last quote per symbol.
 */
import type { Clock, TimerHandle } from "../../shared/clock.ts";
import { describeError, FaultCode } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import {
  type Deal,
  type EncodedEvent,
  ErrorCode,
  encodeEventBody,
  errorReply,
  MAX_DEALS_PER_RESYNC,
  MAX_STREAM_SYMBOLS,
  okReply,
  type Reply,
  type ResyncRequest,
  type StreamRequest,
  type SubscribeRequest,
  type SubscriptionState,
  type TradeOrder,
  type UnsubscribeRequest,
} from "../../shared/protocol/index.ts";
import { type Backend, BackendError, type BackendEvent } from "../backend/backend.ts";
import { type DropReason, type PeerLimits, StreamPeer, type StreamTransport } from "./peer.ts";
import { TerminalTicks } from "./terminal.ts";

export type { StreamTransport } from "./peer.ts";

/** Who sent a streaming request: its routing id and the session's PeerInfo object. */
export interface StreamConnection {
  readonly routingId: Uint8Array;
  readonly peer: object;
}

export interface StreamHubOptions {
  readonly backend: Backend;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Trade events queued for one peer before it is cut off with RESYNC_REQUIRED. */
  readonly maxQueuedEvents?: number;
  /** Peers subscribed at once... */
  readonly maxSubscribers?: number;
  /** ...and of them, per client (its connections), so one client cannot take them all. */
  readonly maxSubscribersPerClient?: number;
  readonly socketBudget?: number;
  readonly retryMs?: number;
}

export const STREAM_DEFAULTS = {
  maxQueuedEvents: 10_000,
  maxSubscribers: 256,
  maxSubscribersPerClient: 16,
  socketBudget: 128,
  retryMs: 5,
  sweepMs: 1000,
} as const;

interface QuoteFields {
  readonly symbol: string;
  readonly bid: number;
  readonly ask: number;
  readonly time: number;
}

export interface StreamStats {
  readonly subscribers: number;
  readonly queued_events: number;
  readonly conflated_quotes: number;
  readonly resync_required: number;
}

export class StreamHub {
  readonly #options: StreamHubOptions;
  readonly #log: Logger;
  readonly #limits: PeerLimits;
  readonly #maxSubscribers: number;
  readonly #maxPerClient: number;
  readonly #peers = new Map<string, StreamPeer>();
  /** symbol → peers with quotes for it: a tick reaches only its readers. */
  readonly #bySymbol = new Map<string, Set<StreamPeer>>();
  /** The last quote per symbol, to seed a new subscription at once (encoded only then). */
  readonly #lastQuotes = new Map<string, QuoteFields>();
  #transport: StreamTransport | undefined;
  #unsubscribe: (() => void) | undefined;
  #sweep: TimerHandle | undefined;
  readonly #terminal: TerminalTicks;
  #resyncRequired = 0;
  #conflatedGone = 0;

  constructor(options: StreamHubOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#limits = {
      maxQueuedEvents: options.maxQueuedEvents ?? STREAM_DEFAULTS.maxQueuedEvents,
      socketBudget: options.socketBudget ?? STREAM_DEFAULTS.socketBudget,
      retryMs: options.retryMs ?? STREAM_DEFAULTS.retryMs,
    };
    this.#maxSubscribers = options.maxSubscribers ?? STREAM_DEFAULTS.maxSubscribers;
    this.#maxPerClient = options.maxSubscribersPerClient ?? STREAM_DEFAULTS.maxSubscribersPerClient;
    this.#terminal = new TerminalTicks(options.backend, options.logger, () => {
      const throttles: number[] = [];
      for (const peer of this.#peers.values()) {
        for (const sub of peer.symbols.values()) throttles.push(sub.throttleMs);
      }
      return { symbols: [...this.#bySymbol.keys()], throttles };
    });
  }

  /** The ROUTER side; set by the server before it binds. */
  attach(transport: StreamTransport): void {
    this.#transport = transport;
  }

  start(): void {
    this.#unsubscribe ??= this.#options.backend.subscribe((event) => this.#onBackend(event));
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#sweep?.cancel();
    this.#sweep = undefined;
    for (const peer of this.#peers.values()) peer.dispose();
    this.#peers.clear();
    this.#bySymbol.clear();
  }

  stats(): StreamStats {
    let queued = 0;
    let conflated = this.#conflatedGone;
    for (const peer of this.#peers.values()) {
      queued += peer.queuedEvents;
      conflated += peer.conflated;
    }
    return {
      subscribers: this.#peers.size,
      queued_events: queued,
      conflated_quotes: conflated,
      resync_required: this.#resyncRequired,
    };
  }

  /** SUBSCRIBE, UNSUBSCRIBE or RESYNC from one connection. */
  async handle(
    request: StreamRequest,
    connection: StreamConnection | undefined,
    client: string,
  ): Promise<Reply> {
    if (request.action === "RESYNC") return this.#resync(request);
    if (connection === undefined || this.#transport === undefined) {
      return errorReply(request.id, ErrorCode.INVALID_REQUEST, "streaming needs a connection");
    }
    return request.action === "SUBSCRIBE"
      ? this.#subscribe(request, connection, client)
      : this.#unsubscribeRequest(request, connection);
  }

  /** Drop the state of peers that disconnected (server/server.ts calls it on every disconnect). */
  sweep(): void {
    const transport = this.#transport;
    if (transport === undefined) return;
    for (const peer of [...this.#peers.values()]) {
      const state = transport.peerState(peer.routingId);
      if (state === undefined) this.#drop(peer, "gone");
      else if (state.peer !== peer.peer) this.#drop(peer, "handed over");
    }
  }

  // -------------------------------------------------------------------------------------------
  // Requests

  async #subscribe(
    request: SubscribeRequest,
    connection: StreamConnection,
    client: string,
  ): Promise<Reply> {
    const symbols = request.symbols ?? [];
    for (const symbol of symbols) {
      if (this.#lastQuotes.has(symbol) || this.#bySymbol.has(symbol)) continue;
      const known = await this.#knownSymbol(symbol);
      if (!known) {
        return errorReply(
          request.id,
          ErrorCode.UNKNOWN_SYMBOL,
          `the broker does not know ${symbol}; nothing was subscribed`,
        );
      }
    }
    const key = routingKey(connection.routingId);
    let peer = this.#peers.get(key);
    if (peer !== undefined && peer.peer !== connection.peer) {
      this.#drop(peer, "handed over");
      peer = undefined;
    }
    if (peer === undefined) {
      if (this.#peers.size >= this.#maxSubscribers) {
        return errorReply(
          request.id,
          ErrorCode.TOO_MANY_SUBSCRIPTIONS,
          `the gateway already streams to ${this.#maxSubscribers} peers`,
        );
      }
      let own = 0;
      for (const other of this.#peers.values()) if (other.client === client) own += 1;
      if (own >= this.#maxPerClient) {
        return errorReply(
          request.id,
          ErrorCode.TOO_MANY_SUBSCRIPTIONS,
          `${client} already has ${this.#maxPerClient} subscribed connections (streaming.max_subscribers_per_client)`,
        );
      }
    }
    const added = symbols.filter((symbol) => peer?.symbols.has(symbol) !== true);
    const total = (peer?.symbols.size ?? 0) + added.length;
    if (total > MAX_STREAM_SYMBOLS) {
      return errorReply(
        request.id,
        ErrorCode.TOO_MANY_SUBSCRIPTIONS,
        `a peer may have quotes for at most ${MAX_STREAM_SYMBOLS} symbols, this would make ${total}`,
      );
    }
    if (peer === undefined) {
      peer = this.#newPeer(key, connection, client);
    }
    const throttle = request.throttle_ms ?? 0;
    const now = this.#options.clock.now();
    for (const symbol of symbols) {
      peer.addSymbol(symbol, throttle);
      let readers = this.#bySymbol.get(symbol);
      if (readers === undefined) {
        readers = new Set();
        this.#bySymbol.set(symbol, readers);
      }
      readers.add(peer);
      // Seed with the current quote, so a reader never waits for the next tick to have a price
      const last = this.#lastQuotes.get(symbol);
      if (last !== undefined && added.includes(symbol)) {
        peer.offerQuote(symbol, encodeEventBody("QUOTE", last), now);
      }
    }
    if (request.events === true) peer.events = true;
    this.#log.info("Stream subscribed", {
      client,
      symbols: symbols.join(",") || undefined,
      throttle_ms: symbols.length > 0 ? throttle : undefined,
      events: request.events,
      subscribers: this.#peers.size,
    });
    if (added.length > 0) this.#terminal.sync();
    return okReply(request.id, {
      subscription: peer.state(),
      seq: peer.seq,
      server_time: this.#options.clock.now(),
    });
  }

  #unsubscribeRequest(request: UnsubscribeRequest, connection: StreamConnection): Reply {
    const peer = this.#peers.get(routingKey(connection.routingId));
    const reply = (seq: number, subscription: SubscriptionState = { quotes: [], events: false }) =>
      okReply(request.id, { subscription, seq, server_time: this.#options.clock.now() });
    if (peer === undefined || peer.peer !== connection.peer) return reply(0);
    const everything = request.symbols === undefined && request.events === undefined;
    for (const symbol of everything ? [...peer.symbols.keys()] : (request.symbols ?? [])) {
      peer.removeSymbol(symbol);
      this.#unindex(peer, symbol);
    }
    if (everything || request.events === true) peer.events = false;
    const seq = peer.seq;
    this.#terminal.sync();
    if (peer.symbols.size === 0 && !peer.events) {
      // Nothing left: the subscription ends, and a later SUBSCRIBE starts again at seq 1
      this.#drop(peer, "gone");
      return reply(seq);
    }
    return reply(seq, peer.state());
  }

  async #resync(request: ResyncRequest): Promise<Reply> {
    const { backend, clock } = this.#options;
    try {
      const positions = await backend.positions();
      const since = request.since;
      const after = request.after_deal ?? -1;
      // The backend's time may run ahead of ours (broker clock): look a day past now
      const all = await backend.deals({ from: since, to: clock.now() + 86_400_000 });
      const deals = all
        .filter((deal) => deal.time > since || (deal.time === since && deal.ticket > after))
        .sort(byTimeThenTicket);
      const more = deals.length > MAX_DEALS_PER_RESYNC;
      const orders = await pendingOrdersIfSupported(backend);
      return okReply(request.id, {
        positions,
        deals: more ? deals.slice(0, MAX_DEALS_PER_RESYNC) : deals,
        more,
        server_time: clock.now(),
        ...(orders === undefined ? {} : { orders }),
      });
    } catch (error) {
      return errorReply(
        request.id,
        ErrorCode.MT5_LINK_DOWN,
        `MT5 could not answer: ${describeError(error)}`,
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Fan-out

  #onBackend(event: BackendEvent): void {
    if (event.type === "QUOTE") {
      const quote = { symbol: event.symbol, bid: event.bid, ask: event.ask, time: event.time };
      this.#lastQuotes.set(event.symbol, quote);
      const readers = this.#bySymbol.get(event.symbol);
      if (readers === undefined) return;
      // Encoded once, shared by every reader of the symbol
      const encoded = encodeEventBody("QUOTE", quote);
      const now = this.#options.clock.now();
      for (const peer of readers) peer.offerQuote(event.symbol, encoded, now);
      return;
    }
    if (this.#peers.size === 0) return;
    const encoded = this.#encodeTradeEvent(event);
    const everyone = event.type === "LINK_STATE";
    for (const peer of this.#peers.values()) {
      if (everyone || peer.events) peer.pushEvent(encoded);
    }
  }

  #encodeTradeEvent(event: Exclude<BackendEvent, { type: "QUOTE" }>): EncodedEvent {
    switch (event.type) {
      case "DEAL":
        return encodeEventBody("DEAL", { deal: event.deal });
      case "POSITION_CLOSED":
        return encodeEventBody("POSITION_CLOSED", {
          ticket: event.ticket,
          symbol: event.symbol,
          reason: event.reason,
          deal: event.deal,
        });
      case "POSITION_MODIFIED":
        return encodeEventBody("POSITION_MODIFIED", { position: event.position });
      case "LINK_STATE": {
        const { link } = event;
        return encodeEventBody("LINK_STATE", {
          mt5: {
            link: link.state,
            backend: this.#options.backend.kind,
            ...(link.serverTime === undefined ? {} : { server_time: link.serverTime }),
            ...(link.serverOffsetMs === undefined ? {} : { server_offset_ms: link.serverOffsetMs }),
            ...(link.detail === undefined ? {} : { detail: link.detail }),
          },
        });
      }
      default: {
        // The order events (ORDER_PLACED …): the backend event's fields are the event's body
        const { type, ...fields } = event;
        return encodeEventBody(type, fields);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Peers

  #newPeer(key: string, connection: StreamConnection, client: string): StreamPeer {
    const peer = new StreamPeer({
      key,
      routingId: connection.routingId,
      peer: connection.peer,
      client,
      clock: this.#options.clock,
      limits: this.#limits,
      transport: this.#transport as StreamTransport,
      dropped: (dropped, reason) => this.#drop(dropped, reason),
      overflowed: (slow) => {
        this.#resyncRequired += 1;
        this.#log.warn("Stream subscriber cannot keep up; sending RESYNC_REQUIRED and ending it", {
          client: slow.client,
          queued_events: this.#limits.maxQueuedEvents,
        });
      },
    });
    this.#peers.set(key, peer);
    this.#sweep ??= this.#options.clock.setInterval(() => this.sweep(), STREAM_DEFAULTS.sweepMs);
    return peer;
  }

  #drop(peer: StreamPeer, reason: DropReason): void {
    if (this.#peers.get(peer.key) !== peer) return;
    this.#peers.delete(peer.key);
    this.#conflatedGone += peer.conflated;
    for (const symbol of peer.symbols.keys()) this.#unindex(peer, symbol);
    peer.dispose();
    this.#log.info("Stream subscription ended", { client: peer.client, reason });
    if (this.#peers.size === 0) {
      this.#sweep?.cancel();
      this.#sweep = undefined;
    }
    if (peer.symbols.size > 0) this.#terminal.sync();
  }

  #unindex(peer: StreamPeer, symbol: string): void {
    const readers = this.#bySymbol.get(symbol);
    if (readers === undefined) return;
    readers.delete(peer);
    if (readers.size === 0) this.#bySymbol.delete(symbol);
  }

  async #knownSymbol(symbol: string): Promise<boolean> {
    try {
      const info = await this.#options.backend.symbolInfo(symbol);
      if (info === undefined) return false;
      // No tick seen yet (terminal before SUBSCRIBE_TICKS): its quote seeds the subscription
      if (!this.#lastQuotes.has(symbol) && info.quote_time > 0) {
        this.#lastQuotes.set(symbol, {
          symbol,
          bid: info.bid,
          ask: info.ask,
          time: info.quote_time,
        });
      }
      return true;
    } catch (error) {
      // MT5 cannot be asked now (EA not connected): take the symbol on trust; quotes start
      // once the link is up, and an unknown one simply never ticks.
      this.#log.debug("Could not check a subscribed symbol", {
        symbol,
        error: describeError(error),
      });
      return true;
    }
  }
}

/** The pending orders for RESYNC; undefined from a backend that has none (BACKEND_UNSUPPORTED). */
async function pendingOrdersIfSupported(backend: Backend): Promise<TradeOrder[] | undefined> {
  try {
    return await backend.orders();
  } catch (error) {
    if (error instanceof BackendError && error.code === FaultCode.BACKEND_UNSUPPORTED) {
      return undefined;
    }
    throw error;
  }
}

function byTimeThenTicket(a: Deal, b: Deal): number {
  return a.time - b.time || a.ticket - b.ticket;
}

/** Map key for a routing id (latin1: every byte distinct). */
function routingKey(id: Uint8Array): string {
  let key = "";
  for (let i = 0; i < id.length; i++) key += String.fromCharCode(id[i] as number);
  return key;
}
