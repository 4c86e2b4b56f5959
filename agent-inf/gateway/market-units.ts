/**
 * The gateway's market replies (docs/PROTOCOL.md §14) in the units and field order of the
 * MetaTrader5 Python module, which is what the local API and its streams give strategies:
 * times in Unix **seconds** (`time`), with MT5's millisecond twin where MT5 has one
 * (`time_msc`, `time_setup_msc`, `time_done_msc`); bars and ticks as rows of numbers in MT5's
 * column order (`copy_rates_*`, `copy_ticks_*`), read from each page by its `fields` names.
 */
import {
  type HistoryDeal,
  RATE_FIELDS,
  type RatesReply,
  type TicksReply,
  type TradeOrder,
} from "../../shared/protocol/index.ts";

/**
 * copy_rates_* columns (numpy dtype names of the MetaTrader5 module): the protocol's own, with
 * `time` in seconds instead of ms.
 */
export const API_RATE_FIELDS = RATE_FIELDS;

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

/** MT5 times are whole seconds; ms are floored (a tick at …999 ms is in that second). */
export const seconds = (ms: number) => Math.floor(ms / 1000);

/** Where each wanted protocol field sits in a page's rows (a newer gateway may add columns). */
function columnIndex(fields: readonly string[], wanted: readonly string[]): number[] {
  return wanted.map((name) => {
    const at = fields.indexOf(name);
    if (at < 0)
      throw new Error(`gateway rows lack the column ${name} (fields: ${fields.join(",")})`);
    return at;
  });
}

/** Where each MT5 tick column comes from in the protocol's rows (time is time_msc, floored). */
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
  const at = columnIndex(reply.fields, RATE_FIELDS);
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
