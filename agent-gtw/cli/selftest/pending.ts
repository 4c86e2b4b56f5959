/**
 * The selftest's pending-order round trip (docs/MT5-SETUP.md §8 "Round trip"), on a DEMO account
 * only (trade.ts tradingRefusal()): a minimum-lot BUY_LIMIT far below the market, where it
 * cannot fill during the test, placed → placed again with the same id (the EA's dedup store must
 * answer) → moved further down with a stop loss → cancelled, each step checked through the reply,
 * its order event and GET_ORDERS. The first failure stops the trip and leaves the order for a
 * person.
 */
import type { Clock } from "../../../shared/clock.ts";
import {
  hasCommentTag,
  isPlacementRetcode,
  orderComment,
  Retcode,
  type SymbolInfo,
  type TradeOrder,
} from "../../../shared/protocol/index.ts";
import { findHistoryOrder } from "../../backend/market-reads.ts";
import { PLAIN_TERMS, type PlaceOrder } from "../../backend/pending.ts";
import type { SelftestBackend, StepRecorder } from "./steps.ts";
import { describeRetcode, EventLog, expectThat, onTickGrid, safeDistancePoints } from "./trade.ts";

export interface PendingTripOptions {
  readonly backend: SelftestBackend;
  readonly steps: StepRecorder;
  readonly info: SymbolInfo;
  /** Unique per run: the orders' client_order_ids start with it. */
  readonly base: string;
  readonly magic: number;
  readonly clock: Clock;
  readonly eventTimeoutMs: number;
}

/**
 * Points below the bid where the test order rests: 2 % of the price, and at least twice the stops
 * and freeze levels and 20 spreads, so neither the server refuses it nor the market reaches it.
 */
export function pendingDistancePoints(info: SymbolInfo): number {
  const share = Math.ceil((info.bid * 0.02) / info.point);
  return Math.max(share, 2 * Math.max(info.stops_level, info.freeze_level), 20 * info.spread);
}

export async function runPendingTrip(options: PendingTripOptions): Promise<void> {
  const { backend, steps, info, base, magic, clock } = options;
  if (!(info.order_modes ?? ["LIMIT"]).includes("LIMIT")) {
    steps.fail("pending place", `${info.symbol} allows no limit orders (SYMBOL_ORDER_MODE)`);
    return;
  }
  const events = new EventLog(backend, options.eventTimeoutMs);
  const coid = `${base}p`;
  const distance = pendingDistancePoints(info);
  const order: PlaceOrder = {
    clientOrderId: coid,
    symbol: info.symbol,
    type: "BUY_LIMIT",
    volume: info.volume_min,
    price: onTickGrid(info.bid - distance * info.point, info),
    ...PLAIN_TERMS,
    magic,
    comment: orderComment(coid, "selftest"),
  };
  const listed = async (ticket: number): Promise<TradeOrder | undefined> =>
    (await backend.orders({ symbol: info.symbol })).find((o) => o.ticket === ticket);
  let ticket: number | undefined;
  let cancelled = false;
  try {
    const placed = await steps.step("pending place", async () => {
      const outcome = await backend.placeOrderDetailed(order);
      expectThat(isPlacementRetcode(outcome.result.retcode), describeRetcode(outcome));
      ticket = outcome.result.order;
      const id = ticket;
      await events.waitFor(
        (e) => e.type === "ORDER_PLACED" && e.order.ticket === id,
        `ORDER_PLACED event for order ${id}`,
      );
      const shown = await listed(id);
      expectThat(
        shown?.price_open === order.price,
        `GET_ORDERS shows ${shown?.price_open ?? "no order"}`,
      );
      expectThat(
        hasCommentTag(shown?.comment ?? "", coid),
        `the order's comment lost its tag: ${shown?.comment}`,
      );
      return [
        outcome,
        `BUY_LIMIT ${info.volume_min} ${info.symbol} at ${order.price} (${distance} points below the bid): order ${id}; ORDER_PLACED seen, GET_ORDERS lists it`,
      ];
    });
    if (placed === undefined || ticket === undefined) return;
    const id = ticket;

    const repeated = await steps.step("pending duplicate", async () => {
      const again = await backend.placeOrderDetailed(order);
      expectThat(
        again.duplicate,
        `the repeated PLACE was not answered from the EA's dedup store (${describeRetcode(again)})`,
      );
      expectThat(again.result.order === id, `the repeat names order ${again.result.order}`);
      const tagged = (await backend.orders({ symbol: info.symbol })).filter((o) =>
        hasCommentTag(o.comment, coid),
      );
      expectThat(tagged.length === 1, `${tagged.length} orders carry the tag, expected 1`);
      return [again, "answered from the dedup store (duplicate: true), one order"];
    });
    if (repeated === undefined) return;

    const modified = await steps.step("pending modify", async () => {
      const price = onTickGrid(order.price - Math.ceil(distance / 2) * info.point, info);
      const sl = onTickGrid(price - safeDistancePoints(info) * info.point, info);
      const outcome = await backend.modifyOrderDetailed({
        clientOrderId: `${base}q`,
        ticket: id,
        price,
        stoplimit: undefined,
        sl,
        tp: undefined,
        typeTime: undefined,
        expiration: undefined,
      });
      expectThat(outcome.result.retcode === Retcode.DONE, describeRetcode(outcome));
      await events.waitFor(
        (e) => e.type === "ORDER_MODIFIED" && e.order.ticket === id && e.order.price_open === price,
        `ORDER_MODIFIED event for order ${id}`,
      );
      const shown = await listed(id);
      expectThat(
        shown?.price_open === price && shown.sl === sl && shown.type_time === "GTC",
        `GET_ORDERS shows price ${shown?.price_open} SL ${shown?.sl} ${shown?.type_time}, not ${price} / ${sl} GTC`,
      );
      return [outcome, `price ${price}, SL ${sl}, the rest kept (GTC); ORDER_MODIFIED seen`];
    });
    if (modified === undefined) return;

    await steps.step("pending cancel", async () => {
      const outcome = await backend.cancelOrderDetailed({ clientOrderId: `${base}x`, ticket: id });
      expectThat(outcome.result.retcode === Retcode.DONE, describeRetcode(outcome));
      await events.waitFor(
        (e) => e.type === "ORDER_CANCELED" && e.order.ticket === id,
        `ORDER_CANCELED event for order ${id}`,
      );
      expectThat((await listed(id)) === undefined, `GET_ORDERS still lists order ${id}`);
      cancelled = true;
      const now = clock.now();
      const span = { kind: "range", from: now - 3600_000, to: now + 3600_000 } as const;
      const gone = await findHistoryOrder(backend.market, span, (o) => o.ticket === id);
      expectThat(
        gone?.state === "CANCELED",
        `GET_HISTORY_ORDERS shows order ${id} as ${gone?.state ?? "missing"}`,
      );
      return [outcome, "ORDER_CANCELED seen, gone from GET_ORDERS, CANCELED in GET_HISTORY_ORDERS"];
    });
  } finally {
    events.stop();
    if (ticket !== undefined && !cancelled) {
      steps.note(
        `test order ${ticket} on ${info.symbol} is left for inspection; cancel it by hand`,
      );
    }
  }
}
