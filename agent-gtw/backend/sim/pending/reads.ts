/**
 * What the simulated terminal answers without trading: the active pending orders (their history
 * is read with the deals', history/account-history.ts), the pre-trade check (OrderCheck) and the
 * margin and profit calculators (OrderCalcMargin, OrderCalcProfit). The money comes from account/margin.ts and account/figures.ts, the same
 * formulas trading uses, so a check and the trade it checks cannot disagree.
 */
import {
  compileGroup,
  type OrderCheckResult,
  orderSide,
  Retcode,
  type TradeOrder,
} from "../../../../shared/protocol/index.ts";
import type { CheckOrder, MarginQuery, OrderFilter, ProfitQuery } from "../../pending.ts";
import { accountFigures } from "../account/figures.ts";
import { profitInDeposit, roundMoney, totalMargin } from "../account/margin.ts";
import { RETCODE_COMMENTS } from "../checks.ts";
import { allowedFillings } from "../symbols.ts";
import type { PendingContext, PendingEngine } from "./engine.ts";
import { openPrice } from "./rules.ts";
import { orderView } from "./view.ts";

export function listOrders(ctx: PendingContext, filter: OrderFilter = {}): TradeOrder[] {
  const group = filter.group === undefined ? undefined : compileGroup(filter.group);
  const out: TradeOrder[] = [];
  for (const order of ctx.book.orders.values()) {
    if (filter.symbol !== undefined && order.symbol !== filter.symbol) continue;
    if (filter.ticket !== undefined && order.ticket !== filter.ticket) continue;
    if (group !== undefined && !group.matches(order.symbol)) continue;
    out.push(orderView(ctx.market, order));
  }
  return out;
}

/**
 * MqlTradeCheckResult for a market or pending order: the retcode the request would get (0
 * "Done" when it would pass) and the account as it would be once the order filled, at the
 * current price for a market order and at its opening price for a pending one.
 */
export function checkOrder(
  ctx: PendingContext,
  pending: PendingEngine,
  order: CheckOrder,
): OrderCheckResult {
  const { market, money, book, trading } = ctx;
  const now = accountFigures(money, market, book.balance, book.positions.values());
  const spec = market.spec(order.symbol);
  let retcode: number;
  let marginAfter = now.margin;
  if (spec === undefined) {
    retcode = Retcode.INVALID;
  } else {
    const side = orderSide(order.type);
    const quote = market.quote(spec.symbol);
    if (order.type === "BUY" || order.type === "SELL") {
      const filling = order.filling ?? undefined;
      retcode =
        filling !== undefined && !allowedFillings(spec).includes(filling)
          ? Retcode.INVALID_FILL
          : trading.open({ ...order, clientOrderId: "", side }, "check").result.retcode;
    } else {
      retcode = pending.place(
        {
          ...order,
          clientOrderId: "",
          type: order.type,
          price: order.price ?? Number.NaN,
        },
        "check",
      ).result.retcode;
    }
    const price =
      order.type === "BUY" || order.type === "SELL"
        ? side === "BUY"
          ? quote.ask
          : quote.bid
        : openPrice(order.price ?? Number.NaN, order.stoplimit);
    if (Number.isFinite(price) && Number.isFinite(order.volume) && order.volume > 0) {
      const existing = trading.nettingPosition(spec.symbol);
      marginAfter = totalMargin(
        money,
        trading.exposureAfter({ symbol: spec.symbol, side, volume: order.volume }, existing, price),
      );
    }
  }
  const marginFree = roundMoney(now.equity - marginAfter);
  return {
    retcode,
    balance: now.balance,
    equity: now.equity,
    profit: now.profit,
    margin: marginAfter,
    margin_free: marginFree,
    margin_level: marginAfter > 0 ? roundMoney((now.equity / marginAfter) * 100) : 0,
    comment: RETCODE_COMMENTS[retcode] ?? "Request rejected",
  };
}

/** OrderCalcMargin: the margin of this one trade alone, in the deposit currency. */
export function calcMargin(ctx: PendingContext, query: MarginQuery): number | undefined {
  if (ctx.market.spec(query.symbol) === undefined) return undefined;
  return totalMargin(ctx.money, [
    { symbol: query.symbol, side: query.side, volume: query.volume, price_open: query.price },
  ]);
}

/** OrderCalcProfit: the profit of this trade from open to close, in the deposit currency. */
export function calcProfit(ctx: PendingContext, query: ProfitQuery): number | undefined {
  const spec = ctx.market.spec(query.symbol);
  if (spec === undefined) return undefined;
  return profitInDeposit(
    ctx.money,
    spec,
    query.side,
    query.volume,
    query.priceOpen,
    query.priceClose,
  );
}
