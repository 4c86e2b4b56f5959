/**
 * The gateway's answers to the market-data actions (docs/PROTOCOL.md §14): it turns a validated
 * request, or its cursor, into bounded backend reads (backend/market-reads.ts) and the chunk
 * into one page. The group filter, the page limits and the cursors live here, once, for every
 * backend.
 *
 * Paging holds no state: a cursor carries where the next page starts and the end the first page
 * pinned (a count resolved to a range of bars, or "now" for a tick count), so concurrent pagers
 * cost nothing between pages and a restart of the gateway does not break them. Each page is
 * checked with the client's own reply validator before it is sent, so a backend answer the
 * protocol cannot carry becomes an error here rather than a refused reply at the client.
 */
import type { Clock } from "../../shared/clock.ts";
import type { Logger } from "../../shared/log.ts";
import {
  compileGroup,
  decodeCursor,
  ErrorCode,
  encodeCursor,
  errorReply,
  type GetHistoryDealsRequest,
  type GetHistoryOrdersRequest,
  type GetRatesRequest,
  type GetSymbolsRequest,
  type GetTicksRequest,
  MAX_HISTORY_PER_PAGE,
  MAX_RATES_PER_PAGE,
  MAX_SYMBOLS_PER_PAGE,
  MAX_TICKS_PER_PAGE,
  type MarketRequest,
  okReply,
  PAGE_BYTE_BUDGET,
  parseReplyObject,
  RATE_FIELDS,
  type Reply,
  TICK_FIELDS,
} from "../../shared/protocol/index.ts";
import { BackendError } from "../backend/backend.ts";
import type { Chunk, HistoryCursor, HistoryQuery, MarketReads } from "../backend/market-reads.ts";
import { readFailure } from "../server/read-failure.ts";
import { MAX_QUEUED_READS_PER_CLIENT, ReadScheduler } from "./read-scheduler.ts";

export interface MarketHandlerOptions {
  readonly reads: MarketReads;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The cursor values of a decoded, already validated request (validate-market.ts checked it). */
function cursorValues(
  request: MarketRequest,
  kind: "S" | "R" | "T" | "H",
): readonly (number | string)[] | undefined {
  if (!("cursor" in request) || request.cursor === undefined) return undefined;
  const decoded = decodeCursor(request, kind);
  return decoded.ok ? decoded.values : undefined;
}

export class MarketHandler {
  readonly #options: MarketHandlerOptions;
  readonly #scheduler = new ReadScheduler();

  constructor(options: MarketHandlerOptions) {
    this.#options = options;
  }

  /**
   * Answer one request from `client` (the CURVE identity): GET_TICK at once, the others through
   * the read scheduler, refused with RATE_LIMITED past the client's share of waiting reads.
   */
  async handle(request: MarketRequest, client: string): Promise<Reply> {
    if (request.action === "GET_TICK") return this.#checked(request);
    const scheduled = this.#scheduler.run(client, () => this.#checked(request));
    return (
      scheduled ??
      errorReply(
        request.id,
        ErrorCode.RATE_LIMITED,
        `more than ${MAX_QUEUED_READS_PER_CLIENT} market reads are waiting from ${client}; wait for their replies`,
      )
    );
  }

  async #checked(request: MarketRequest): Promise<Reply> {
    let reply: Reply;
    try {
      reply = await this.#answer(request);
    } catch (error) {
      if (error instanceof BackendError) return readFailure(request.id, error);
      throw error;
    }
    if (reply.status !== "OK") return reply;
    const checked = parseReplyObject(reply as unknown as Record<string, unknown>, request.action);
    if (checked.ok) return reply;
    this.#options.logger.error("Backend answer does not fit the protocol", {
      action: request.action,
      reason: checked.error.message,
    });
    return errorReply(
      request.id,
      ErrorCode.INTERNAL_ERROR,
      `gateway: the backend's answer failed the reply check (${checked.error.message})`,
    );
  }

  async #answer(request: MarketRequest): Promise<Reply> {
    switch (request.action) {
      case "GET_SYMBOLS":
        return this.#symbols(request);
      case "GET_TICK": {
        const tick = await this.#options.reads.lastTick(request.symbol);
        return tick === undefined
          ? unknownSymbol(request.id, request.symbol)
          : okReply(request.id, { tick });
      }
      case "GET_RATES":
        return this.#rates(request);
      case "GET_TICKS":
        return this.#ticks(request);
      case "GET_HISTORY_DEALS":
      case "GET_HISTORY_ORDERS":
        return this.#history(request);
    }
  }

  async #symbols(request: GetSymbolsRequest): Promise<Reply> {
    const { reads } = this.#options;
    const group = request.group === undefined ? undefined : compileGroup(request.group);
    const names = [...(await reads.symbolNames())]
      .filter((name) => group === undefined || group.matches(name))
      .sort();
    const after = cursorValues(request, "S")?.[0] as string | undefined;
    let start = 0;
    if (after !== undefined)
      while (start < names.length && (names[start] as string) <= after) start += 1;
    const page = names.slice(start, start + MAX_SYMBOLS_PER_PAGE);
    const infos = await reads.symbolInfos(page);
    const symbols = fitRows(infos, (rows) => ({ symbols: rows }));
    // Cut to fit: continue after the last one sent; else after the page's last name
    const cut = symbols.length < infos.length;
    const last = cut ? symbols[symbols.length - 1]?.symbol : page[page.length - 1];
    const more = cut || start + page.length < names.length;
    const next = more && last !== undefined ? encodeCursor(request, "S", [last]) : undefined;
    return okReply(request.id, { symbols, total: names.length, ...paging(next) });
  }

  async #rates(request: GetRatesRequest): Promise<Reply> {
    const { reads } = this.#options;
    const { symbol, timeframe } = request;
    let range: { from: number; to: number };
    const cursor = cursorValues(request, "R");
    if (cursor !== undefined) {
      range = { from: cursor[0] as number, to: cursor[1] as number };
    } else if (request.to !== undefined && request.from !== undefined) {
      range = { from: request.from, to: request.to };
    } else {
      const fromPosition = request.start !== undefined;
      const span = await reads.rateSpan({
        symbol,
        timeframe,
        anchor: fromPosition ? "now" : (request.from as number),
        skip: request.start ?? 0,
        count: request.count as number,
      });
      if (span === undefined) return unknownSymbol(request.id, symbol);
      if (span === "none")
        return okReply(request.id, { fields: RATE_FIELDS, rates: [], more: false });
      range = span;
    }
    const chunk = await reads.rates({ symbol, timeframe, ...range, limit: MAX_RATES_PER_PAGE });
    if (chunk === undefined) return unknownSymbol(request.id, symbol);
    const next =
      chunk.next === undefined ? undefined : encodeCursor(request, "R", [chunk.next, range.to]);
    return okReply(request.id, { fields: RATE_FIELDS, rates: chunk.rows, ...paging(next) });
  }

  async #ticks(request: GetTicksRequest): Promise<Reply> {
    const { reads, clock } = this.#options;
    const cursor = cursorValues(request, "T");
    // A count reads up to the broker's clock at the first page, so the pages add up to `count`
    const [from, skip, end, remaining] = (cursor ?? [
      request.from,
      0,
      request.to ?? reads.serverNow?.() ?? clock.now(),
      request.count ?? 0,
    ]) as [number, number, number, number];
    const limit = remaining > 0 ? Math.min(MAX_TICKS_PER_PAGE, remaining) : MAX_TICKS_PER_PAGE;
    const chunk = await reads.ticks({
      symbol: request.symbol,
      from,
      skip,
      to: end,
      kind: request.flags ?? "ALL",
      limit,
    });
    if (chunk === undefined) return unknownSymbol(request.id, request.symbol);
    const left = remaining > 0 ? remaining - chunk.rows.length : 0;
    const done = chunk.next === undefined || (remaining > 0 && left <= 0);
    const next = done
      ? undefined
      : encodeCursor(request, "T", [chunk.next!.from, chunk.next!.skip, end, left]);
    return okReply(request.id, { fields: TICK_FIELDS, ticks: chunk.rows, ...paging(next) });
  }

  async #history(request: GetHistoryDealsRequest | GetHistoryOrdersRequest): Promise<Reply> {
    const { reads } = this.#options;
    const query: HistoryQuery =
      request.position !== undefined
        ? { kind: "position", position: request.position }
        : request.ticket !== undefined
          ? { kind: "ticket", ticket: request.ticket }
          : { kind: "range", from: request.from as number, to: request.to as number };
    const values = cursorValues(request, "H");
    const after: HistoryCursor | undefined =
      values === undefined ? undefined : { time: values[0] as number, ticket: values[1] as number };
    const group = request.group === undefined ? undefined : compileGroup(request.group);
    const page = <Row extends { symbol: string; ticket: number }>(
      chunk: Chunk<Row, HistoryCursor>,
      field: "history_deals" | "history_orders",
      timeOf: (row: Row) => number,
    ): Reply => {
      const rows =
        group === undefined ? chunk.rows : chunk.rows.filter((row) => group.matches(row.symbol));
      const kept = fitRows(rows, (part) => ({ [field]: part }));
      // A page cut to fit the reply continues after its last row; an uncut one where the backend said
      const last = kept[kept.length - 1];
      const at =
        kept.length < rows.length && last !== undefined
          ? { time: timeOf(last), ticket: last.ticket }
          : chunk.next;
      const next = at === undefined ? undefined : encodeCursor(request, "H", [at.time, at.ticket]);
      return okReply(request.id, { [field]: kept, ...paging(next) });
    };
    if (request.action === "GET_HISTORY_DEALS") {
      const chunk = await reads.historyDeals(query, after, MAX_HISTORY_PER_PAGE);
      return page(chunk, "history_deals", (deal) => deal.time);
    }
    const chunk = await reads.historyOrders(query, after, MAX_HISTORY_PER_PAGE);
    return page(chunk, "history_orders", (order) => order.time_setup);
  }
}

/**
 * The longest prefix of `rows` whose reply stays within MAX_REPLY_BYTES. Rows of numbers have a
 * fixed worst case (market-types.ts), but text from a backend can be long or escape to several
 * bytes per character; the page is cut rather than sent too big for the client to take.
 */
function fitRows<Row>(
  rows: readonly Row[],
  body: (rows: readonly Row[]) => object,
): readonly Row[] {
  let kept = rows;
  for (;;) {
    const bytes = encoder.encode(JSON.stringify(body(kept))).length;
    if (bytes <= PAGE_BYTE_BUDGET || kept.length <= 1) return kept;
    kept = kept.slice(0, Math.max(1, Math.floor((kept.length * PAGE_BYTE_BUDGET) / bytes) - 1));
  }
}

const encoder = new TextEncoder();

function paging(next: string | undefined): { more: boolean; next?: string } {
  return next === undefined ? { more: false } : { more: true, next };
}

function unknownSymbol(id: string, symbol: string): Reply {
  return errorReply(id, ErrorCode.UNKNOWN_SYMBOL, `the broker does not know ${symbol}`);
}
