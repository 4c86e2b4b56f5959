/**
 * Risk limits under concurrent orders (issue 12 §1), through the order service on a fake gateway
 * that executes an order the moment it arrives (its position is in the next GET_POSITIONS) and
 * answers it later: N OPENs sent at once fill exactly up to each position limit and the rest are
 * DENIED with that limit's code; an UNKNOWN outcome keeps its reservation until the gateway says
 * what happened; a REJECTED one gives it back; two partial closes cannot both take the same volume.
 */
import { describe, expect, test } from "bun:test";
import { settle } from "../../shared/testing/drive.ts";
import { ok, TIMEOUT } from "../gateway/testing/fake-port.ts";
import { makePosition } from "../risk/testing/fixtures.ts";
import type { OrderResult } from "./order-service.ts";
import { executingGateway, NO_LIMITS } from "./testing/executing-gateway.ts";
import { FakeLive } from "./testing/fake-live.ts";
import { createOrderRig, OPEN } from "./testing/order-rig.ts";
import { UNKNOWN_POLL_MS } from "./unknown-outcomes.ts";

const denials = (results: readonly OrderResult[]) =>
  results.flatMap((result) => (result.outcome === "DENIED" ? [result.denial.code] : []));
const fills = (results: readonly OrderResult[]) =>
  results.filter((result) => result.outcome === "FILLED").length;

describe("concurrent OPENs against the position limits", () => {
  test("30 at once against max_positions 10: 10 fill, 20 are MAX_POSITIONS", async () => {
    const rig = createOrderRig({ limits: { ...NO_LIMITS, maxPositions: 10 } });
    executingGateway(rig, { firstTicket: 1_000 });
    const results = await settle(
      rig.clock,
      Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          rig.orders.open({ ...OPEN, client_order_id: `p-${i}` }),
        ),
      ),
    );
    expect(fills(results)).toBe(10);
    expect(denials(results)).toEqual(Array(20).fill("MAX_POSITIONS"));
    expect(rig.port.submitted).toHaveLength(10);
    expect(rig.book.positions).toHaveLength(10);
  });

  test("max_positions_per_symbol 3: three on each symbol fill, the rest are denied", async () => {
    const rig = createOrderRig({ limits: { ...NO_LIMITS, maxPositionsPerSymbol: 3 } });
    executingGateway(rig, { firstTicket: 1_000 });
    rig.book.symbols.push({
      ...(rig.book.symbols[0] as (typeof rig.book.symbols)[0]),
      symbol: "USDJPY",
    });
    const orders = Array.from({ length: 16 }, (_, i) =>
      rig.orders.open({
        ...OPEN,
        symbol: i % 2 === 0 ? "EURUSD" : "USDJPY",
        client_order_id: `s-${i}`,
      }),
    );
    const results = await settle(rig.clock, Promise.all(orders));
    expect(fills(results)).toBe(6);
    expect(denials(results)).toEqual(Array(10).fill("MAX_POSITIONS_PER_SYMBOL"));
    const bySymbol = (symbol: string) => rig.book.positions.filter((p) => p.symbol === symbol);
    expect([bySymbol("EURUSD").length, bySymbol("USDJPY").length]).toEqual([3, 3]);
  });

  test("later waves count the filled ones: 3 waves of 5 against max_positions 7", async () => {
    const rig = createOrderRig({ limits: { ...NO_LIMITS, maxPositions: 7 } });
    executingGateway(rig, { firstTicket: 1_000 });
    const results: OrderResult[] = [];
    for (let wave = 0; wave < 3; wave++) {
      const orders = Array.from({ length: 5 }, (_, i) =>
        rig.orders.open({ ...OPEN, client_order_id: `w-${wave}-${i}` }),
      );
      results.push(...(await settle(rig.clock, Promise.all(orders))));
    }
    expect(fills(results)).toBe(7);
    expect(rig.book.positions).toHaveLength(7);
  });

  test("our own fill is handed to the live view before its reservation is settled", async () => {
    const live = new FakeLive();
    live.positions_ = [];
    const rig = createOrderRig({ live, limits: { ...NO_LIMITS, maxPositions: 10 } });
    executingGateway(rig, { firstTicket: 1_000 });
    const phases: string[] = [];
    const ownOrder = live.ownOrder.bind(live);
    live.ownOrder = (order) => {
      const handle = ownOrder(order);
      return {
        finish: (filled) => {
          // The reservation is still in flight when the view hears of the fill
          phases.push(`view told, reserved ${rig.lane.risk.exposure.held.IN_FLIGHT}`);
          handle.finish(filled);
        },
      };
    };
    await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "v-1" }));
    expect(live.own).toMatchObject([
      { order: { action: "OPEN", symbol: "EURUSD", side: "BUY" }, filled: { ticket: 1000 } },
    ]);
    expect(phases).toEqual(["view told, reserved 1"]);
  });
});

describe("outcomes settle reservations", () => {
  test("an UNKNOWN outcome keeps its reservation until the gateway says it never executed", async () => {
    const rig = createOrderRig({ limits: { ...NO_LIMITS, maxPositions: 2 } });
    executingGateway(rig, { firstTicket: 1_000 });
    const execute = rig.signed;
    // The first OPEN is lost on the way and the gateway goes silent about it
    rig.signed = () => TIMEOUT;
    rig.order = () => TIMEOUT;
    const lost = await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "u-1" }));
    expect(lost.outcome).toBe("UNKNOWN");
    rig.signed = execute;
    rig.order = (call) => ok(call.request, { order: null });
    const second = await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "u-2" }));
    const third = await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "u-3" }));
    expect([second.outcome, denials([third])]).toEqual(["FILLED", ["MAX_POSITIONS"]]);
    expect(third.outcome === "DENIED" && third.denial.context).toMatchObject({
      positions: 2,
      in_flight: 1,
    });
    // The gateway now answers: it never executed u-1
    rig.order = (call) =>
      ok(call.request, {
        order: {
          client_order_id: "u-1",
          action: "OPEN",
          state: "NOT_EXECUTED",
          received_at: 0,
          reply: null,
        },
      });
    rig.clock.advance(UNKNOWN_POLL_MS);
    await settle(rig.clock, Promise.resolve());
    expect(rig.risk.exposure.unknowns()).toEqual([]);
    const fourth = await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "u-4" }));
    expect(fourth.outcome).toBe("FILLED");
    rig.orders.stop();
  });

  test("an UNKNOWN outcome whose position turns up counts as that position, once", async () => {
    const rig = createOrderRig({ limits: { ...NO_LIMITS, maxPositions: 2 } });
    executingGateway(rig, { firstTicket: 1_000 });
    const execute = rig.signed;
    // Executed at the gateway, but the reply and every GET_ORDER are lost
    rig.signed = (call) => {
      execute(call);
      return TIMEOUT;
    };
    rig.order = () => TIMEOUT;
    const lost = await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "t-1" }));
    expect(lost.outcome).toBe("UNKNOWN");
    expect(rig.book.positions).toHaveLength(1);
    rig.signed = execute;
    rig.order = (call) => ok(call.request, { order: null });
    // Its position (tag t-1) plus one more: two, not three
    const next = await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "t-2" }));
    const last = await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "t-3" }));
    expect([next.outcome, denials([last])]).toEqual(["FILLED", ["MAX_POSITIONS"]]);
    expect(rig.risk.exposure.unknowns()).toEqual([]);
    rig.orders.stop();
  });

  test("a REJECTED order gives its reservation back", async () => {
    const rig = createOrderRig({ limits: { ...NO_LIMITS, maxPositions: 1 } });
    executingGateway(rig, { firstTicket: 1_000 });
    const execute = rig.signed;
    rig.signed = ({ request }) =>
      ({ ...ok(request), status: "REJECTED", retcode: 10019, error_code: "NO_MONEY" }) as never;
    const rejected = await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "r-1" }));
    rig.signed = execute;
    const next = await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "r-2" }));
    expect([rejected.outcome, next.outcome]).toEqual(["REJECTED", "FILLED"]);
  });
});

describe("concurrent CLOSEs of one position", () => {
  test("two partial closes that only one can have: one fills, one is denied", async () => {
    const rig = createOrderRig({ limits: NO_LIMITS });
    executingGateway(rig, { firstTicket: 1_000 });
    rig.book.positions.push(makePosition({ ticket: 501, volume: 0.3 }));
    const [a, b] = await settle(
      rig.clock,
      Promise.all([
        rig.orders.close({ ticket: 501, volume: 0.2, client_order_id: "c-1" }),
        rig.orders.close({ ticket: 501, volume: 0.2, client_order_id: "c-2" }),
      ]),
    );
    expect([a.outcome, b.outcome].sort()).toEqual(["DENIED", "FILLED"]);
    expect(denials([a, b])).toEqual(["INVALID_CLOSE_VOLUME"]);
    expect(rig.port.submitted).toHaveLength(1);
    expect(rig.book.positions[0]?.volume).toBeCloseTo(0.1, 8);
  });

  test("partial closes that fit together all pass; a whole close takes what is left", async () => {
    const rig = createOrderRig({ limits: NO_LIMITS });
    executingGateway(rig, { firstTicket: 1_000 });
    rig.book.positions.push(makePosition({ ticket: 501, volume: 0.3 }));
    const results = await settle(
      rig.clock,
      Promise.all([
        rig.orders.close({ ticket: 501, volume: 0.1, client_order_id: "c-1" }),
        rig.orders.close({ ticket: 501, volume: 0.1, client_order_id: "c-2" }),
        rig.orders.close({ ticket: 501, client_order_id: "c-3" }),
        rig.orders.close({ ticket: 501, volume: 0.1, client_order_id: "c-4" }),
      ]),
    );
    expect(results.map((result) => result.outcome)).toEqual([
      "FILLED",
      "FILLED",
      "FILLED",
      "DENIED",
    ]);
    expect(rig.book.positions).toEqual([]);
  });
});
