/**
 * Test-only: the fake EA's market-data commands (EA-LINK §7.13–§7.19: BridgeMarket.mqh, and
 * CmdHistoryDeals in BridgeOrders.mqh), rule for rule: the same validation, copy windows, row
 * caps, skip rules and named errors. What MT5 itself holds (which bars and ticks exist and what
 * they are, the deal history) comes from the simulated broker's reads (sim.market), moved onto
 * the broker's server clock; the EA's own rules are modelled here, nowhere else.
 *
 * History the terminal is still loading: `historyLoading` holds, per symbol, how many more
 * copies come back unsynchronized. The EA copies again every 100 ms for 2 s (21 copies), then
 * answers HISTORY_LOADING; the fake counts the copies instead of sleeping.
 */
import type {
  HistoryDeal,
  RateRow,
  Tick,
  TickKind,
  TickRow,
  Timeframe,
} from "../../../../shared/protocol/index.ts";
import type { HistoryQuery } from "../../market-reads.ts";
import { type EaRecord, eaJson, eaRow, type FlatObject } from "./ea-json.ts";
import {
  err,
  type FakeEaState,
  fillingFor,
  ok,
  orderModeFlags,
  page,
  pageArgs,
} from "./fake-reads.ts";
import { eaSymbolInfo } from "./fake-translate.ts";

export const MAX_SYMBOL_BATCH = 200;
export const MAX_NAME_CHARS = 32;
export const MAX_ROWS = 5000;
export const MAX_SPAN_BARS = 1_000_000;
export const MAX_TICK_SKIP = 10_000;
export const HISTORY_WAIT_MS = 2000;
export const HISTORY_RETRY_MS = 100;
/** Copies the EA makes before it gives up on history that is still loading. */
const COPY_ATTEMPTS = HISTORY_WAIT_MS / HISTORY_RETRY_MS + 1;

/** ENUM_TIMEFRAMES values (MQL5 PERIOD_*; the MetaTrader5 package's TIMEFRAME_*), from §13. */
export const PERIOD_VALUES: Readonly<Record<Timeframe, number>> = {
  M1: 1,
  M2: 2,
  M3: 3,
  M4: 4,
  M5: 5,
  M6: 6,
  M10: 10,
  M12: 12,
  M15: 15,
  M20: 20,
  M30: 30,
  H1: 16385,
  H2: 16386,
  H3: 16387,
  H4: 16388,
  H6: 16390,
  H8: 16392,
  H12: 16396,
  D1: 16408,
  W1: 32769,
  MN1: 49153,
};

/** PeriodSeconds(): MN1 counts 30 days. */
function periodSeconds(timeframe: Timeframe): number {
  const value = PERIOD_VALUES[timeframe];
  if (value < 16385) return value * 60;
  if (value < 32769) return (value - 16384) * 3600;
  return timeframe === "W1" ? 7 * 86_400 : 30 * 86_400;
}

const LOADING = err(
  "HISTORY_LOADING",
  "the terminal is still loading this history; ask again in a few seconds",
);

/** Whether the symbol's history is synchronized within the EA's copies (§7.16–§7.18). */
function ready(state: FakeEaState, symbol: string): boolean {
  const left = state.historyLoading.get(symbol) ?? 0;
  if (left === 0) return true;
  if (left <= COPY_ATTEMPTS) {
    state.historyLoading.delete(symbol);
    return true;
  }
  state.historyLoading.set(symbol, left - COPY_ATTEMPTS);
  return false;
}

/** SeriesArgs: symbol, and timeframe by its ENUM_TIMEFRAMES value. */
function seriesArgs(
  request: FlatObject,
): { symbol: string; timeframe: Timeframe } | { reply: EaRecord } {
  const symbol = request.string("symbol");
  if (symbol === undefined || symbol === "") {
    return { reply: err("BAD_REQUEST", "symbol is required") };
  }
  const code = request.integer("timeframe");
  const timeframe = (Object.keys(PERIOD_VALUES) as Timeframe[]).find(
    (name) => PERIOD_VALUES[name] === code,
  );
  if (timeframe === undefined) {
    return {
      reply: err(
        "BAD_REQUEST",
        "timeframe must be an ENUM_TIMEFRAMES value (PERIOD_M1 = 1 ... PERIOD_MN1 = 49153)",
      ),
    };
  }
  return { symbol, timeframe };
}

/** CmdSymbolNames: every symbol, names GET_SYMBOLS cannot carry left out. */
export async function symbolNames(state: FakeEaState, request: FlatObject): Promise<EaRecord> {
  const args = pageArgs(request);
  if (args === undefined) return err("BAD_REQUEST", "offset >= 0 and 1 <= limit <= 1000");
  const names = (await state.sim.market.symbolNames()).filter(
    (name) => !name.includes(",") && name.length <= MAX_NAME_CHARS,
  );
  return page(
    state,
    "symbols",
    names.map((name) => ({ name })),
    args.offset,
    args.limit,
  );
}

/** CmdSymbols: the specifications of a batch of names, unknown ones left out, cut by size. */
export async function symbols(state: FakeEaState, request: FlatObject): Promise<EaRecord> {
  const list = request.string("symbols");
  if (list === undefined) return err("BAD_REQUEST", "symbols (comma-separated names) is required");
  const names = list === "" ? [] : list.split(",");
  if (names.length > MAX_SYMBOL_BATCH) return err("BAD_REQUEST", "at most 200 symbols");
  const items: EaRecord[] = [];
  let chars = 0;
  let taken = 0;
  for (; taken < names.length; taken++) {
    const info = await state.sim.symbolInfo(names[taken] as string);
    if (info === undefined) continue;
    const item = {
      ...eaSymbolInfo(info, state.broker),
      order_mode: orderModeFlags(state, info),
      filling: fillingFor(info),
    };
    // PageAdd: `{` + fields + `}` and a comma
    const size = eaJson(item).length + 1;
    if (chars + size > state.pageBudgetChars) break;
    chars += size;
    items.push(item);
  }
  return ok({ taken, count: items.length, symbols: items });
}

/** CmdTick: MT5's empty tick when there is no quote. */
export async function tick(state: FakeEaState, request: FlatObject): Promise<EaRecord> {
  const symbol = request.string("symbol");
  if (symbol === undefined || symbol === "") return err("BAD_REQUEST", "symbol is required");
  if ((await state.sim.symbolInfo(symbol)) === undefined) {
    return err("UNKNOWN_SYMBOL", `unknown symbol ${symbol}`);
  }
  const last: Tick = (await state.sim.market.lastTick(symbol)) ?? EMPTY_TICK;
  return ok({ ...last, time_msc: state.broker.toServer(last.time_msc) });
}

const EMPTY_TICK: Tick = {
  time_msc: 0,
  bid: 0,
  ask: 0,
  last: 0,
  volume: 0,
  flags: 0,
  volume_real: 0,
};

/** CmdRateSpan: CopyTime by position or back from a date; the oldest and newest open time. */
export async function rateSpan(state: FakeEaState, request: FlatObject): Promise<EaRecord> {
  const count = request.integer("count");
  const start = request.integer("start");
  const from = request.integer("from");
  const byPos = request.has("start");
  if (
    count === undefined ||
    count < 1 ||
    byPos === request.has("from") ||
    (byPos && (start === undefined || start < 0 || start + count > MAX_SPAN_BARS)) ||
    (!byPos && (from === undefined || from < 0 || count > MAX_SPAN_BARS))
  ) {
    return err(
      "BAD_REQUEST",
      "count >= 1 and start (>= 0) or from (server ms) are required; start + count <= 1000000",
    );
  }
  const series = seriesArgs(request);
  if ("reply" in series) return series.reply;
  const { symbol, timeframe } = series;
  if ((await state.sim.symbolInfo(symbol)) === undefined) {
    return err("UNKNOWN_SYMBOL", `unknown symbol ${symbol}`);
  }
  if (!ready(state, symbol)) return LOADING;
  // CopyTime(start, count) or CopyTime(from / 1000 seconds, count)
  const anchor = byPos ? "now" : state.broker.toUnix(Math.floor((from as number) / 1000) * 1000);
  const span = await state.sim.market.rateSpan({
    symbol,
    timeframe,
    anchor,
    skip: byPos ? (start as number) : 0,
    count,
  });
  if (span === undefined || span === "none") return ok({ found: false, from: 0, to: 0 });
  const server = (time: number) => state.broker.toServer(time);
  return ok({ found: true, from: server(span.from), to: server(span.to) });
}

/** `from` ≤ `to` (server ms) and 1 ≤ `limit` ≤ MAX_ROWS, as GET_RATES and GET_TICKS check them. */
function rangeArgs(request: FlatObject): { from: number; to: number; limit: number } | undefined {
  const from = request.integer("from");
  const to = request.integer("to");
  const limit = request.integer("limit");
  if (from === undefined || to === undefined || limit === undefined) return undefined;
  if (from < 0 || to < from || limit < 1 || limit > MAX_ROWS) return undefined;
  return { from, to, limit };
}

/** CmdRates: one window of at most `limit` bar lengths, cut at `limit` rows or the page budget. */
export async function rates(state: FakeEaState, request: FlatObject): Promise<EaRecord> {
  const range = rangeArgs(request);
  if (range === undefined) {
    return err("BAD_REQUEST", "from <= to (server ms) and 1 <= limit <= 5000 are required");
  }
  const { from, to, limit } = range;
  const series = seriesArgs(request);
  if ("reply" in series) return series.reply;
  const { symbol, timeframe } = series;
  if ((await state.sim.symbolInfo(symbol)) === undefined) {
    return err("UNKNOWN_SYMBOL", `unknown symbol ${symbol}`);
  }
  const window = limit * periodSeconds(timeframe) * 1000 - 1;
  const end = Math.min(from + window, to);
  let next = end < to ? end + 1 : 0;
  const first = Math.ceil(from / 1000);
  const last = Math.floor(end / 1000);
  let copied: RateRow[] = [];
  if (first <= last) {
    if (!ready(state, symbol)) return LOADING;
    copied = await copyRates(state, symbol, timeframe, first * 1000, last * 1000);
  }
  const rows: RateRow[] = [];
  let chars = 0;
  for (const row of copied) {
    const size = rowChars(row);
    if (rows.length >= limit || chars + size > state.pageBudgetChars) {
      next = row[0];
      break;
    }
    chars += size;
    rows.push(row);
  }
  return ok({ count: rows.length, more: next > 0, next, rates: rows });
}

/** CopyRates(symbol, timeframe, first, last): every bar opening in [first, last] (server ms). */
async function copyRates(
  state: FakeEaState,
  symbol: string,
  timeframe: Timeframe,
  first: number,
  last: number,
): Promise<RateRow[]> {
  const rows: RateRow[] = [];
  let from = state.broker.toUnix(first);
  const to = state.broker.toUnix(last);
  for (let guard = 0; guard < 10_000; guard++) {
    const chunk = await state.sim.market.rates({ symbol, timeframe, from, to, limit: MAX_ROWS });
    for (const row of chunk?.rows ?? [])
      rows.push([state.broker.toServer(row[0]), ...row.slice(1)] as unknown as RateRow);
    if (chunk?.next === undefined) return rows;
    from = chunk.next;
  }
  throw new Error("fake terminal: CopyRates did not end");
}

/** CmdTicks: CopyTicks(from, limit + skip), the skipped ticks of `from` passed over, cut at `to`. */
export async function ticks(state: FakeEaState, request: FlatObject): Promise<EaRecord> {
  const symbol = request.string("symbol");
  const range = rangeArgs(request);
  const skip = request.has("skip") ? request.integer("skip") : 0;
  const kind = request.has("flags") ? request.string("flags") : "ALL";
  if (
    symbol === undefined ||
    symbol === "" ||
    range === undefined ||
    skip === undefined ||
    skip < 0 ||
    skip > MAX_TICK_SKIP ||
    (kind !== "INFO" && kind !== "TRADE" && kind !== "ALL")
  ) {
    return err(
      "BAD_REQUEST",
      "symbol, from <= to (server ms), 1 <= limit <= 5000, 0 <= skip <= 10000 and flags INFO, TRADE or ALL",
    );
  }
  const { from, to, limit } = range;
  if ((await state.sim.symbolInfo(symbol)) === undefined) {
    return err("UNKNOWN_SYMBOL", `unknown symbol ${symbol}`);
  }
  if (!ready(state, symbol)) {
    return err(
      "HISTORY_LOADING",
      "the terminal is still loading the ticks; ask again in a few seconds",
    );
  }
  const copied = await copyTicks(state, symbol, kind, from, limit + skip);
  const rows: TickRow[] = [];
  let chars = 0;
  let skipped = 0;
  let i = 0;
  for (; i < copied.length; i++) {
    const row = copied[i] as TickRow;
    if (row[0] > to) break;
    if (row[0] === from && skipped < skip) {
      skipped += 1;
      continue;
    }
    const size = rowChars(row);
    if (rows.length >= limit || chars + size > state.pageBudgetChars) break;
    chars += size;
    rows.push(row);
  }
  const n = copied.length;
  const more = (i < n && (copied[i] as TickRow)[0] <= to) || (i === n && n === limit + skip);
  let nextFrom = 0;
  let nextSkip = 0;
  if (more) {
    nextFrom = (copied[i < n ? i : n - 1] as TickRow)[0];
    for (let k = i - 1; k >= 0 && (copied[k] as TickRow)[0] === nextFrom; k--) nextSkip += 1;
  }
  return ok({
    count: rows.length,
    more,
    next_from: nextFrom,
    next_skip: nextSkip,
    ticks: rows,
  });
}

/** CopyTicks(symbol, flags, from, count): the first `count` ticks at or after `from`. */
async function copyTicks(
  state: FakeEaState,
  symbol: string,
  kind: TickKind,
  from: number,
  count: number,
): Promise<TickRow[]> {
  const rows: TickRow[] = [];
  let start = { from: state.broker.toUnix(from), skip: 0 };
  for (let guard = 0; guard < 10_000 && rows.length < count; guard++) {
    const chunk = await state.sim.market.ticks({
      symbol,
      ...start,
      to: Number.MAX_SAFE_INTEGER,
      kind,
      limit: count - rows.length,
    });
    for (const row of chunk?.rows ?? [])
      rows.push([state.broker.toServer(row[0]), ...row.slice(1)] as unknown as TickRow);
    if (chunk?.next === undefined) return rows;
    start = chunk.next;
  }
  return rows;
}

/** The characters a row takes in a reply, with its comma (the EA's budget check). */
function rowChars(row: readonly number[]): number {
  return eaRow(row).length + 1;
}

/** CmdHistoryDeals: a range (DEAL_TIME_MSC, server ms), a position or one ticket, every type. */
export async function historyDeals(state: FakeEaState, request: FlatObject): Promise<EaRecord> {
  const byRange = request.has("from") || request.has("to");
  const byPosition = request.has("position");
  const byTicket = request.has("ticket");
  const from = request.integer("from");
  const to = request.integer("to");
  const position = request.integer("position");
  const ticket = request.integer("ticket");
  if (
    Number(byRange) + Number(byPosition) + Number(byTicket) !== 1 ||
    (byRange && (from === undefined || to === undefined || from < 0 || to < from)) ||
    (byPosition && (position === undefined || position <= 0)) ||
    (byTicket && (ticket === undefined || ticket <= 0))
  ) {
    return err(
      "BAD_REQUEST",
      "one of from + to (server ms, from <= to), position (> 0) or ticket (> 0) is required",
    );
  }
  const args = pageArgs(request);
  if (args === undefined) return err("BAD_REQUEST", "offset >= 0 and 1 <= limit <= 1000");
  const query: HistoryQuery = byRange
    ? {
        kind: "range",
        from: state.broker.toUnix(from as number),
        to: state.broker.toUnix(to as number),
      }
    : byPosition
      ? { kind: "position", position: position as number }
      : { kind: "ticket", ticket: ticket as number };
  const deals: HistoryDeal[] = [];
  let after: { time: number; ticket: number } | undefined;
  for (let guard = 0; guard < 10_000; guard++) {
    const chunk = await state.sim.market.historyDeals(query, after, 500);
    deals.push(...chunk.rows);
    if (chunk.next === undefined) break;
    after = chunk.next;
  }
  const items = deals.map((deal) => ({ ...deal, time: state.broker.toServer(deal.time) }));
  return page(state, "deals", items, args.offset, args.limit);
}
