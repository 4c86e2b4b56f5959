/**
 * Unknown outcomes of pending-order requests, settled from what the broker shows (orders and
 * history orders by comment tag, deals for CLOSE_BY), never by sending again: a timeout after
 * MT5 executed, a timeout before, a crash between journaling the intent and its outcome, and a
 * backend that cannot do the action at all.
 */
import { describe, expect, test } from "bun:test";
import { FaultCode } from "../../shared/errors.ts";
import {
  brokerOrderKey,
  intentHash,
  type OrderReply,
  orderComment,
  type PendingTradeReply,
} from "../../shared/protocol/index.ts";
import { BackendError } from "../backend/backend.ts";
import { placeOrder } from "../backend/sim/testing/support.ts";
import type { Harness } from "../testing/harness.ts";
import { orderOf, pendingHarnesses, placeRequest } from "../testing/pending-harness.ts";

const { harness, restart } = pendingHarnesses();
const place = placeRequest;
const getOrder = async (h: Harness, coid: string) =>
  (await h.send({ action: "GET_ORDER", client_order_id: coid })) as OrderReply;

describe("a timeout after MT5 executed", () => {
  test("PLACE: UNKNOWN, then reconciled to the placed order by its tag; placed once", async () => {
    const h = await harness();
    h.backend.faults.push({ kind: "timeout_after_execution" });
    const reply = await h.send(place({ client_order_id: "p-1" }));
    expect(reply).toMatchObject({ status: "ERROR", error_code: "OUTCOME_UNKNOWN" });
    expect(h.journal.lookup("inf-1", "p-1")?.state).toBe("UNKNOWN");
    const repeat = await h.send(place({ client_order_id: "p-1" }));
    expect(repeat).toMatchObject({ error_code: "OUTCOME_UNKNOWN", duplicate: true });

    const [order] = await h.backend.orders();
    const record = await getOrder(h, "p-1");
    expect(record).toMatchObject({
      order: { state: "FILLED", reply: { status: "FILLED", order: order?.ticket } },
      pending_order: { ticket: order?.ticket, state: "PLACED" },
    });
    expect(await h.backend.orders()).toHaveLength(1);
    expect(h.backend.calls).toBe(1);
  });

  test("PLACE of an order that filled or was cancelled meanwhile: found in the history", async () => {
    const h = await harness();
    h.backend.faults.push({ kind: "timeout_after_execution" });
    await h.send(place({ client_order_id: "p-1", type: "BUY_STOP", price: 1.1005 }));
    await h.backend.sim.setQuote("EURUSD", 1.1004, 1.1005);
    const record = await getOrder(h, "p-1");
    expect(record).toMatchObject({
      order: { state: "FILLED" },
      pending_order: { state: "FILLED" },
    });
  });

  test("MODIFY_ORDER, CANCEL and CLOSE_BY reconcile to FILLED from the order, history and deals", async () => {
    const h = await harness();
    const ticket = orderOf(await h.send(place()));
    h.backend.faults.push({ kind: "timeout_after_execution" });
    await h.send({ action: "MODIFY_ORDER", ticket, price: 1.0985, client_order_id: "m-1" });
    expect((await getOrder(h, "m-1")).order).toMatchObject({
      state: "FILLED",
      reply: { order: ticket, pending_order: { price_open: 1.0985 } },
    });

    h.backend.faults.push({ kind: "timeout_after_execution" });
    await h.send({ action: "CANCEL", ticket, client_order_id: "c-1" });
    expect((await getOrder(h, "c-1")).order).toMatchObject({
      state: "FILLED",
      reply: { order: ticket },
    });

    const buy = await h.send({ action: "OPEN", symbol: "EURUSD", side: "BUY", volume: 0.1 });
    const sell = await h.send({ action: "OPEN", symbol: "EURUSD", side: "SELL", volume: 0.1 });
    h.backend.faults.push({ kind: "timeout_after_execution" });
    await h.send({
      action: "CLOSE_BY",
      ticket: (buy as PendingTradeReply).ticket,
      ticket_by: (sell as PendingTradeReply).ticket,
      client_order_id: "b-1",
    });
    expect((await getOrder(h, "b-1")).order).toMatchObject({
      state: "FILLED",
      reply: { ticket: (buy as PendingTradeReply).ticket, volume: 0.1 },
    });
    expect(await h.backend.positions()).toEqual([]);
  });
});

describe("a timeout before MT5 executed", () => {
  test("reconciles to NOT_EXECUTED, then the same client_order_id places once", async () => {
    const h = await harness();
    h.backend.faults.push({ kind: "timeout_before_execution" });
    expect((await h.send(place({ client_order_id: "p-1" }))).error_code).toBe("OUTCOME_UNKNOWN");
    await h.executor.reconcileUnresolved();
    expect(h.journal.lookup("inf-1", "p-1")?.state).toBe("NOT_EXECUTED");
    expect((await h.send(place({ client_order_id: "p-1" }))).status).toBe("FILLED");
    expect(await h.backend.orders()).toHaveLength(1);
  });

  test("a CANCEL whose order is still there is NOT_EXECUTED; a MODIFY_ORDER not applied too", async () => {
    const h = await harness();
    const ticket = orderOf(await h.send(place()));
    h.backend.faults.push({ kind: "timeout_before_execution" });
    await h.send({ action: "CANCEL", ticket, client_order_id: "c-1" });
    h.backend.faults.push({ kind: "timeout_before_execution" });
    await h.send({ action: "MODIFY_ORDER", ticket, sl: 1.098, client_order_id: "m-1" });
    expect(await h.executor.reconcileUnresolved()).toBe(0);
    expect(h.journal.lookup("inf-1", "c-1")?.state).toBe("NOT_EXECUTED");
    expect(h.journal.lookup("inf-1", "m-1")?.state).toBe("NOT_EXECUTED");
  });
});

describe("a crash between the journal's intent and its outcome", () => {
  test("intents left PENDING are settled at startup: the placed one FILLED, the lost one NOT_EXECUTED", async () => {
    const h = await harness();
    const ran = h.frames(place({ client_order_id: "ran" })).request;
    const lost = h.frames(place({ client_order_id: "lost" })).request;
    const record = (request: unknown) => request as Record<string, unknown>;
    const intent = (clientOrderId: string, request: unknown) => ({
      client: "inf-1",
      clientOrderId,
      action: "PLACE" as const,
      intentHash: intentHash(request as never),
      request: record(request),
    });
    await h.journal.recordIntent(intent("ran", ran));
    await h.journal.recordIntent(intent("lost", lost));
    const key = brokerOrderKey("inf-1", "ran");
    // The order reached the broker with the tag of "ran"; the gateway died before the outcome
    const placed = await h.backend.sim.placeOrder(
      placeOrder({ clientOrderId: key, price: 1.099, magic: 777, comment: orderComment(key) }),
    );
    const restarted = await restart(h);
    expect(await restarted.executor.reconcileUnresolved()).toBe(0);
    expect(restarted.journal.lookup("inf-1", "ran")).toMatchObject({
      state: "FILLED",
      reply: { order: placed.order },
    });
    expect(restarted.journal.lookup("inf-1", "lost")?.state).toBe("NOT_EXECUTED");
    // The client's retry of "ran" gets the order, and nothing is placed again
    const retry = await restarted.send(place({ client_order_id: "ran" }));
    expect(retry).toMatchObject({ duplicate: true, order: placed.order });
    expect(await restarted.backend.orders()).toHaveLength(1);
  });
});

describe("a backend that cannot do pending orders", () => {
  test("answers NOT_SUPPORTED, records NOT_EXECUTED, and the id may be used once it can", async () => {
    const h = await harness();
    h.backend.faults.push({ kind: "unsupported" });
    const refused = await h.send(place({ client_order_id: "p-1" }));
    expect(refused).toMatchObject({ status: "ERROR", error_code: "NOT_SUPPORTED" });
    expect(h.journal.lookup("inf-1", "p-1")?.state).toBe("NOT_EXECUTED");
    expect(await h.backend.orders()).toEqual([]);
    expect((await h.send(place({ client_order_id: "p-1" }))).status).toBe("FILLED");
  });

  test("its reads answer NOT_SUPPORTED, and RESYNC leaves orders out", async () => {
    const h = await harness();
    h.backend.orders = () =>
      Promise.reject(new BackendError(FaultCode.BACKEND_UNSUPPORTED, "backend: no pending orders"));
    expect(await h.send({ action: "GET_ORDERS" })).toMatchObject({
      status: "ERROR",
      error_code: "NOT_SUPPORTED",
    });
    // And an OPEN still counts positions only
    expect(
      (await h.send({ action: "OPEN", symbol: "EURUSD", side: "BUY", volume: 0.1 })).status,
    ).toBe("FILLED");
  });
});
