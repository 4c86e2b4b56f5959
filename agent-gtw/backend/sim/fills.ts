/**
 * Turning an accepted request (or a triggered stop) into deals: which position it touches, the
 * deal's entry (IN, OUT, INOUT), realised profit, the position afterwards and the events to
 * publish. Each fill is applied to the books at once and returned as a record for the state log.
 *
 * MT5 rules kept here: a position's ticket is the ticket of the order that opened it; a partial
 * close keeps the ticket (MT4 issued a new one); on a netting account orders on one symbol merge
 * into a single position, and a reversal keeps the position's identifier (the sim uses the
 * identifier as the ticket throughout) with an INOUT deal.
 */
import type { Deal, DealEntry, DealReason, Side } from "../../../shared/protocol/index.ts";
import type { BackendEvent } from "../backend.ts";
import { type MoneyContext, profitInDeposit, roundMoney } from "./account/margin.ts";
import type { Book } from "./book.ts";
import type { PositionState, TradeRecord } from "./records.ts";
import { roundVolume, type SymbolSpec } from "./symbols.ts";

export interface Fill {
  readonly record: TradeRecord;
  readonly events: BackendEvent[];
  readonly deal: Deal;
  /** The position when the deal changed one that stays open (for POSITION_MODIFIED). */
  readonly changed: PositionState | undefined;
}

/** What a deal needs beyond the position: who asked and how it is labelled. */
export interface DealOrigin {
  readonly reason: DealReason;
  readonly magic: number;
  readonly comment: string;
  readonly time: number;
  /**
   * The order the deal executes: a pending order that triggered, or a close-by order. Default:
   * a new market order with the next ticket.
   */
  readonly order?: number;
  /** Default OUT for closes; OUT_BY for the two deals of a close-by. */
  readonly entry?: DealEntry;
}

export interface OpenFillRequest {
  readonly spec: SymbolSpec;
  readonly side: Side;
  readonly volume: number;
  readonly price: number;
  readonly sl: number | null;
  readonly tp: number | null;
  /** The netting position on the symbol, if any; always undefined on hedging accounts. */
  readonly existing: PositionState | undefined;
}

export const opposite = (side: Side): Side => (side === "BUY" ? "SELL" : "BUY");

/** Deals for requests carry EXPERT when an EA (magic ≠ 0) sent them, CLIENT otherwise. */
export function requestReason(magic: number): DealReason {
  return magic === 0 ? "CLIENT" : "EXPERT";
}

/** Open a position, or on a netting account add to, reduce, close or reverse the existing one. */
export function openFill(
  book: Book,
  money: MoneyContext,
  request: OpenFillRequest,
  origin: DealOrigin,
): Fill {
  const { spec, side, volume, price, existing } = request;
  const order = origin.order ?? book.nextOrder;
  const step = spec.volume_step;
  if (existing === undefined) {
    const position: PositionState = {
      ticket: order,
      symbol: spec.symbol,
      side,
      volume,
      price_open: price,
      sl: request.sl,
      tp: request.tp,
      magic: origin.magic,
      comment: origin.comment,
      time: origin.time,
      time_update: origin.time,
    };
    return build(
      book,
      origin,
      { order, position, ticket: order, entry: "IN", profit: 0, opened: true },
      request,
    );
  }
  const ticket = existing.ticket;
  if (existing.side === side) {
    const total = roundVolume(existing.volume + volume, step);
    const position: PositionState = {
      ...existing,
      volume: total,
      price_open: (existing.price_open * existing.volume + price * volume) / total,
      sl: request.sl ?? existing.sl,
      tp: request.tp ?? existing.tp,
      time_update: origin.time,
    };
    return build(book, origin, { order, position, ticket, entry: "IN", profit: 0 }, request);
  }
  const closed = Math.min(volume, existing.volume);
  const profit = profitInDeposit(money, spec, existing.side, closed, existing.price_open, price);
  const remainder = roundVolume(existing.volume - volume, step);
  if (remainder > 0) {
    const position: PositionState = {
      ...existing,
      volume: remainder,
      sl: request.sl ?? existing.sl,
      tp: request.tp ?? existing.tp,
      time_update: origin.time,
    };
    return build(book, origin, { order, position, ticket, entry: "OUT", profit }, request);
  }
  if (remainder === 0) {
    return build(book, origin, { order, position: null, ticket, entry: "OUT", profit }, request);
  }
  const position: PositionState = {
    ticket,
    symbol: spec.symbol,
    side,
    volume: roundVolume(-remainder, step),
    price_open: price,
    sl: request.sl,
    tp: request.tp,
    magic: origin.magic,
    comment: origin.comment,
    time: origin.time,
    time_update: origin.time,
  };
  return build(book, origin, { order, position, ticket, entry: "INOUT", profit }, request);
}

/** Close `volume` of a position at `price` (a request or a triggered SL/TP/stop-out). */
export function closeFill(
  book: Book,
  money: MoneyContext,
  spec: SymbolSpec,
  existing: PositionState,
  volume: number,
  price: number,
  origin: DealOrigin,
): Fill {
  const profit = profitInDeposit(money, spec, existing.side, volume, existing.price_open, price);
  const remainder = roundVolume(existing.volume - volume, spec.volume_step);
  const position: PositionState | null =
    remainder > 0 ? { ...existing, volume: remainder, time_update: origin.time } : null;
  return build(
    book,
    origin,
    {
      order: origin.order ?? book.nextOrder,
      position,
      ticket: existing.ticket,
      entry: origin.entry ?? "OUT",
      profit,
    },
    { spec, side: opposite(existing.side), volume, price },
  );
}

interface Outcome {
  readonly order: number;
  readonly ticket: number;
  readonly position: PositionState | null;
  readonly entry: DealEntry;
  readonly profit: number;
  readonly opened?: boolean;
}

function build(
  book: Book,
  origin: DealOrigin,
  outcome: Outcome,
  trade: { spec: SymbolSpec; side: Side; volume: number; price: number },
): Fill {
  const deal: Deal = {
    ticket: book.nextDeal,
    order: outcome.order,
    position: outcome.ticket,
    symbol: trade.spec.symbol,
    side: trade.side,
    entry: outcome.entry,
    reason: origin.reason,
    volume: trade.volume,
    price: trade.price,
    profit: outcome.profit,
    commission: 0,
    swap: 0,
    magic: origin.magic,
    comment: origin.comment,
    time: origin.time,
  };
  const record: TradeRecord = {
    type: "trade",
    deal,
    ticket: outcome.ticket,
    position: outcome.position,
    balance: roundMoney(book.balance + outcome.profit),
    // An existing order (pending, close-by) keeps its ticket; a market order takes the next one
    next_order: Math.max(book.nextOrder, outcome.order + 1),
    next_deal: book.nextDeal + 1,
  };
  book.apply(record);
  const events: BackendEvent[] = [{ type: "DEAL", deal }];
  if (outcome.position === null) {
    events.push({
      type: "POSITION_CLOSED",
      ticket: outcome.ticket,
      symbol: deal.symbol,
      reason: deal.reason,
      deal,
    });
  }
  const changed =
    outcome.position !== null && outcome.opened !== true ? outcome.position : undefined;
  return { record, events, deal, changed };
}
