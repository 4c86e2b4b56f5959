/**
 * The gateway's view of MetaTrader 5. Two implementations: the simulated broker (backend/sim,
 * the default) and the terminal backend (backend/terminal, the MQL5 EA over loopback).
 *
 * Contract for trade calls (open/close/modify):
 * - A resolved TradeResult is MT5's answer, success or refusal, carried by `retcode`.
 * - A BackendError with code BACKEND_UNAVAILABLE means the request certainly did not reach MT5
 *   (link down before sending): safe to report as not executed.
 * - A BackendError with code BACKEND_TIMEOUT means it may have reached MT5: the outcome is
 *   unknown and must be reconciled (findByTag / deals), never blindly re-sent.
 * - A BackendError with code BACKEND_UNSUPPORTED means this backend cannot do the call at all
 *   (nothing was sent); the gateway answers NOT_SUPPORTED.
 * Three parts: the calls below, the pending orders and pre-trade calculations (pending.ts, on
 * Backend itself), and the paged market and history reads (market-reads.ts, Backend.market).
 * BACKEND_UNSUPPORTED means the same in all three; BACKEND_HISTORY_LOADING only comes from a
 * market read (MT5 is still downloading the history it needs; nothing is wrong, ask again).
 */
import { AgentError, type FaultCode } from "../../shared/errors.ts";
import type {
  AccountInfo,
  Deal,
  DealReason,
  LinkState,
  Position,
  Side,
  SymbolInfo,
  TradeOrder,
  TradeResult,
} from "../../shared/protocol/index.ts";
import type { MarketReads } from "./market-reads.ts";
import type {
  CancelPendingOrder,
  CheckOrder,
  CloseByOrder,
  MarginQuery,
  ModifyPendingOrder,
  OrderBackendEvent,
  OrderCheckResult,
  OrderFilter,
  PlaceOrder,
  ProfitQuery,
} from "./pending.ts";

export type BackendKind = "sim" | "terminal";

export interface LinkStatus {
  readonly state: LinkState;
  /** Why, in words, when not UP ("EA not connected", "AutoTrading disabled in terminal"). */
  readonly detail?: string;
  /** Broker server time, Unix ms, when the backend knows it. */
  readonly serverTime?: number;
  /**
   * The broker's server time minus UTC, ms, when the backend knows it: bar and tick times
   * (PROTOCOL.md §14) are UTC plus this, as MT5 reports them. 0 on the sim.
   */
  readonly serverOffsetMs?: number;
}

export interface OpenOrder {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly volume: number;
  readonly sl: number | null;
  readonly tp: number | null;
  /** Points. */
  readonly deviation: number;
  readonly magic: number;
  /** Full order comment, already starting with the tag derived from clientOrderId. */
  readonly comment: string;
}

export interface CloseOrder {
  readonly clientOrderId: string;
  readonly ticket: number;
  /** null closes the whole position. */
  readonly volume: number | null;
  readonly deviation: number;
  readonly magic: number;
  readonly comment: string;
}

export interface ModifyOrder {
  readonly clientOrderId: string;
  readonly ticket: number;
  /** undefined keeps the current value, null removes it. */
  readonly sl: number | null | undefined;
  readonly tp: number | null | undefined;
}

export interface DealQuery {
  /** Unix ms, inclusive. */
  readonly from: number;
  /** Unix ms, inclusive. */
  readonly to: number;
  readonly magic?: number;
}

/** Things that happen at the broker without being asked (SL/TP hits, stop-outs) or as a result. */
export type BackendEvent =
  | {
      readonly type: "QUOTE";
      readonly symbol: string;
      readonly bid: number;
      readonly ask: number;
      readonly time: number;
    }
  | { readonly type: "DEAL"; readonly deal: Deal }
  | {
      readonly type: "POSITION_CLOSED";
      readonly ticket: number;
      readonly symbol: string;
      readonly reason: DealReason;
      readonly deal: Deal;
    }
  | { readonly type: "POSITION_MODIFIED"; readonly position: Position }
  | { readonly type: "LINK_STATE"; readonly link: LinkStatus }
  | OrderBackendEvent;

export type BackendListener = (event: BackendEvent) => void;

export interface Backend {
  readonly kind: BackendKind;
  start(): Promise<void>;
  /** Stop timers and connections and make state durable; idempotent. */
  stop(): Promise<void>;
  link(): LinkStatus;
  account(): Promise<AccountInfo>;
  positions(symbol?: string): Promise<Position[]>;
  /** undefined when the broker does not know the symbol. */
  symbolInfo(symbol: string): Promise<SymbolInfo | undefined>;
  open(order: OpenOrder): Promise<TradeResult>;
  close(order: CloseOrder): Promise<TradeResult>;
  modify(order: ModifyOrder): Promise<TradeResult>;
  deals(query: DealQuery): Promise<Deal[]>;
  // Pending orders and pre-trade calculations (pending.ts)
  placeOrder(order: PlaceOrder): Promise<TradeResult>;
  modifyOrder(order: ModifyPendingOrder): Promise<TradeResult>;
  cancelOrder(order: CancelPendingOrder): Promise<TradeResult>;
  closeBy(order: CloseByOrder): Promise<TradeResult>;
  /** Active pending orders; those that left the book are market.historyOrders. */
  orders(filter?: OrderFilter): Promise<TradeOrder[]>;
  orderCheck(order: CheckOrder): Promise<OrderCheckResult>;
  /** Margin in the account currency; undefined when the broker does not know the symbol. */
  calcMargin(query: MarginQuery): Promise<number | undefined>;
  calcProfit(query: ProfitQuery): Promise<number | undefined>;
  /** Register for events; returns the function that unregisters. */
  subscribe(listener: BackendListener): () => void;
  /**
   * Symbols, ticks, bars and the account's deal and order history, paged (market-reads.ts):
   * GET_SYMBOLS … GET_HISTORY_ORDERS, and the order history GET_ORDER and reconciliation read.
   */
  readonly market: MarketReads;
  /**
   * Only for backends that send QUOTE events on request (the terminal: EA SUBSCRIBE_TICKS):
   * quotes for exactly these symbols, at most one scan per `throttleMs`; an empty list stops
   * them. The sim quotes every symbol anyway and leaves this out.
   */
  subscribeQuotes?(symbols: readonly string[], throttleMs: number): Promise<unknown>;
}

export class BackendError extends AgentError {
  constructor(
    code:
      | typeof FaultCode.BACKEND_UNAVAILABLE
      | typeof FaultCode.BACKEND_TIMEOUT
      | typeof FaultCode.BACKEND_UNSUPPORTED
      | typeof FaultCode.BACKEND_HISTORY_LOADING,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
    this.name = "BackendError";
  }
}
