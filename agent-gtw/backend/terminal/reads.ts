/**
 * The reads behind more than one frame or an EA error (docs/EA-LINK.md §7.3–§7.5): GET_POSITIONS
 * and GET_DEALS fetched page by page until `more` is false (pages bounded: 1,000 items each, at
 * most MAX_PAGES; a listing whose `total` changes between pages is read again from offset 0), a
 * position found by ticket or identifier, and GET_SYMBOL_INFO with UNKNOWN_SYMBOL as undefined.
 */
import { FaultCode } from "../../../shared/errors.ts";
import type { Deal, Position, SymbolInfo } from "../../../shared/protocol/index.ts";
import { BackendError, type DealQuery } from "../backend.ts";
import type { WireObject } from "./framing.ts";
import {
  type EaSymbolExtras,
  type ServerTime,
  toDeal,
  toPosition,
  toSymbolExtras,
  toSymbolInfo,
} from "./mapping.ts";
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
    let reply: WireFields;
    try {
      reply = await this.#exchange("GET_SYMBOL_INFO", { symbol });
    } catch (error) {
      if (error instanceof TerminalCommandError && error.eaError === "UNKNOWN_SYMBOL") {
        return undefined;
      }
      throw error;
    }
    const time = this.#requireTime();
    return { info: toSymbolInfo(reply, time), extras: toSymbolExtras(reply) };
  }

  /** Unix ms in the query become server ms on the wire (§5, §14). */
  async deals(query: DealQuery): Promise<Deal[]> {
    const time = this.#requireTime();
    const from = Math.max(0, Math.floor(time.toServer(query.from)));
    const to = Math.min(MAX_SERVER_MS, Math.floor(time.toServer(query.to)));
    if (to < from) return [];
    return this.#paged(
      "GET_DEALS",
      "deals",
      { from, to, ...(query.magic === undefined ? {} : { magic: query.magic }) },
      (item, serverTime) => toDeal(item, serverTime).deal,
    );
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
