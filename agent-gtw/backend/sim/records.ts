/**
 * The records the simulated broker keeps for positions and deals: what book.ts applies and the
 * pending-order records (pending/order-book.ts) carry. Types only.
 */
import type { Deal, Side } from "../../../shared/protocol/index.ts";

/** An open position as the broker stores it; Position adds the live price and profit. */
export interface PositionState {
  /** Position ticket (= POSITION_IDENTIFIER; the ticket of the order that opened it). */
  readonly ticket: number;
  readonly symbol: string;
  readonly side: Side;
  readonly volume: number;
  readonly price_open: number;
  readonly sl: number | null;
  readonly tp: number | null;
  readonly magic: number;
  readonly comment: string;
  readonly time: number;
  readonly time_update: number;
}

/** A deal and what it did to one position and the balance. */
export interface TradeRecord {
  readonly type: "trade";
  readonly deal: Deal;
  /** Position ticket the deal belongs to. */
  readonly ticket: number;
  /** The position afterwards; null when the deal closed it. */
  readonly position: PositionState | null;
  readonly balance: number;
  readonly next_order: number;
  readonly next_deal: number;
}
