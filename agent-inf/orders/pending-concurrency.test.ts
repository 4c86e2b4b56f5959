/**
 * Pending orders under concurrent orders (issue 15 §4), through the order service on a fake
 * gateway that executes a PLACE the moment it arrives (its order is in the next GET_ORDERS) and
 * answers it later: N PLACEs sent at once pass exactly up to each limit (positions, positions per
 * symbol, orders per second and per minute) and the rest are DENIED with that limit's code;
 * PLACEs and OPENs count each other; an order that triggers counts once; a cancelled order stops
 * counting; an UNKNOWN placement keeps its place until its order shows up.
 */
import { describe, expect, test } from "bun:test";
import { settle } from "../../shared/testing/drive.ts";
import { ok, TIMEOUT } from "../gateway/testing/fake-port.ts";
import { makePosition } from "../risk/testing/fixtures.ts";
import type { OrderResult } from "./order-service.ts";
import type { PlaceOrderInput } from "./pending-orders.ts";
import { executingGateway, NO_LIMITS } from "./testing/executing-gateway.ts";
import { createOrderRig, OPEN, type OrderRig } from "./testing/order-rig.ts";

/** BUY_LIMIT 0.1 EURUSD under the market with its SL under its price. */
const PLACE: PlaceOrderInput = {
  type: "BUY_LIMIT",
  symbol: "EURUSD",
  volume: 0.1,
  price: 1.095,
  sl: 1.094,
  tp: 1.099,
};

const tally = (results: readonly OrderResult[]) => {
  const counts: Record<string, number> = {};
  for (const result of results) {
    const key = result.outcome === "DENIED" ? result.denial.code : result.outcome;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
};

async function placeAtOnce(
  rig: OrderRig,
  n: number,
  each: (i: number) => Partial<PlaceOrderInput> = () => ({}),
) {
  return settle(
    rig.clock,
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        rig.orders.place({ ...PLACE, ...each(i), client_order_id: `pl-${i}` }),
      ),
    ),
  );
}

describe("concurrent PLACEs against every limit", () => {
  test("30 at once against max_positions 10: 10 placed, 20 MAX_POSITIONS", async () => {
    const rig = createOrderRig({ limits: { ...NO_LIMITS, maxPositions: 10 } });
    executingGateway(rig, { firstTicket: 100_000 });
    const results = await placeAtOnce(rig, 30);
    expect(tally(results)).toEqual({ FILLED: 10, MAX_POSITIONS: 20 });
    expect(rig.book.orders).toHaveLength(10);
    expect(rig.port.submitted).toHaveLength(10);
  });

  test("16 at once on two symbols against max_positions_per_symbol 3: 3 on each", async () => {
    const rig = createOrderRig({ limits: { ...NO_LIMITS, maxPositionsPerSymbol: 3 } });
    executingGateway(rig, { firstTicket: 100_000 });
    rig.book.symbols.push({
      ...(rig.book.symbols[0] as (typeof rig.book.symbols)[0]),
      symbol: "USDJPY",
    });
    const results = await placeAtOnce(rig, 16, (i) => ({
      symbol: i % 2 === 0 ? "EURUSD" : "USDJPY",
    }));
    expect(tally(results)).toEqual({ FILLED: 6, MAX_POSITIONS_PER_SYMBOL: 10 });
    const on = (symbol: string) => rig.book.orders.filter((o) => o.symbol === symbol).length;
    expect([on("EURUSD"), on("USDJPY")]).toEqual([3, 3]);
  });

  test("12 at once against max_orders_per_second 5: 5 placed, 7 RATE_LIMIT_PER_SECOND", async () => {
    const rig = createOrderRig({ limits: { ...NO_LIMITS, maxOrdersPerSecond: 5 } });
    executingGateway(rig, { firstTicket: 100_000 });
    const results = await placeAtOnce(rig, 12);
    expect(tally(results)).toEqual({ FILLED: 5, RATE_LIMIT_PER_SECOND: 7 });
  });

  test("12 at once against max_orders_per_minute 4: 4 placed, 8 RATE_LIMIT_PER_MINUTE", async () => {
    const rig = createOrderRig({ limits: { ...NO_LIMITS, maxOrdersPerMinute: 4 } });
    executingGateway(rig, { firstTicket: 100_000 });
    const results = await placeAtOnce(rig, 12);
    expect(tally(results)).toEqual({ FILLED: 4, RATE_LIMIT_PER_MINUTE: 8 });
  });

  test("PLACEs and OPENs at once count each other: 20 against max_positions 8", async () => {
    const rig = createOrderRig({ limits: { ...NO_LIMITS, maxPositions: 8 } });
    executingGateway(rig, { firstTicket: 100_000 });
    const results = await settle(
      rig.clock,
      Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 2 === 0
            ? rig.orders.place({ ...PLACE, client_order_id: `mp-${i}` })
            : rig.orders.open({ ...OPEN, client_order_id: `mo-${i}` }),
        ),
      ),
    );
    expect(tally(results)).toEqual({ FILLED: 8, MAX_POSITIONS: 12 });
    expect(rig.book.orders.length + rig.book.positions.length).toBe(8);
  });
});

describe("a pending order's exposure over its life", () => {
  test("one that triggered into a position under its ticket counts once", async () => {
    const rig = createOrderRig({ limits: { ...NO_LIMITS, maxPositionsPerSymbol: 2 } });
    executingGateway(rig, { firstTicket: 100_000 });
    const [placed] = await placeAtOnce(rig, 1);
    const ticket = (placed as Extract<OrderResult, { outcome: "FILLED" }>).reply.order as number;
    // GET_ORDERS read before the fill, GET_POSITIONS after: both show it
    rig.book.positions.push(makePosition({ ticket }));
    const next = await settle(rig.clock, rig.orders.place({ ...PLACE, client_order_id: "t-2" }));
    expect(next.outcome).toBe("FILLED");
  });

  test("a cancelled order stops counting", async () => {
    const rig = createOrderRig({ limits: { ...NO_LIMITS, maxPositions: 1 } });
    executingGateway(rig, { firstTicket: 100_000 });
    const [placed] = await placeAtOnce(rig, 1);
    const ticket = (placed as Extract<OrderResult, { outcome: "FILLED" }>).reply.order as number;
    const blocked = await settle(rig.clock, rig.orders.place({ ...PLACE, client_order_id: "c-2" }));
    const cancelled = await settle(
      rig.clock,
      rig.orders.cancel({ ticket, client_order_id: "c-3" }),
    );
    const after = await settle(rig.clock, rig.orders.place({ ...PLACE, client_order_id: "c-4" }));
    expect([tally([blocked]), cancelled.outcome, after.outcome]).toEqual([
      { MAX_POSITIONS: 1 },
      "FILLED",
      "FILLED",
    ]);
  });

  test("an UNKNOWN placement holds its place until its order shows up, then counts as it", async () => {
    const rig = createOrderRig({ limits: { ...NO_LIMITS, maxPositions: 2 } });
    executingGateway(rig, { firstTicket: 100_000 });
    const execute = rig.signed;
    // Placed at the gateway, but the reply and every GET_ORDER are lost
    rig.signed = (call) => {
      execute(call);
      return TIMEOUT;
    };
    rig.order = () => TIMEOUT;
    const lost = await settle(rig.clock, rig.orders.place({ ...PLACE, client_order_id: "u-1" }));
    expect(lost.outcome).toBe("UNKNOWN");
    rig.signed = execute;
    rig.order = (call) => ok(call.request, { order: null });
    const second = await settle(rig.clock, rig.orders.place({ ...PLACE, client_order_id: "u-2" }));
    const third = await settle(rig.clock, rig.orders.place({ ...PLACE, client_order_id: "u-3" }));
    expect([second.outcome, tally([third])]).toEqual(["FILLED", { MAX_POSITIONS: 1 }]);
    // Its order (tag u-1) was in the snapshot: resolved, not held twice
    expect(rig.risk.exposure.unknowns()).toEqual([]);
    rig.orders.stop();
  });

  test("a retried client_order_id is answered, not placed twice", async () => {
    const rig = createOrderRig({ limits: NO_LIMITS });
    executingGateway(rig, { firstTicket: 100_000 });
    const [first, again] = await settle(
      rig.clock,
      Promise.all([
        rig.orders.place({ ...PLACE, client_order_id: "same-1" }),
        rig.orders.place({ ...PLACE, client_order_id: "same-1" }),
      ]),
    );
    const later = await settle(
      rig.clock,
      rig.orders.place({ ...PLACE, client_order_id: "same-1" }),
    );
    expect([first?.outcome, again, later]).toEqual(["FILLED", first, first]);
    expect(rig.book.orders).toHaveLength(1);
    // An id spent on a PLACE is not a CANCEL
    const reused = await settle(
      rig.clock,
      rig.orders.cancel({ ticket: 1, client_order_id: "same-1" }),
    );
    expect(reused).toMatchObject({
      outcome: "ERROR",
      reply: { error_code: "CLIENT_ORDER_ID_REUSED" },
    });
  });
});
