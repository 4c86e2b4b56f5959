/**
 * The application wire contract between agent-inf and agent-gtw (DESIGN §4), and the MT5 domain
 * objects that travel inside it. Field names are snake_case because they are JSON on the wire and
 * any ZeroMQ binding (pyzmq, ...) must be able to produce them. docs/PROTOCOL.md documents every
 * field; validation lives in validate.ts.
 */

import type { MarketReply, MarketRequest } from "./market-types.ts";
import type {
  OrderTimeType,
  PendingReadRequest,
  PendingReply,
  PendingSignedRequest,
  TradeOrder,
} from "./pending-types.ts";
import type { ResyncReply, StreamRequest, SubscribeReply } from "./stream-types.ts";

export const PROTOCOL_VERSION = 1;

export const ACTIONS = [
  "PING",
  "OPEN",
  "CLOSE",
  "MODIFY",
  "GET_ACCOUNT",
  "GET_POSITIONS",
  "GET_SYMBOL_INFO",
  "GET_ORDER",
  // Streaming (stream-types.ts): unsigned, the CURVE session authenticates the peer
  "SUBSCRIBE",
  "UNSUBSCRIBE",
  "RESYNC",
  // Market data and history (market-types.ts): unsigned reads, paged
  "GET_SYMBOLS",
  "GET_TICK",
  "GET_RATES",
  "GET_TICKS",
  "GET_HISTORY_DEALS",
  "GET_HISTORY_ORDERS",
  // Pending orders and pre-trade calculations (pending-types.ts)
  "PLACE",
  "MODIFY_ORDER",
  "CANCEL",
  "CLOSE_BY",
  "GET_ORDERS",
  "ORDER_CHECK",
  "CALC_MARGIN",
  "CALC_PROFIT",
] as const;
export type Action = (typeof ACTIONS)[number];

/** Actions that move money: signed, journaled, idempotent by client_order_id. */
export const SIGNED_ACTIONS = [
  "OPEN",
  "CLOSE",
  "MODIFY",
  "PLACE",
  "MODIFY_ORDER",
  "CANCEL",
  "CLOSE_BY",
] as const;
export type SignedAction = (typeof SIGNED_ACTIONS)[number];

export type Side = "BUY" | "SELL";

/** Gateway-side permission to trade (DESIGN §6). REDUCING allows CLOSE (and MODIFY) only. */
export const TRADING_STATES = ["ACTIVE", "REDUCING", "HALTED"] as const;
export type TradingState = (typeof TRADING_STATES)[number];

/** Health of the gateway's link to MT5 (terminal backend; the sim is always UP). */
export const LINK_STATES = ["UP", "DOWN", "TRADE_DISABLED"] as const;
export type LinkState = (typeof LINK_STATES)[number];

// Limits every validator enforces; kept here so both agents and the docs agree.
export const MAX_CLIENT_ORDER_ID_LENGTH = 24;
export const MAX_REQUEST_ID_LENGTH = 64;
export const MAX_SYMBOL_LENGTH = 32;
export const MAX_COMMENT_LENGTH = 31;
export const MAX_KEY_ID_LENGTH = 64;
export const MAX_GATEWAY_NAME_LENGTH = 64;
export const MAX_REQUEST_BYTES = 4096;
export const SIGNATURE_BYTES = 64;
/** Replies can list many positions; still capped so a hostile gateway cannot exhaust memory. */
export const MAX_REPLY_BYTES = 1_048_576;
/** Lots per request; far above any broker's volume_max, so it only catches garbage. */
export const MAX_VOLUME = 1_000_000;
/** Volumes travel as JSON numbers; more decimals than this means an unrounded float. */
export const MAX_VOLUME_DECIMALS = 8;
export const MAX_DEVIATION_POINTS = 100_000;
/** MT5 magic is a ulong, but JSON numbers are exact only up to 2^53 − 1. */
export const MAX_MAGIC = Number.MAX_SAFE_INTEGER;

// ---------------------------------------------------------------------------------------------
// Requests

export interface RequestBase {
  /** Protocol version; always PROTOCOL_VERSION. */
  readonly v: number;
  /** Unique per request (per sender); replies echo it. Replay protection keys on it. */
  readonly id: string;
  /** Sender's wall clock, Unix ms. Signed actions expire ts + TTL (+ skew). */
  readonly ts: number;
}

/** Fields every signed action carries; all covered by the signature (the exact request bytes). */
interface SignedBase extends RequestBase {
  /** Idempotency key, unique per intent, ≤ 24 chars of [A-Za-z0-9_-]. */
  readonly client_order_id: string;
  /** Name of the gateway this order is for; a signature for one gateway is useless at another. */
  readonly gateway: string;
  /** Which trusted signing key signed this request. */
  readonly key_id: string;
}

export interface PingRequest extends RequestBase {
  readonly action: "PING";
}

export interface OpenRequest extends SignedBase {
  readonly action: "OPEN";
  readonly symbol: string;
  readonly side: Side;
  /** Lots. */
  readonly volume: number;
  /** Stop-loss price; omitted or null for none. */
  readonly sl?: number | null;
  /** Take-profit price; omitted or null for none. */
  readonly tp?: number | null;
  /** Maximum price deviation in points (Instant/Request execution). */
  readonly deviation?: number;
  /** Expert magic number the position is tagged with. */
  readonly magic?: number;
  /** Free text; the gateway prefixes its own tag derived from client_order_id. */
  readonly comment?: string;
}

export interface CloseRequest extends SignedBase {
  readonly action: "CLOSE";
  /** Position ticket. */
  readonly ticket: number;
  /** Lots to close; omitted for the whole position. */
  readonly volume?: number;
  readonly deviation?: number;
  readonly comment?: string;
}

export interface ModifyRequest extends SignedBase {
  readonly action: "MODIFY";
  readonly ticket: number;
  /** New stop-loss: a price, null to remove it, omitted to keep it. */
  readonly sl?: number | null;
  /** New take-profit: a price, null to remove it, omitted to keep it. */
  readonly tp?: number | null;
}

export interface GetAccountRequest extends RequestBase {
  readonly action: "GET_ACCOUNT";
}

export interface GetPositionsRequest extends RequestBase {
  readonly action: "GET_POSITIONS";
  readonly symbol?: string;
}

export interface GetSymbolInfoRequest extends RequestBase {
  readonly action: "GET_SYMBOL_INFO";
  readonly symbol: string;
}

export interface GetOrderRequest extends RequestBase {
  readonly action: "GET_ORDER";
  readonly client_order_id: string;
}

export type SignedRequest = OpenRequest | CloseRequest | ModifyRequest | PendingSignedRequest;
export type Request =
  | PingRequest
  | SignedRequest
  | GetAccountRequest
  | GetPositionsRequest
  | GetSymbolInfoRequest
  | GetOrderRequest
  | StreamRequest
  | MarketRequest
  | PendingReadRequest;

// ---------------------------------------------------------------------------------------------
// MT5 domain objects (values as MT5 reports them; sl/tp null where MT5 says 0)

export type ExecutionMode = "REQUEST" | "INSTANT" | "MARKET" | "EXCHANGE";
export type SymbolTradeMode = "DISABLED" | "LONG_ONLY" | "SHORT_ONLY" | "CLOSE_ONLY" | "FULL";
export type CalcMode = "FOREX" | "FOREX_NO_LEVERAGE" | "CFD" | "CFD_INDEX" | "CFD_LEVERAGE";
/** Order filling policies (ORDER_FILLING_*); a symbol lists the ones it accepts for market orders. */
export type FillingMode = "FOK" | "IOC" | "RETURN";
export type MarginMode = "NETTING" | "HEDGING";
/** SYMBOL_ORDER_MODE flags without the prefix. */
export type SymbolOrderMode = "MARKET" | "LIMIT" | "STOP" | "STOP_LIMIT" | "SL" | "TP" | "CLOSE_BY";

export interface SymbolInfo {
  readonly symbol: string;
  readonly description: string;
  readonly digits: number;
  readonly point: number;
  readonly tick_size: number;
  /** Deposit-currency value of one tick for one lot, at the current rate. */
  readonly tick_value: number;
  readonly contract_size: number;
  readonly volume_min: number;
  readonly volume_max: number;
  readonly volume_step: number;
  /** Maximum total volume in one direction; 0 = no limit. */
  readonly volume_limit: number;
  /** Minimum SL/TP distance from the closing price, in points. */
  readonly stops_level: number;
  /** Within this many points of SL/TP a position cannot be modified or closed. */
  readonly freeze_level: number;
  readonly filling_modes: readonly FillingMode[];
  /** SYMBOL_EXPIRATION_MODE: the expiration types pending orders may use (absent: unknown). */
  readonly expiration_modes?: readonly OrderTimeType[];
  /** SYMBOL_ORDER_MODE: the order kinds the symbol accepts (absent: unknown). */
  readonly order_modes?: readonly SymbolOrderMode[];
  readonly execution_mode: ExecutionMode;
  readonly trade_mode: SymbolTradeMode;
  readonly calc_mode: CalcMode;
  readonly currency_base: string;
  readonly currency_profit: string;
  readonly currency_margin: string;
  /** Contract size used for hedged (opposite) legs. */
  readonly margin_hedged: number;
  readonly bid: number;
  readonly ask: number;
  /** Time of the last quote, Unix ms. */
  readonly quote_time: number;
  /** Current spread in points. */
  readonly spread: number;
  /** Whether the trading session is open now. */
  readonly session_open: boolean;
}

export interface AccountInfo {
  readonly login: number;
  readonly server: string;
  readonly name: string;
  readonly currency: string;
  readonly balance: number;
  readonly equity: number;
  /** Floating profit of open positions. */
  readonly profit: number;
  readonly margin: number;
  readonly margin_free: number;
  /** equity / margin × 100; 0 when there is no margin in use. */
  readonly margin_level: number;
  readonly leverage: number;
  readonly margin_mode: MarginMode;
  readonly trade_allowed: boolean;
  /** Margin-call and stop-out levels, percent. */
  readonly margin_so_call: number;
  readonly margin_so_so: number;
}

export interface Position {
  readonly ticket: number;
  readonly symbol: string;
  readonly side: Side;
  readonly volume: number;
  readonly price_open: number;
  readonly price_current: number;
  readonly sl: number | null;
  readonly tp: number | null;
  /** Floating profit in the deposit currency. */
  readonly profit: number;
  readonly swap: number;
  readonly magic: number;
  readonly comment: string;
  /** Open time, Unix ms. */
  readonly time: number;
  readonly time_update: number;
}

/** DEAL_ENTRY_*: OUT_BY is each of the two deals of a close-by. */
export type DealEntry = "IN" | "OUT" | "INOUT" | "OUT_BY";
/** Why a deal happened (DEAL_REASON_*): by the client/EA, or by SL, TP or stop-out. */
export type DealReason = "CLIENT" | "EXPERT" | "SL" | "TP" | "SO";

export interface Deal {
  readonly ticket: number;
  readonly order: number;
  readonly position: number;
  readonly symbol: string;
  readonly side: Side;
  readonly entry: DealEntry;
  readonly reason: DealReason;
  readonly volume: number;
  readonly price: number;
  readonly profit: number;
  readonly commission: number;
  readonly swap: number;
  readonly magic: number;
  readonly comment: string;
  /** Unix ms. */
  readonly time: number;
}

/** What MT5 answered to OrderSend (MqlTradeResult), plus the position ticket from the deal. */
export interface TradeResult {
  readonly retcode: number;
  readonly deal: number;
  readonly order: number;
  /** Position ticket the deal opened or changed (DEAL_POSITION_ID); 0 when none. */
  readonly position: number;
  readonly volume: number;
  readonly price: number;
  readonly bid: number;
  readonly ask: number;
  readonly comment: string;
}

// ---------------------------------------------------------------------------------------------
// Replies

export const REPLY_STATUSES = ["OK", "FILLED", "REJECTED", "ERROR"] as const;
export type ReplyStatus = (typeof REPLY_STATUSES)[number];

/** Outcome of an OPEN/CLOSE/MODIFY as recorded by the gateway's journal. */
export type OrderState =
  /** Journaled, being executed now. */
  | "PENDING"
  /** Executed: the reply holds the fill (or, for MODIFY, the new stops). */
  | "FILLED"
  /** Refused by the gateway's gate or by MT5; nothing happened. */
  | "REJECTED"
  /** The outcome could not be established (backend timed out or the gateway crashed). */
  | "UNKNOWN"
  /** Reconciliation proved it never reached MT5; the same client_order_id may be sent again. */
  | "NOT_EXECUTED";

export const ORDER_STATES = [
  "PENDING",
  "FILLED",
  "REJECTED",
  "UNKNOWN",
  "NOT_EXECUTED",
] as const satisfies readonly OrderState[];

export interface OrderRecord {
  readonly client_order_id: string;
  readonly action: SignedAction;
  readonly state: OrderState;
  /** Unix ms when the intent was journaled. */
  readonly received_at: number;
  /** The reply that was (or would have been) sent for the first execution. */
  readonly reply: Reply | null;
}

export interface MtLinkInfo {
  readonly link: LinkState;
  /** Backend kind: "sim" or "terminal". */
  readonly backend: string;
  /** Broker server time, Unix ms, when known. */
  readonly server_time?: number;
  /** Broker server time minus UTC, ms, when known: bar and tick times (§14) are UTC plus this. */
  readonly server_offset_ms?: number;
  readonly detail?: string;
}

export interface ReplyBase {
  readonly v: number;
  /** The request id this answers. */
  readonly id: string;
  readonly status: ReplyStatus;
  /** Present when status is REJECTED or ERROR. */
  readonly error_code?: string;
  readonly error_msg?: string;
  /** MT5 return code, when MT5 was asked. */
  readonly retcode?: number;
  /** Set on a repeated client_order_id: this is the first outcome, nothing was executed again. */
  readonly duplicate?: boolean;
}

export interface PingReply extends ReplyBase {
  readonly gateway: string;
  /** Gateway wall clock when the PING was answered, Unix ms. */
  readonly server_time: number;
  readonly trading_state: TradingState;
  readonly mt5: MtLinkInfo;
  readonly version: string;
  /**
   * The freshness window the gateway checks signed requests against (its `signatures` config),
   * so the client judges its clock offset by the gateway's real limits; absent from older gateways.
   */
  readonly signature_window?: SignatureWindowInfo;
  /**
   * The name this gateway knows the asking client by. Its orders' broker comments are tagged
   * with brokerOrderKey(client, client_order_id), so a client finds its own positions by tag.
   */
  readonly client?: string;
}

export interface SignatureWindowInfo {
  /** A signed request older than ttl_ms + max_skew_ms is EXPIRED. */
  readonly ttl_ms: number;
  /** A signed request more than max_skew_ms in the gateway's future is EXPIRED. */
  readonly max_skew_ms: number;
}

export interface TradeReply extends ReplyBase {
  readonly client_order_id: string;
  /** Position ticket. */
  readonly ticket?: number;
  readonly deal?: number;
  readonly order?: number;
  readonly volume?: number;
  readonly price?: number;
  readonly bid?: number;
  readonly ask?: number;
  readonly sl?: number | null;
  readonly tp?: number | null;
  /** CLOSE only: lots left in the position afterwards; 0 when it was closed in full. */
  readonly remaining_volume?: number;
}

export interface AccountReply extends ReplyBase {
  readonly account: AccountInfo;
}

export interface PositionsReply extends ReplyBase {
  readonly positions: readonly Position[];
}

export interface SymbolInfoReply extends ReplyBase {
  readonly symbol_info: SymbolInfo;
}

export interface OrderReply extends ReplyBase {
  /** null: the gateway has never seen this client_order_id. */
  readonly order: OrderRecord | null;
  /** For a PLACE that placed an order: that order as the broker shows it now, when known. */
  readonly pending_order?: TradeOrder;
}

export type Reply =
  | ReplyBase
  | PingReply
  | TradeReply
  | AccountReply
  | PositionsReply
  | SymbolInfoReply
  | OrderReply
  | SubscribeReply
  | ResyncReply
  | MarketReply
  | PendingReply;
