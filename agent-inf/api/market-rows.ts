/**
 * How the market-data routes write what the gateway pages (docs/API.md §10): each page's rows
 * in the units and field order of the MetaTrader5 Python module, as JSON or CSV text, so an
 * answer can be written page by page as it arrives.
 *
 * Units: times are Unix **seconds** as MT5 gives them (`time`), with MT5's millisecond twin
 * where MT5 has one (`time_msc`, `time_setup_msc`, `time_done_msc`). Bars and ticks are rows of
 * numbers in MT5's column order (`copy_rates_*`, `copy_ticks_*`); deals and orders are objects.
 *
 * JSON layout, one row per line, so a reader can parse it as it streams:
 *
 *     {"gateway":"gtw-1","symbol":"EURUSD","timeframe":"M5","fields":[…],"rates":[
 *     [1795002300,1.10178,1.10195,1.10141,1.10149,329,10,0],
 *     [1795002600,1.10149,1.10164,1.10066,1.10069,397,12,0]
 *     ],"count":2}
 *
 * The last line (`],"count":N}`) is written only when every page arrived: an answer without it
 * was cut short (docs/API.md §10.6).
 */
import type {
  HistoryDeal,
  RatesReply,
  Reply,
  SymbolsReply,
  TicksReply,
  TradeOrder,
} from "../../shared/protocol/index.ts";
import type { MarketFormat } from "./market-input.ts";

export type MarketKind = "symbols" | "rates" | "ticks" | "history_deals" | "history_orders";

/** copy_rates_* columns (numpy dtype names of the MetaTrader5 module). */
export const API_RATE_FIELDS = [
  "time",
  "open",
  "high",
  "low",
  "close",
  "tick_volume",
  "spread",
  "real_volume",
] as const;

/** copy_ticks_* columns: `time` in seconds and `time_msc` in ms, as in MT5. */
export const API_TICK_FIELDS = [
  "time",
  "bid",
  "ask",
  "last",
  "volume",
  "time_msc",
  "flags",
  "volume_real",
] as const;

export const API_DEAL_FIELDS = [
  "ticket",
  "order",
  "time",
  "time_msc",
  "type",
  "entry",
  "magic",
  "position",
  "reason",
  "volume",
  "price",
  "commission",
  "swap",
  "profit",
  "fee",
  "symbol",
  "comment",
  "external_id",
] as const;

export const API_ORDER_FIELDS = [
  "ticket",
  "time_setup",
  "time_setup_msc",
  "time_done",
  "time_done_msc",
  "time_expiration",
  "type",
  "type_time",
  "type_filling",
  "state",
  "magic",
  "position_id",
  "position_by_id",
  "reason",
  "volume_initial",
  "volume_current",
  "price_open",
  "sl",
  "tp",
  "price_current",
  "price_stoplimit",
  "symbol",
  "comment",
  "external_id",
] as const;

const seconds = (ms: number) => Math.floor(ms / 1000);

/** Where each wanted protocol field sits in a page's rows (a newer gateway may add columns). */
function columnIndex(fields: readonly string[], wanted: readonly string[]): number[] {
  return wanted.map((name) => {
    const at = fields.indexOf(name);
    if (at < 0)
      throw new Error(`gateway rows lack the column ${name} (fields: ${fields.join(",")})`);
    return at;
  });
}

const RATE_SOURCE = [
  "time",
  "open",
  "high",
  "low",
  "close",
  "tick_volume",
  "spread",
  "real_volume",
];
const TICK_SOURCE = [
  "time_msc",
  "bid",
  "ask",
  "last",
  "volume",
  "time_msc",
  "flags",
  "volume_real",
];

/** A page of bars as MT5 rows: the open time in seconds, then the prices and volumes. */
export function rateRows(reply: RatesReply): number[][] {
  const at = columnIndex(reply.fields, RATE_SOURCE);
  return reply.rates.map((row) => {
    const out = at.map((index) => row[index] as number);
    out[0] = seconds(out[0] as number);
    return out;
  });
}

/** A page of ticks as MT5 rows: time (s), bid, ask, last, volume, time_msc, flags, volume_real. */
export function tickRows(reply: TicksReply): number[][] {
  const at = columnIndex(reply.fields, TICK_SOURCE);
  return reply.ticks.map((row) => {
    const out = at.map((index) => row[index] as number);
    out[0] = seconds(out[0] as number);
    return out;
  });
}

/** A deal with MT5's time fields: `time` in seconds and `time_msc`. */
export function apiDeal(deal: HistoryDeal): Record<string, unknown> {
  return { ...deal, time: seconds(deal.time), time_msc: deal.time };
}

/** An order with MT5's time fields: seconds, and the `_msc` twins of setup and done. */
export function apiOrder(order: TradeOrder): Record<string, unknown> {
  return {
    ...order,
    time_setup: seconds(order.time_setup),
    time_setup_msc: order.time_setup,
    time_done: seconds(order.time_done),
    time_done_msc: order.time_done,
    time_expiration: seconds(order.time_expiration),
  };
}

/** The rows of one page, arrays (bars, ticks) or objects (the rest). */
export function pageRows(kind: MarketKind, reply: Reply): readonly unknown[] {
  switch (kind) {
    case "rates":
      return rateRows(reply as RatesReply);
    case "ticks":
      return tickRows(reply as TicksReply);
    case "history_deals":
      return (reply as unknown as { history_deals: HistoryDeal[] }).history_deals.map(apiDeal);
    case "history_orders":
      return (reply as unknown as { history_orders: TradeOrder[] }).history_orders.map(apiOrder);
    case "symbols":
      return (reply as SymbolsReply).symbols;
  }
}

/** CSV columns of a kind (JSON names the same fields). */
export function columnsOf(kind: MarketKind): readonly string[] {
  switch (kind) {
    case "rates":
      return API_RATE_FIELDS;
    case "ticks":
      return API_TICK_FIELDS;
    case "history_deals":
      return API_DEAL_FIELDS;
    case "history_orders":
      return API_ORDER_FIELDS;
    case "symbols":
      return [];
  }
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180)

/** One CSV field: numbers as JSON writes them, null as empty, text quoted when it must be. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return String(value);
  const text = Array.isArray(value) ? value.join(" ") : String(value);
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

function csvLine(kind: MarketKind, row: unknown): string {
  if (Array.isArray(row)) return row.join(",");
  const object = row as Record<string, unknown>;
  return columnsOf(kind)
    .map((name) => csvCell(object[name]))
    .join(",");
}

// ---------------------------------------------------------------------------------------------
// Writers

/** Text of one answer, written in pieces: head, each page's rows, and the end. */
export class MarketWriter {
  readonly #kind: MarketKind;
  readonly #format: MarketFormat;
  #count = 0;

  constructor(kind: MarketKind, format: MarketFormat) {
    this.#kind = kind;
    this.#format = format;
  }

  get count(): number {
    return this.#count;
  }

  /** The opening: the CSV header line, or the JSON object up to its array's `[`. */
  head(meta: Readonly<Record<string, unknown>>): string {
    if (this.#format === "csv") return `${columnsOf(this.#kind).join(",")}\r\n`;
    const fields =
      this.#kind === "rates" || this.#kind === "ticks" ? { fields: columnsOf(this.#kind) } : {};
    const open = JSON.stringify({ ...meta, ...fields });
    return `${open.slice(0, -1)}${open.length > 2 ? "," : ""}${JSON.stringify(this.#kind)}:[\n`;
  }

  /** The rows of a page ("" when it has none). */
  rows(rows: readonly unknown[]): string {
    if (rows.length === 0) return "";
    const lines: string[] = [];
    if (this.#format === "csv") {
      for (const row of rows) lines.push(csvLine(this.#kind, row));
      this.#count += rows.length;
      return `${lines.join("\r\n")}\r\n`;
    }
    for (const row of rows)
      lines.push(Array.isArray(row) ? `[${row.join(",")}]` : JSON.stringify(row));
    // The comma goes before a row, so the last one needs none whichever page it came in
    const text = `${this.#count === 0 ? "" : ",\n"}${lines.join(",\n")}`;
    this.#count += rows.length;
    return text;
  }

  /** The end: nothing more for CSV; for JSON the array's close and the row count. */
  end(): string {
    if (this.#format === "csv") return "";
    return `${this.#count === 0 ? "" : "\n"}],"count":${this.#count}}\n`;
  }
}

export const CONTENT_TYPES: Readonly<Record<MarketFormat, string>> = {
  json: "application/json",
  csv: "text/csv; charset=utf-8; header=present",
};
