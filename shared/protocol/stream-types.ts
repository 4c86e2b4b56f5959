/**
 * The streaming part of the wire contract (issue 8, docs/PROTOCOL.md §13): SUBSCRIBE,
 * UNSUBSCRIBE and RESYNC requests with their replies, and the EVENT messages the gateway pushes
 * to a subscribed peer over the same CURVE connection.
 *
 * An event is told apart from a reply by its shape: it has `event` and `seq` and never `status`
 * or `id`, so a client that matches replies by id can route it before any reply logic runs.
 */
import {
  ORDER_EVENT_TYPES,
  type OrderEventFields,
  type OrderEventType,
  type TradeOrder,
} from "./pending-types.ts";
import type { Deal, DealReason, MtLinkInfo, Position, ReplyBase, RequestBase } from "./types.ts";

/** Symbols one peer may have quotes for, all requests together (the EA's own limit is 64). */
export const MAX_STREAM_SYMBOLS = 64;
/** throttle_ms of a quote subscription: 0 (every quote) to one minute. */
export const MAX_THROTTLE_MS = 60_000;
/** Deals per RESYNC reply; `more: true` says to ask again from the last one. */
export const MAX_DEALS_PER_RESYNC = 1000;

// ---------------------------------------------------------------------------------------------
// Requests

export interface SubscribeRequest extends RequestBase {
  readonly action: "SUBSCRIBE";
  /** Quotes for these symbols (added to what the peer already has). */
  readonly symbols?: readonly string[];
  /** At most one quote per symbol per this many ms (only with symbols); default 0. */
  readonly throttle_ms?: number;
  /** Trade events (DEAL, POSITION_CLOSED, POSITION_MODIFIED); only `true` is accepted. */
  readonly events?: true;
}

export interface UnsubscribeRequest extends RequestBase {
  readonly action: "UNSUBSCRIBE";
  /** Stop quotes for these symbols. */
  readonly symbols?: readonly string[];
  /** `true`: stop trade events. Neither field: end the whole subscription. */
  readonly events?: true;
}

export interface ResyncRequest extends RequestBase {
  readonly action: "RESYNC";
  /** Deals at or after this time (Unix ms)... */
  readonly since: number;
  /** ...except, at exactly `since`, those with a ticket ≤ this (paging without duplicates). */
  readonly after_deal?: number;
}

export type StreamRequest = SubscribeRequest | UnsubscribeRequest | ResyncRequest;
export type StreamAction = StreamRequest["action"];

// ---------------------------------------------------------------------------------------------
// Replies

export interface QuoteSubscription {
  readonly symbol: string;
  readonly throttle_ms: number;
}

/** What the peer is subscribed to after a SUBSCRIBE or UNSUBSCRIBE. */
export interface SubscriptionState {
  readonly quotes: readonly QuoteSubscription[];
  readonly events: boolean;
}

export interface SubscribeReply extends ReplyBase {
  readonly subscription: SubscriptionState;
  /** The last event seq sent to this peer when the reply was built (0: none yet). */
  readonly seq: number;
  /** Gateway clock, Unix ms: a first RESYNC can start here. */
  readonly server_time: number;
}

export interface ResyncReply extends ReplyBase {
  /** Every open position when the reply was built. */
  readonly positions: readonly Position[];
  /** Deals after the cursor, by (time, ticket), at most MAX_DEALS_PER_RESYNC. */
  readonly deals: readonly Deal[];
  /** More deals follow: ask again with since/after_deal of the last one. */
  readonly more: boolean;
  readonly server_time: number;
  /** Every pending order when the reply was built (absent from a backend without them). */
  readonly orders?: readonly TradeOrder[];
}

// ---------------------------------------------------------------------------------------------
// Events (gateway → subscribed peer)

export const EVENT_TYPES = [
  "QUOTE",
  "DEAL",
  "POSITION_CLOSED",
  "POSITION_MODIFIED",
  "LINK_STATE",
  "RESYNC_REQUIRED",
  ...ORDER_EVENT_TYPES,
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

interface EventBase {
  readonly v: number;
  /** Per subscription, from 1, +1 per event sent: a gap means lost events, so resync. */
  readonly seq: number;
}

export interface QuoteEvent extends EventBase {
  readonly event: "QUOTE";
  readonly symbol: string;
  readonly bid: number;
  readonly ask: number;
  /** Time of the tick, Unix ms (broker time for the terminal backend). */
  readonly time: number;
}

export interface DealEvent extends EventBase {
  readonly event: "DEAL";
  readonly deal: Deal;
}

export interface PositionClosedEvent extends EventBase {
  readonly event: "POSITION_CLOSED";
  readonly ticket: number;
  readonly symbol: string;
  /** The closing deal's reason: SL, TP, SO (stop-out), CLIENT or EXPERT. */
  readonly reason: DealReason;
  readonly deal: Deal;
}

export interface PositionModifiedEvent extends EventBase {
  readonly event: "POSITION_MODIFIED";
  readonly position: Position;
}

export interface LinkStateEvent extends EventBase {
  readonly event: "LINK_STATE";
  readonly mt5: MtLinkInfo;
}

/** The last event of a subscription the peer could not keep up with: resubscribe and resync. */
export interface ResyncRequiredEvent extends EventBase {
  readonly event: "RESYNC_REQUIRED";
  readonly reason: string;
}

/** A pending order changed (pending-types.ts OrderEventFields says which fields come when). */
export interface OrderEvent extends EventBase, OrderEventFields {
  readonly event: OrderEventType;
}

export type StreamEvent =
  | OrderEvent
  | QuoteEvent
  | DealEvent
  | PositionClosedEvent
  | PositionModifiedEvent
  | LinkStateEvent
  | ResyncRequiredEvent;

/** A trade event: never dropped or conflated, unlike quotes. */
export type TradeEvent = Exclude<StreamEvent, QuoteEvent>;
