/**
 * The terminal backend's market reads (backend/market-reads.ts) through the EA (docs/EA-LINK.md
 * §7.10, §7.13–§7.19): the server's symbol list and specifications by the batch, the last tick,
 * bar spans and bars, ticks, and the deal and order history. The gateway's market handler pages
 * and filters; this class turns each bounded question into EA commands and checks every answer
 * (market-mapping.ts).
 *
 * What the EA answers instead of data: UNKNOWN_SYMBOL (undefined, as MarketReads says),
 * HISTORY_LOADING (BACKEND_HISTORY_LOADING: MT5 is downloading the history; ask again),
 * HISTORY_LIMIT (BACKEND_UNSUPPORTED: beyond the terminal's Max bars in chart). An EA older than
 * MARKET_EA_VERSION has none of these commands: BACKEND_UNSUPPORTED, naming the upgrade.
 */
import { FaultCode } from "../../../shared/errors.ts";
import type { Logger } from "../../../shared/log.ts";
import {
  type HistoryDeal,
  MAX_SYMBOL_LENGTH,
  mt5Timeframe,
  type RateRow,
  type SymbolInfo,
  type Tick,
  type TickRow,
  type TradeOrder,
} from "../../../shared/protocol/index.ts";
import { BackendError } from "../backend.ts";
import {
  type Chunk,
  DEAL_KEY,
  type HistoryCursor,
  type HistoryQuery,
  type MarketReads,
  ORDER_KEY,
  pageOfHistory,
  type RateSpan,
  type RateSpanQuery,
  type RatesQuery,
  type TicksQuery,
} from "../market-reads.ts";
import type { WireObject } from "./framing.ts";
import { type ServerTime, toSymbolInfo, UnsupportedValueError } from "./mapping.ts";
import { toRateSpan, toRatesChunk, toTick, toTicksChunk } from "./market-mapping.ts";
import type { TerminalReads } from "./reads.ts";
import { TerminalCommandError } from "./reply-channel.ts";
import { LinkProtocolError, type WireFields } from "./wire-fields.ts";

/** The first EA with the market-data commands (§7.13–§7.19). */
export const MARKET_EA_VERSION = "2.2.0";
/** The EA commands behind the market reads (all but GET_HISTORY_ORDERS, which came with 2.1.0). */
export const MARKET_COMMANDS = [
  "GET_SYMBOL_NAMES",
  "GET_SYMBOLS",
  "GET_TICK",
  "GET_RATE_SPAN",
  "GET_RATES",
  "GET_TICKS",
  "GET_HISTORY_DEALS",
] as const;
/** GET_SYMBOLS (§7.14) takes at most 200 names, comma-separated in one ≤ 8,192-character string. */
export const MAX_SYMBOL_BATCH = 200;
const MAX_BATCH_CHARS = 8192;
/** GET_TICKS passes over at most this many ticks of one millisecond (§7.18). */
export const MAX_TICK_SKIP = 10_000;
/** TimeTradeServer() counts whole seconds: the broker's clock may be up to 1 s further on. */
const SERVER_CLOCK_SLACK_MS = 1000;

export interface TerminalMarketOptions {
  /** One command through the reply channel (ok:false → TerminalCommandError). */
  readonly exchange: (cmd: string, fields: WireObject) => Promise<WireFields>;
  /** Runs a read so that a malformed reply closes the link (ReplyChannel.guard). */
  readonly guard: <T>(run: () => Promise<T>) => Promise<T>;
  readonly reads: TerminalReads;
  readonly time: () => ServerTime | undefined;
  /** The broker's clock now in Unix ms (LinkStatus.serverTime). */
  readonly serverTimeUnix: () => number | undefined;
  /** The connected EA's version (HELLO). */
  readonly eaVersion: () => string | undefined;
  readonly logger: Logger;
}

export class TerminalMarket implements MarketReads {
  readonly #options: TerminalMarketOptions;
  /** Symbols whose specification the protocol cannot carry, each logged once. */
  readonly #unsupported = new Set<string>();

  constructor(options: TerminalMarketOptions) {
    this.#options = options;
  }

  serverNow(): number {
    const { time, serverTimeUnix } = this.#options;
    const offset = time();
    const now = serverTimeUnix();
    if (offset === undefined || now === undefined) throw notConnected();
    return offset.toServer(now) + SERVER_CLOCK_SLACK_MS;
  }

  symbolNames(): Promise<readonly string[]> {
    return this.#read(() => this.#options.reads.symbolNames());
  }

  symbolInfos(names: readonly string[]): Promise<SymbolInfo[]> {
    return this.#read(async () => {
      const infos: SymbolInfo[] = [];
      // A name GET_SYMBOLS cannot carry is not one the server listed: unknown, left out
      let rest = names.filter(
        (name) => name !== "" && name.length <= MAX_SYMBOL_LENGTH && !name.includes(","),
      );
      while (rest.length > 0) {
        const batch = takeBatch(rest);
        const taken = await this.#symbolBatch(batch, infos);
        rest = rest.slice(taken);
      }
      return infos;
    });
  }

  lastTick(symbol: string): Promise<Tick | undefined> {
    return this.#read(async () => {
      const reply = await this.#options.reads.aboutSymbol("GET_TICK", { symbol });
      return reply === undefined ? undefined : toTick(reply);
    });
  }

  rateSpan(query: RateSpanQuery): Promise<RateSpan | "none" | undefined> {
    const where = query.anchor === "now" ? { start: query.skip } : { from: query.anchor };
    return this.#read(async () => {
      // copy_rates_from has no position to skip from; the handler never asks for one
      if (query.anchor !== "now" && query.skip !== 0) {
        throw new RangeError("terminal: a rate span back from a date takes no skip");
      }
      const reply = await this.#options.reads.aboutSymbol("GET_RATE_SPAN", {
        symbol: query.symbol,
        timeframe: mt5Timeframe(query.timeframe),
        count: query.count,
        ...where,
      });
      const anchor = query.anchor === "now" ? undefined : query.anchor;
      return reply === undefined ? undefined : toRateSpan(reply, anchor);
    }, `${query.symbol} ${query.timeframe}`);
  }

  rates(query: RatesQuery): Promise<Chunk<RateRow, number> | undefined> {
    return this.#read(async () => {
      const reply = await this.#options.reads.aboutSymbol("GET_RATES", {
        symbol: query.symbol,
        timeframe: mt5Timeframe(query.timeframe),
        from: query.from,
        to: query.to,
        limit: query.limit,
      });
      return reply === undefined ? undefined : toRatesChunk(reply, query);
    }, `${query.symbol} ${query.timeframe}`);
  }

  ticks(query: TicksQuery): Promise<Chunk<TickRow, { from: number; skip: number }> | undefined> {
    // No millisecond holds 10,000 ticks: a cursor claiming more continues after that millisecond
    const start =
      query.skip > MAX_TICK_SKIP
        ? { from: query.from + 1, skip: 0 }
        : { from: query.from, skip: query.skip };
    const asked = { ...query, ...start };
    return this.#read(async () => {
      if (asked.from > asked.to) return { rows: [], next: undefined };
      const reply = await this.#options.reads.aboutSymbol("GET_TICKS", {
        symbol: asked.symbol,
        from: asked.from,
        skip: asked.skip,
        to: asked.to,
        flags: asked.kind,
        limit: asked.limit,
      });
      return reply === undefined ? undefined : toTicksChunk(reply, asked);
    }, `${query.symbol} ticks`);
  }

  /** GET_HISTORY_DEALS (§7.19); a range is asked from the cursor's time on. */
  historyDeals(
    query: HistoryQuery,
    after: HistoryCursor | undefined,
    limit: number,
  ): Promise<Chunk<HistoryDeal, HistoryCursor>> {
    return this.#read(async () => {
      const listed = await this.#options.reads.historyDeals(narrowed(query, after));
      return pageOfHistory(listed, DEAL_KEY, query, after, limit);
    });
  }

  /**
   * GET_HISTORY_ORDERS (§7.10) lists a span of setup times whole: a range is asked from the
   * cursor's time on, a position or a ticket for the whole history; the gateway keeps what the
   * query selects, a page at a time. (Since EA 2.1.0: no version check.)
   */
  historyOrders(
    query: HistoryQuery,
    after: HistoryCursor | undefined,
    limit: number,
  ): Promise<Chunk<TradeOrder, HistoryCursor>> {
    return this.#options.guard(async () => {
      const range = narrowed(query, after);
      const span =
        range.kind === "range"
          ? { from: range.from, to: range.to }
          : { from: 0, to: Number.MAX_SAFE_INTEGER };
      const listed = await this.#options.reads.historyOrders(span);
      return pageOfHistory(listed, ORDER_KEY, query, after, limit);
    });
  }

  /** One GET_SYMBOLS; the infos of the names it took are added; returns how many it took. */
  async #symbolBatch(batch: readonly string[], infos: SymbolInfo[]): Promise<number> {
    const reply = await this.#options.exchange("GET_SYMBOLS", { symbols: batch.join(",") });
    const time = this.#options.time();
    if (time === undefined) throw notConnected();
    const taken = reply.integer("taken");
    const items = reply.objects("symbols", MAX_SYMBOL_BATCH);
    if (taken < 1 || taken > batch.length || reply.integer("count") !== items.length) {
      throw new LinkProtocolError(
        `terminal: GET_SYMBOLS took ${taken} of ${batch.length} names, count ${reply.integer("count")} for ${items.length} symbols`,
      );
    }
    // The symbols come in the order asked, each one of the names taken, once
    let at = 0;
    for (const item of items) {
      const symbol = item.string("symbol");
      while (at < taken && batch[at] !== symbol) at += 1;
      if (at === taken) {
        throw new LinkProtocolError(`terminal: GET_SYMBOLS answered ${symbol}, not asked there`);
      }
      at += 1;
      try {
        infos.push(toSymbolInfo(item, time));
      } catch (error) {
        if (!(error instanceof UnsupportedValueError)) throw error;
        if (!this.#unsupported.has(symbol)) {
          this.#unsupported.add(symbol);
          this.#options.logger.warn("Symbol left out of GET_SYMBOLS", {
            symbol,
            reason: error.message,
          });
        }
      }
    }
    return taken;
  }

  /**
   * Run a market read: the EA must have the commands, a malformed reply closes the link, and the
   * EA's named refusals become the backend's fault codes. `what` names the series in errors.
   */
  #read<T>(run: () => Promise<T>, what = "the read"): Promise<T> {
    const version = this.#options.eaVersion();
    if (version === undefined) return Promise.reject(notConnected());
    if (olderThan(version, MARKET_EA_VERSION)) {
      return Promise.reject(
        new BackendError(
          FaultCode.BACKEND_UNSUPPORTED,
          `terminal: the EA is GatewayBridge ${version}; market data needs ${MARKET_EA_VERSION} or later: install this release's EA (docs/MT5-SETUP.md §2)`,
        ),
      );
    }
    return this.#options.guard(async () => {
      try {
        return await run();
      } catch (error) {
        throw refusal(error, what);
      }
    });
  }
}

/** A range from the cursor's time on (rows at that time may follow the cursor's ticket). */
function narrowed(query: HistoryQuery, after: HistoryCursor | undefined): HistoryQuery {
  if (query.kind !== "range" || after === undefined) return query;
  return { ...query, from: Math.max(query.from, after.time) };
}

/** The longest head of `names` one GET_SYMBOLS can carry. */
function takeBatch(names: readonly string[]): string[] {
  const batch: string[] = [];
  let chars = -1;
  for (const name of names) {
    if (batch.length === MAX_SYMBOL_BATCH || chars + 1 + name.length > MAX_BATCH_CHARS) break;
    batch.push(name);
    chars += 1 + name.length;
  }
  return batch;
}

function refusal(error: unknown, what: string): unknown {
  if (error instanceof UnsupportedValueError) {
    return new BackendError(FaultCode.BACKEND_UNSUPPORTED, error.message, { cause: error });
  }
  if (!(error instanceof TerminalCommandError)) return error;
  if (error.eaError === "HISTORY_LOADING") {
    return new BackendError(
      FaultCode.BACKEND_HISTORY_LOADING,
      `terminal: MT5 is still loading the history of ${what}; ask again in a few seconds`,
      { cause: error },
    );
  }
  if (error.eaError === "HISTORY_LIMIT") {
    return new BackendError(FaultCode.BACKEND_UNSUPPORTED, error.message, { cause: error });
  }
  return error;
}

function notConnected(): BackendError {
  return new BackendError(FaultCode.BACKEND_UNAVAILABLE, "terminal: EA not connected");
}

/** Whether dotted version `a` is older than `b` (numeric parts; a malformed one counts as 0). */
export function olderThan(a: string, b: string): boolean {
  const parts = (text: string) => text.split(".").map((part) => Number.parseInt(part, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let index = 0; index < Math.max(x.length, y.length); index++) {
    const difference = (x[index] ?? 0) - (y[index] ?? 0);
    if (difference !== 0) return difference < 0;
  }
  return false;
}
