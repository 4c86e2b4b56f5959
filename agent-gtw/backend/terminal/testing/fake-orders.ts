/**
 * Test-only: the fake EA's order reads and pre-trade calculations (EA-LINK §7.9–§7.12;
 * BridgeOrders.mqh): GET_ORDERS and GET_HISTORY_ORDERS paged like GET_POSITIONS, ORDER_CHECK,
 * CALC_MARGIN and CALC_PROFIT, answered from the simulated broker with the EA's validation.
 */
import { Retcode, type Side } from "../../../../shared/protocol/index.ts";
import { historyOrders as simHistoryOrders } from "../../sim/testing/support.ts";
import type { EaRecord, FlatObject } from "./ea-json.ts";
import { orderTerms, requestTerms } from "./fake-pending-build.ts";
import { err, type FakeEaState, ok, page, pageArgs } from "./fake-reads.ts";
import { commonProblem } from "./fake-trade-build.ts";
import { eaOrder } from "./fake-translate.ts";

const PAGE_ERROR = "offset >= 0 and 1 <= limit <= 1000";

/** CmdOrders: the active pending orders, by symbol or ticket. */
export async function orders(state: FakeEaState, request: FlatObject): Promise<EaRecord> {
  const symbol = request.string("symbol");
  const ticket = request.integer("ticket");
  if (request.has("ticket") && (ticket === undefined || ticket <= 0)) {
    return err("BAD_REQUEST", "ticket must be an integer > 0");
  }
  const args = pageArgs(request);
  if (args === undefined) return err("BAD_REQUEST", PAGE_ERROR);
  const matching = (await state.sim.orders())
    .filter((o) => symbol === undefined || symbol === "" || o.symbol === symbol)
    .filter((o) => ticket === undefined || o.ticket === ticket)
    .map((o) => eaOrder(o, state.broker));
  return page(state, "orders", matching, args.offset, args.limit);
}

/** CmdHistoryOrders: orders that left the book, by their setup time (server ms). */
export async function historyOrders(state: FakeEaState, request: FlatObject): Promise<EaRecord> {
  const from = request.integer("from");
  const to = request.integer("to");
  if (from === undefined || to === undefined || from < 0 || to < from) {
    return err("BAD_REQUEST", "from and to are required (server-time ms, from <= to)");
  }
  const magic = request.integer("magic");
  const args = pageArgs(request);
  if (args === undefined) return err("BAD_REQUEST", PAGE_ERROR);
  // Every kind of order that left the book, as the EA lists them (market ones too)
  const span = { from: state.broker.toUnix(from), to: state.broker.toUnix(to) };
  const matching = (await simHistoryOrders(state.sim, { kind: "range", ...span }))
    .filter((o) => magic === undefined || o.magic === magic)
    .map((o) => eaOrder(o, state.broker));
  return page(state, "orders", matching, args.offset, args.limit);
}

/** CmdOrderCheck: MqlTradeCheckResult of the request PLACE (or OPEN) would send. */
export async function orderCheck(state: FakeEaState, request: FlatObject): Promise<EaRecord> {
  const read = orderTerms(request, state, true);
  if ("reply" in read) return read.reply;
  const common = commonProblem(request);
  if (common !== undefined) return common;
  const terms = read.terms;
  const info = await state.sim.symbolInfo(terms.symbol);
  const pending = terms.type !== "BUY" && terms.type !== "SELL";
  const sent =
    info === undefined
      ? { ...terms, stoplimit: null, sl: null, tp: null, filling: null, magic: 0, comment: "" }
      : requestTerms(state, request, info, terms);
  const check = await state.sim.orderCheck({
    ...sent,
    type: terms.type,
    price: pending ? sent.price : undefined,
    deviation: request.integer("deviation") ?? state.deviation,
  });
  return ok({
    retcode: check.retcode,
    balance: check.balance,
    equity: check.equity,
    profit: check.profit,
    margin: check.margin,
    margin_free: check.margin_free,
    margin_level: check.margin_level,
    // An unknown symbol is the EA's own answer (nothing to select, so no OrderCheck)
    comment:
      info === undefined && check.retcode === Retcode.INVALID
        ? `unknown symbol ${terms.symbol}`
        : check.comment,
  });
}

/** The fields CALC_MARGIN and CALC_PROFIT share; a BAD_REQUEST reply when one is wrong. */
function calcArgs(
  request: FlatObject,
  prices: readonly string[],
):
  | { readonly args: { symbol: string; side: Side; volume: number; prices: number[] } }
  | { readonly reply: EaRecord } {
  const symbol = request.string("symbol");
  const side = request.string("side");
  const volume = request.number("volume");
  const values = prices.map((key) => request.number(key));
  if (
    symbol === undefined ||
    (side !== "BUY" && side !== "SELL") ||
    volume === undefined ||
    volume <= 0 ||
    values.some((value) => value === undefined || value <= 0)
  ) {
    return {
      reply: err(
        "BAD_REQUEST",
        `symbol, side (BUY or SELL), volume > 0 and ${prices.join(", ")} > 0 are required`,
      ),
    };
  }
  return { args: { symbol, side, volume, prices: values as number[] } };
}

/** CmdCalcMargin: OrderCalcMargin. */
export async function calcMargin(state: FakeEaState, request: FlatObject): Promise<EaRecord> {
  const read = calcArgs(request, ["price"]);
  if ("reply" in read) return read.reply;
  const { args } = read;
  const margin = await state.sim.calcMargin({
    symbol: args.symbol,
    side: args.side,
    volume: args.volume,
    price: args.prices[0] as number,
  });
  if (margin === undefined) return err("UNKNOWN_SYMBOL", `unknown symbol ${args.symbol}`);
  return ok({ margin });
}

/** CmdCalcProfit: OrderCalcProfit. */
export async function calcProfit(state: FakeEaState, request: FlatObject): Promise<EaRecord> {
  const read = calcArgs(request, ["price_open", "price_close"]);
  if ("reply" in read) return read.reply;
  const { args } = read;
  const [priceOpen, priceClose] = args.prices as [number, number];
  const profit = await state.sim.calcProfit({
    symbol: args.symbol,
    side: args.side,
    volume: args.volume,
    priceOpen,
    priceClose,
  });
  if (profit === undefined) return err("UNKNOWN_SYMBOL", `unknown symbol ${args.symbol}`);
  return ok({ profit });
}
