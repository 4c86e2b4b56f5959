/**
 * The EA's market-data replies (docs/EA-LINK.md §7.13–§7.19) → the market reads' values, each
 * checked against the command that asked for it: rows of the width the protocol carries, times
 * inside the asked range and in order, a `next` that moves forward, names the batch command can
 * carry. A reply outside the contract throws LinkProtocolError and the link closes; a well-formed
 * value the protocol has no name for (a newer MT5's deal type) throws UnsupportedValueError.
 * Bar and tick times stay in server ms (§5, market-reads.ts); deal times become Unix ms.
 */
import {
  HISTORY_DEAL_ENTRIES,
  HISTORY_DEAL_TYPES,
  HISTORY_REASONS,
  type HistoryDeal,
  type HistoryDealEntry,
  type HistoryDealType,
  type HistoryReason,
  MAX_COMMENT_LENGTH,
  MAX_SYMBOL_LENGTH,
  RATE_FIELDS,
  type RateRow,
  TICK_FIELDS,
  type Tick,
  type TickRow,
} from "../../../shared/protocol/index.ts";
import type { Chunk, RateSpan } from "../market-reads.ts";
import { magic, type ServerTime, UnsupportedValueError } from "./mapping.ts";
import { LinkProtocolError, type WireFields } from "./wire-fields.ts";

/** Room the protocol gives a deal's comment and external id (market-reply-shapes.ts). */
const MAX_HISTORY_TEXT = 2 * MAX_COMMENT_LENGTH + 2;

function violation(message: string): LinkProtocolError {
  return new LinkProtocolError(`terminal: ${message}`);
}

function nonNegative(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw violation(`${what} must be an integer ≥ 0 (was ${value})`);
  }
  return value;
}

/** A name of GET_SYMBOL_NAMES (§7.13): what GET_SYMBOLS can carry back, comma-separated. */
export function toSymbolName(item: WireFields): string {
  const name = item.string("name");
  const control = [...name].some((char) => char.charCodeAt(0) < 32);
  if (name.length === 0 || name.length > MAX_SYMBOL_LENGTH || name.includes(",") || control) {
    throw violation(
      `GET_SYMBOL_NAMES name ${JSON.stringify(name)} must be 1-${MAX_SYMBOL_LENGTH} characters without commas or control characters`,
    );
  }
  return name;
}

/** GET_TICK (§7.15): MqlTick; time_msc 0 when the symbol has no quote yet. */
export function toTick(fields: WireFields): Tick {
  return {
    time_msc: nonNegative(fields.integer("time_msc"), "GET_TICK time_msc"),
    bid: fields.number("bid"),
    ask: fields.number("ask"),
    last: fields.number("last"),
    volume: nonNegative(fields.integer("volume"), "GET_TICK volume"),
    flags: nonNegative(fields.integer("flags"), "GET_TICK flags"),
    volume_real: fields.number("volume_real"),
  };
}

/** GET_RATE_SPAN (§7.16); a bar opens on a whole second, and not after a date anchor. */
export function toRateSpan(fields: WireFields, anchor: number | undefined): RateSpan | "none" {
  if (!fields.boolean("found")) return "none";
  const from = fields.integer("from");
  const to = fields.integer("to");
  const late = anchor !== undefined && to > anchor;
  if (from <= 0 || to < from || from % 1000 !== 0 || to % 1000 !== 0 || late) {
    throw violation(
      `GET_RATE_SPAN from ${from}, to ${to} are not bar open times in order${late ? ` at or before ${anchor}` : ""}`,
    );
  }
  return { from, to };
}

/** Where a range read stands: asked [from, to], at most `limit` rows. */
export interface RangeAsked {
  readonly from: number;
  readonly to: number;
  readonly limit: number;
}

/** The rows of a range, checked: in [from, to], ascending (strictly when `strict`), ≤ limit. */
function rangeRows(
  fields: WireFields,
  key: "rates" | "ticks",
  width: number,
  asked: RangeAsked,
  strict: boolean,
): number[][] {
  const rows = fields.rows(key, width, asked.limit);
  if (fields.integer("count") !== rows.length) {
    throw violation(`${key} count ${fields.integer("count")} ≠ ${rows.length} rows`);
  }
  let previous = -1;
  for (const row of rows) {
    const time = row[0] as number;
    if (!Number.isSafeInteger(time) || time < asked.from || time > asked.to) {
      throw violation(`${key} row time ${time} is outside [${asked.from}, ${asked.to}]`);
    }
    if (time < previous || (strict && time === previous)) {
      throw violation(`${key} rows are not in time order (${time} after ${previous})`);
    }
    previous = time;
  }
  return rows;
}

/** GET_RATES (§7.17): bars open on whole seconds, one per open time, counts are integers. */
export function toRatesChunk(fields: WireFields, asked: RangeAsked): Chunk<RateRow, number> {
  const rows = rangeRows(fields, "rates", RATE_FIELDS.length, asked, true);
  for (const row of rows) {
    const [time, , , , , tickVolume, spread, realVolume] = row as unknown as RateRow;
    if (time % 1000 !== 0) throw violation(`rates row time ${time} is not a whole second`);
    nonNegative(tickVolume, "rates tick_volume");
    nonNegative(realVolume, "rates real_volume");
    if (!Number.isSafeInteger(spread)) throw violation(`rates spread ${spread} is not an integer`);
  }
  const more = fields.boolean("more");
  const next = fields.integer("next");
  // Each call must move on: past its last bar, or past `from` when it found none
  const last = rows.length === 0 ? asked.from : (rows[rows.length - 1]?.[0] as number);
  if (more ? next <= last || next > asked.to : next !== 0) {
    throw violation(
      `GET_RATES next ${next} (more ${more}) does not move past ${last} within ${asked.to}`,
    );
  }
  return { rows: rows as unknown as RateRow[], next: more ? next : undefined };
}

export interface TicksAsked extends RangeAsked {
  readonly skip: number;
}

/** GET_TICKS (§7.18): `next_from`/`next_skip` move forward, never back to where the call began. */
export function toTicksChunk(
  fields: WireFields,
  asked: TicksAsked,
): Chunk<TickRow, { from: number; skip: number }> {
  const rows = rangeRows(fields, "ticks", TICK_FIELDS.length, asked, false);
  for (const row of rows) {
    const [, , , , volume, flags] = row as unknown as TickRow;
    nonNegative(volume, "ticks volume");
    nonNegative(flags, "ticks flags");
  }
  const more = fields.boolean("more");
  const from = fields.integer("next_from");
  const skip = fields.integer("next_skip");
  if (!more) {
    if (from !== 0 || skip !== 0) throw violation("GET_TICKS next_from/next_skip without more");
    return { rows: rows as unknown as TickRow[], next: undefined };
  }
  const last = rows.length === 0 ? asked.from : (rows[rows.length - 1]?.[0] as number);
  const forward = from > asked.from || (from === asked.from && skip > asked.skip);
  if (!forward || from < last || from > asked.to || skip < 0 || skip > rows.length + asked.skip) {
    throw violation(
      `GET_TICKS next ${from}/${skip} does not move past ${asked.from}/${asked.skip} within ${asked.to}`,
    );
  }
  return { rows: rows as unknown as TickRow[], next: { from, skip } };
}

function member<T extends string>(
  fields: WireFields,
  key: string,
  allowed: readonly T[],
  ticket: number,
): T {
  const value = fields.string(key);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UnsupportedValueError(
      `terminal: deal ${ticket} has ${key} ${value}, which this gateway's protocol has no name for`,
    );
  }
  return value as T;
}

function historyText(fields: WireFields, key: string, ticket: number): string {
  const value = fields.string(key);
  if (value.length > MAX_HISTORY_TEXT) {
    throw new UnsupportedValueError(
      `terminal: deal ${ticket} ${key} has ${value.length} characters, the protocol carries ${MAX_HISTORY_TEXT}`,
    );
  }
  return value;
}

/** A deal of GET_HISTORY_DEALS (§7.19), every type; time back to Unix ms. */
export function toHistoryDeal(fields: WireFields, time: ServerTime): HistoryDeal {
  const ticket = fields.integer("ticket");
  if (ticket <= 0) throw violation(`history deal ticket was ${ticket}`);
  const symbol = fields.string("symbol");
  if (symbol.length > MAX_SYMBOL_LENGTH) {
    throw violation(`history deal ${ticket} symbol has more than ${MAX_SYMBOL_LENGTH} characters`);
  }
  const dealTime = fields.integer("time");
  if (dealTime <= 0) throw violation(`history deal ${ticket} time was ${dealTime}`);
  return {
    ticket,
    order: nonNegative(fields.integer("order"), "history deal order"),
    position: nonNegative(fields.integer("position"), "history deal position"),
    symbol,
    type: member<HistoryDealType>(fields, "type", HISTORY_DEAL_TYPES, ticket),
    entry: member<HistoryDealEntry>(fields, "entry", HISTORY_DEAL_ENTRIES, ticket),
    reason: member<HistoryReason>(fields, "reason", HISTORY_REASONS, ticket),
    volume: fields.number("volume"),
    price: fields.number("price"),
    profit: fields.number("profit"),
    commission: fields.number("commission"),
    swap: fields.number("swap"),
    fee: fields.number("fee"),
    magic: magic(fields),
    comment: historyText(fields, "comment", ticket),
    external_id: historyText(fields, "external_id", ticket),
    time: time.toUnix(dealTime),
  };
}
