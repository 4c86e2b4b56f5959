/**
 * How the market-data routes write what the gateway pages (docs/API.md §10): each page's rows,
 * in MT5's units (gateway/market-units.ts), as JSON or CSV text, so an answer can be written page
 * by page as it arrives. Bars and ticks are rows of numbers; the rest are objects.
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
import {
  API_DEAL_FIELDS,
  API_ORDER_FIELDS,
  API_RATE_FIELDS,
  API_TICK_FIELDS,
  apiDeal,
  apiOrder,
  rateRows,
  tickRows,
} from "../gateway/market-units.ts";
import type { MarketFormat } from "./market-input.ts";

export type MarketKind = "symbols" | "rates" | "ticks" | "history_deals" | "history_orders";

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
