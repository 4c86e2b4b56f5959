/**
 * The order service on a fake gateway port and a TestClock: what is refused before anything is
 * sent, what is signed and sent (once), and how a strategy's retries of one client_order_id are
 * answered without firing the order twice.
 */
import { describe, expect, test } from "bun:test";
import type { Request } from "../../shared/protocol/index.ts";
import { settle } from "../../shared/testing/drive.ts";
import { ok, TIMEOUT } from "../gateway/testing/fake-port.ts";
import { createOrderRig, error, filled, GATEWAY, OPEN } from "./testing/order-rig.ts";

const sentActions = (rig: ReturnType<typeof createOrderRig>) =>
  rig.port.submitted.map((signed) => signed.request.action);

describe("OPEN", () => {
  test("passes the risk checks on a fresh snapshot and is signed and sent once", async () => {
    const rig = createOrderRig();
    const result = await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "c-1" }));
    expect(result).toMatchObject({ outcome: "FILLED", gateway: GATEWAY, client_order_id: "c-1" });
    expect(sentActions(rig)).toEqual(["OPEN"]);
    expect(rig.port.submitted[0]?.request).toMatchObject({
      symbol: "EURUSD",
      side: "BUY",
      volume: 0.1,
      sl: 1.099,
      tp: 1.102,
      gateway: GATEWAY,
    });
    const asked = rig.port.calls.filter((call) => call.signed === undefined);
    // A strategy's own id is not looked up first: a repeat of an executed one is answered by the
    // gateway's journal. Without a live view the snapshot is asked for; pending orders count
    // against the position limits (issue 15)
    expect(asked.map((call) => call.request.action).sort()).toEqual([
      "GET_ACCOUNT",
      "GET_ORDERS",
      "GET_POSITIONS",
      "GET_SYMBOL_INFO",
    ]);
  });

  test("a risk denial is a value, and nothing is signed", async () => {
    const rig = createOrderRig();
    const result = await settle(rig.clock, rig.orders.open({ ...OPEN, volume: 5 }));
    expect(result.outcome).toBe("DENIED");
    expect(result.outcome === "DENIED" && result.denial.code).toBe("VOLUME_ABOVE_MAX");
    expect(rig.port.submitted).toHaveLength(0);
  });

  test("with the breaker engaged it is refused before any gateway query", async () => {
    const rig = createOrderRig();
    rig.lane.breaker.engaged = true;
    const result = await settle(rig.clock, rig.orders.open(OPEN));
    expect(result.outcome === "DENIED" && result.denial.code).toBe("BREAKER_OPEN");
    expect(rig.port.calls).toHaveLength(0);
  });

  test("without a session it fails as not sent after the connect grace", async () => {
    const rig = createOrderRig({ disconnected: true });
    const result = await settle(rig.clock, rig.orders.open(OPEN));
    expect(result).toMatchObject({
      outcome: "ERROR",
      reply: { error_code: "GATEWAY_UNREACHABLE" },
    });
    expect(rig.port.calls).toHaveLength(0);
    expect(rig.clock.monotonic()).toBeGreaterThanOrEqual(1000);
  });

  test("a session coming up within the grace lets the order through", async () => {
    const rig = createOrderRig({ disconnected: true });
    const pending = rig.orders.open(OPEN);
    rig.clock.advance(300);
    rig.port.up();
    expect((await settle(rig.clock, pending)).outcome).toBe("FILLED");
  });

  test("a snapshot the gateway cannot give stops the order unsent", async () => {
    const rig = createOrderRig();
    const answer = rig.port.answer;
    rig.port.answer = (call) =>
      call.request.action === "GET_ACCOUNT"
        ? error(call.request, "MT5_DISCONNECTED")
        : answer(call);
    const result = await settle(rig.clock, rig.orders.open(OPEN));
    expect(result).toMatchObject({
      outcome: "ERROR",
      reply: { error_code: "GATEWAY_UNREACHABLE" },
    });
    expect(rig.port.submitted).toHaveLength(0);
  });
});

describe("one client_order_id, one order", () => {
  test("two concurrent calls with the same id send one order and share its result", async () => {
    const rig = createOrderRig();
    const first = rig.orders.open({ ...OPEN, client_order_id: "same" });
    const second = rig.orders.open({ ...OPEN, client_order_id: "same" });
    const [a, b] = await settle(rig.clock, Promise.all([first, second]));
    expect(a).toBe(b);
    expect(sentActions(rig)).toEqual(["OPEN"]);
  });

  test("a retry of a filled id is answered here, with no query and no second order", async () => {
    const rig = createOrderRig();
    const first = await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "r-1" }));
    const calls = rig.port.calls.length;
    const again = await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "r-1" }));
    expect(again).toBe(first);
    expect(rig.port.calls).toHaveLength(calls);
  });

  test("after a restart, a retried id goes out once more and the gateway's journal answers it", async () => {
    const rig = createOrderRig();
    // The gateway executed r-2 before the agent restarted: its journal answers the repeat
    rig.signed = (call) => filled(call.request, { duplicate: true });
    const result = await settle(rig.clock, rig.restart().open({ ...OPEN, client_order_id: "r-2" }));
    expect(result).toMatchObject({ outcome: "FILLED", reply: { duplicate: true, ticket: 900 } });
    expect(sentActions(rig)).toEqual(["OPEN"]);
    expect(rig.port.requests("GET_ORDER")).toHaveLength(0);
  });

  test.each([
    ["denied here: the position its first attempt opened fills the limit", "deny"],
    ["refused by the gateway: other fields this time (CLIENT_ORDER_ID_REUSED)", "reused"],
  ])("after a restart, a retried id %s is answered from the gateway's journal", async (_, how) => {
    const rig = createOrderRig(how === "deny" ? { limits: { maxPositions: 1 } } : {});
    const fill = filled({ id: "earlier" } as Request);
    rig.order = (call) =>
      ok(call.request, {
        order: {
          client_order_id: "r-3",
          action: "OPEN",
          state: "FILLED",
          received_at: 0,
          reply: fill,
        },
      });
    rig.signed = (call) => error(call.request, "CLIENT_ORDER_ID_REUSED");
    const result = await settle(rig.clock, rig.restart().open({ ...OPEN, client_order_id: "r-3" }));
    expect(result).toMatchObject({ outcome: "FILLED", reply: { duplicate: true, ticket: 900 } });
    expect(rig.port.requests("GET_ORDER")).toHaveLength(1);
    expect(sentActions(rig)).toEqual(how === "deny" ? [] : ["OPEN"]);
    // Nothing stays reserved for it
    expect(rig.risk.exposure.held).toEqual({ IN_FLIGHT: 0, UNKNOWN: 0, SETTLED: 0 });
  });

  test("a denied id the gateway never saw stays denied", async () => {
    const rig = createOrderRig({ limits: { maxPositions: 1 } });
    const result = await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "n-1" }));
    expect(result.outcome === "DENIED" && result.denial.code).toBe("MAX_POSITIONS");
    expect(rig.port.requests("GET_ORDER")).toHaveLength(1);
  });

  test("an id used for an OPEN is refused for a CLOSE, and nothing is sent", async () => {
    const rig = createOrderRig();
    await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "x-1" }));
    const result = await settle(
      rig.clock,
      rig.orders.close({ ticket: 501, client_order_id: "x-1" }),
    );
    expect(result).toMatchObject({
      outcome: "ERROR",
      reply: { error_code: "CLIENT_ORDER_ID_REUSED" },
    });
    expect(sentActions(rig)).toEqual(["OPEN"]);
  });

  test("an order whose reply is lost and that the gateway filled is FILLED, sent once", async () => {
    const rig = createOrderRig();
    const fill = filled({ id: "lost" } as Request);
    rig.signed = () => TIMEOUT;
    // Never seen when the strategy's id is first looked up; filled once the send timed out
    rig.order = (call) =>
      ok(call.request, {
        order:
          rig.port.submitted.length === 0
            ? null
            : {
                client_order_id: "l-1",
                action: "OPEN",
                state: "FILLED",
                received_at: 0,
                reply: fill,
              },
      });
    const result = await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "l-1" }));
    expect(result).toMatchObject({ outcome: "FILLED", reply: fill });
    expect(sentActions(rig)).toEqual(["OPEN"]);
  });

  test("a gateway gone silent after the send leaves the outcome UNKNOWN, and it is kept", async () => {
    const rig = createOrderRig();
    rig.signed = () => TIMEOUT;
    rig.order = () => TIMEOUT;
    const result = await settle(rig.clock, rig.orders.open({ ...OPEN, client_order_id: "u-1" }));
    expect(result.outcome).toBe("UNKNOWN");
    expect(sentActions(rig)).toEqual(["OPEN"]);
  });
});

describe("CLOSE and MODIFY", () => {
  test("CLOSE of an open position is checked and sent with its ticket", async () => {
    const rig = createOrderRig();
    const result = await settle(rig.clock, rig.orders.close({ ticket: 501, volume: 0.05 }));
    expect(result.outcome).toBe("FILLED");
    expect(rig.port.submitted[0]?.request).toMatchObject({
      action: "CLOSE",
      ticket: 501,
      volume: 0.05,
    });
  });

  test("MODIFY of a ticket that is not open is denied and not sent", async () => {
    const rig = createOrderRig();
    const result = await settle(rig.clock, rig.orders.modify({ ticket: 999, sl: 1.09 }));
    expect(result.outcome).toBe("DENIED");
    expect(rig.port.submitted).toHaveLength(0);
  });
});
