/**
 * The reads behind more than one frame or an EA error (docs/EA-LINK.md §7.3–§7.5, §7.9–§7.13,
 * §7.19): GET_POSITIONS, GET_DEALS, GET_ORDERS, GET_HISTORY_ORDERS, GET_SYMBOL_NAMES and
 * GET_HISTORY_DEALS fetched page by page until `more` is false (pages bounded: 1,000 items each,
 * at most MAX_PAGES; a listing whose `total` changes between pages is read again from offset 0),
 * a position found by ticket or identifier, and the reads that name a symbol (GET_SYMBOL_INFO,
 * ORDER_CHECK, CALC_*) with UNKNOWN_SYMBOL as undefined.
 */
import { FaultCode } from "../../../shared/errors.ts";
import {
  compileGroup,
  type Deal,
  type HistoryDeal,
  type OrderCheckResult,
  type Position,
  type SymbolInfo,
  type TradeOrder,
} from "../../../shared/protocol/index.ts";
import { BackendError, type DealQuery } from "../backend.ts";
import type { HistoryQuery } from "../market-reads.ts";
import type { CheckOrder, MarginQuery, OrderFilter, ProfitQuery } from "../pending.ts";
import type { WireObject } from "./framing.ts";
import {
  type EaSymbolExtras,
  type ServerTime,
  toDeal,
  toPosition,
  toSymbolExtras,
  toSymbolInfo,
} from "./mapping.ts";
import { toHistoryDeal, toSymbolName } from "./market-mapping.ts";
import {
  marginFields,
  orderCheckFields,
  profitFields,
  toMargin,
  toOrderCheck,
  toTradeOrder,
} from "./pending-mapping.ts";
import { TerminalCommandError } from "./reply-channel.ts";
import { LinkProtocolError, type WireFields } from "./wire-fields.ts";

/** §7.3: 1–1000 items per page. */
export const PAGE_LIMIT = 1000;
/** 100,000 positions or deals: far beyond any account, small enough to stay bounded. */
export const MAX_PAGES = 100;
/** Re-reads from offset 0 when the listing keeps changing underneath. */
const MAX_RESTARTS = 3;
/** The EA's integers stay within 18 characters (§4); JavaScript's within 2^53. */
const MAX_SERVER_MS = Number.MAX_SAFE_INTEGER - 86_400_000;

export interface SymbolDetails {
  readonly info: SymbolInfo;
  readonly extras: EaSymbolExtras;
}

export interface IdentifiedPosition {
  readonly position: Position;
  readonly identifier: number;
}

type Exchange = (cmd: string, fields: WireObject) => Promise<WireFields>;

export class TerminalReads {
  readonly #exchange: Exchange;
  readonly #time: () => ServerTime | undefined;

  constructor(exchange: Exchange, time: () => ServerTime | undefined) {
    this.#exchange = exchange;
    this.#time = time;
  }

  positions(symbol?: string): Promise<Position[]> {
    return this.#paged(
      "GET_POSITIONS",
      "positions",
      symbol === undefined ? {} : { symbol },
      (item, time) => toPosition(item, time),
    );
  }

  /**
   * Positions with their `POSITION_IDENTIFIER` (§7.3), which stays when a broker re-opens a
   * position under a new ticket (swap rollover): what the EA falls back to for CLOSE and MODIFY.
   */
  identifiedPositions(): Promise<IdentifiedPosition[]> {
    return this.#paged("GET_POSITIONS", "positions", {}, (item, time) => ({
      position: toPosition(item, time),
      identifier: item.integer("identifier"),
    }));
  }

  /** The open position a CLOSE/MODIFY names: by ticket, else by identifier (§10.2). */
  async findPosition(ticket: number): Promise<Position | undefined> {
    const open = await this.identifiedPositions();
    return (
      open.find((item) => item.position.ticket === ticket) ??
      open.find((item) => item.identifier === ticket)
    )?.position;
  }

  /** GET_SYMBOL_INFO; UNKNOWN_SYMBOL → undefined (§14). */
  async symbolDetails(symbol: string): Promise<SymbolDetails | undefined> {
    const reply = await this.aboutSymbol("GET_SYMBOL_INFO", { symbol });
    if (reply === undefined) return undefined;
    const time = this.#requireTime();
    return { info: toSymbolInfo(reply, time), extras: toSymbolExtras(reply) };
  }

  /** Unix ms in the query become server ms on the wire (§5, §14). */
  async deals(query: DealQuery): Promise<Deal[]> {
    const range = this.#serverRange(query);
    if (range === undefined) return [];
    return this.#paged("GET_DEALS", "deals", range, (item, time) => toDeal(item, time).deal);
  }

  /**
   * GET_ORDERS (§7.9): the EA filters by symbol or ticket; a group mask is matched here, with
   * the same matcher as the sim, so MT5's mask rules have one home.
   */
  async orders(filter: OrderFilter = {}): Promise<TradeOrder[]> {
    const wire: WireObject =
      filter.symbol !== undefined
        ? { symbol: filter.symbol }
        : filter.ticket !== undefined
          ? { ticket: filter.ticket }
          : {};
    const listed = await this.#paged("GET_ORDERS", "orders", wire, toTradeOrder);
    if (filter.group === undefined) return listed;
    const group = compileGroup(filter.group);
    return listed.filter((order) => group.matches(order.symbol));
  }

  /** GET_HISTORY_ORDERS (§7.10): orders whose setup time is in the range, server ms on the wire. */
  async historyOrders(query: DealQuery): Promise<TradeOrder[]> {
    const range = this.#serverRange(query);
    if (range === undefined) return [];
    return this.#paged("GET_HISTORY_ORDERS", "orders", range, toTradeOrder);
  }

  /** GET_SYMBOL_NAMES (§7.13): every symbol the server offers, once each. */
  async symbolNames(): Promise<string[]> {
    const names = await this.#paged("GET_SYMBOL_NAMES", "symbols", {}, toSymbolName);
    return [...new Set(names)];
  }

  /**
   * GET_HISTORY_DEALS (§7.19): the deals of a range (Unix ms, as server ms on the wire), of a
   * position or of one ticket, every type, in the terminal's order.
   */
  async historyDeals(query: HistoryQuery): Promise<HistoryDeal[]> {
    let filter: WireObject;
    if (query.kind === "range") {
      const range = this.#serverRange(query);
      if (range === undefined) return [];
      filter = range;
    } else {
      filter = query.kind === "position" ? { position: query.position } : { ticket: query.ticket };
    }
    return this.#paged("GET_HISTORY_DEALS", "deals", filter, toHistoryDeal);
  }

  /** ORDER_CHECK (§7.11); the EA answers an unknown symbol with retcode 10013, as OrderCheck would. */
  async orderCheck(order: CheckOrder): Promise<OrderCheckResult> {
    const reply = await this.#exchange("ORDER_CHECK", orderCheckFields(order, this.#requireTime()));
    return toOrderCheck(reply);
  }

  /** CALC_MARGIN (§7.12); UNKNOWN_SYMBOL → undefined. */
  async calcMargin(query: MarginQuery): Promise<number | undefined> {
    const reply = await this.aboutSymbol("CALC_MARGIN", marginFields(query));
    return reply === undefined ? undefined : toMargin(reply);
  }

  /** CALC_PROFIT (§7.12); UNKNOWN_SYMBOL → undefined. */
  async calcProfit(query: ProfitQuery): Promise<number | undefined> {
    const reply = await this.aboutSymbol("CALC_PROFIT", profitFields(query));
    return reply === undefined ? undefined : reply.number("profit");
  }

  /** A read naming a symbol; undefined when the EA says UNKNOWN_SYMBOL. */
  async aboutSymbol(cmd: string, fields: WireObject): Promise<WireFields | undefined> {
    try {
      return await this.#exchange(cmd, fields);
    } catch (error) {
      if (error instanceof TerminalCommandError && error.eaError === "UNKNOWN_SYMBOL") {
        return undefined;
      }
      throw error;
    }
  }

  /** A Unix-ms range (and magic) as server ms, clamped to what the EA reads; undefined if empty. */
  #serverRange(query: DealQuery): WireObject | undefined {
    const time = this.#requireTime();
    const from = Math.max(0, Math.floor(time.toServer(query.from)));
    const to = Math.min(MAX_SERVER_MS, Math.floor(time.toServer(query.to)));
    if (to < from) return undefined;
    return { from, to, ...(query.magic === undefined ? {} : { magic: query.magic }) };
  }

  async #paged<T>(
    cmd: string,
    key: string,
    filter: WireObject,
    map: (item: WireFields, time: ServerTime) => T,
  ): Promise<T[]> {
    for (let attempt = 0; attempt <= MAX_RESTARTS; attempt++) {
      const items = await this.#readAll(cmd, key, filter, map);
      if (items !== undefined) return items;
    }
    throw new BackendError(
      FaultCode.BACKEND_UNAVAILABLE,
      `terminal: ${cmd} kept changing while it was paged; try again`,
    );
  }

  /** undefined when `total` changed between pages. */
  async #readAll<T>(
    cmd: string,
    key: string,
    filter: WireObject,
    map: (item: WireFields, time: ServerTime) => T,
  ): Promise<T[] | undefined> {
    const out: T[] = [];
    let total: number | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const reply = await this.#exchange(cmd, { ...filter, offset: out.length, limit: PAGE_LIMIT });
      const time = this.#requireTime();
      const pageTotal = reply.integer("total");
      const offset = reply.integer("offset");
      const count = reply.integer("count");
      const more = reply.boolean("more");
      const items = reply.objects(key, PAGE_LIMIT);
      if (offset !== out.length || count !== items.length || more !== offset + count < pageTotal) {
        throw new LinkProtocolError(
          `terminal: ${cmd} page is inconsistent (offset ${offset}, count ${count} for ${items.length} items, total ${pageTotal}, more ${more})`,
        );
      }
      if (total !== undefined && pageTotal !== total) return undefined;
      total = pageTotal;
      for (const item of items) out.push(map(item, time));
      if (!more) return out;
      if (count === 0) {
        throw new LinkProtocolError(`terminal: ${cmd} says more but sent no items`);
      }
    }
    throw new BackendError(
      FaultCode.BACKEND_UNAVAILABLE,
      `terminal: ${cmd} has more than ${MAX_PAGES * PAGE_LIMIT} items; refusing to read them all`,
    );
  }

  #requireTime(): ServerTime {
    const time = this.#time();
    if (time === undefined) {
      throw new BackendError(FaultCode.BACKEND_UNAVAILABLE, "terminal: EA not connected");
    }
    return time;
  }
}
