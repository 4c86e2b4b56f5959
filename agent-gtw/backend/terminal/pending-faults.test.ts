/**
 * Pending-order commands when things go wrong (docs/EA-LINK.md §9, §10.5, §10.6, §11): retries
 * answered from the EA's dedup store, refusals decided by the EA, by OrderCheck and by the
 * server, a reply lost with the link and reconciled through the EA's orders, history and deals
 * (never re-sent), and EA answers that break the contract refused with a closed link.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { eventually } from "../../../scripts/harness/eventually.ts";
import { FaultCode } from "../../../shared/errors.ts";
import { orderComment, Retcode } from "../../../shared/protocol/index.ts";
import type { JournalEntry } from "../../orders/journal.ts";
import { reconcile } from "../../orders/reconcile.ts";
import { modifyPending, placeOrder } from "../sim/testing/support.ts";
import {
  cleanupRigs,
  expectNoReaderViolations,
  failure,
  openOrder,
  type Rig,
  reconnected,
  startPendingRig,
  tradeBody,
} from "./testing/rig.ts";

afterEach(async () => {
  expectNoReaderViolations();
  await cleanupRigs();
});

const rig = startPendingRig;

const sent = (r: Rig, cmd: string) => r.fake.commands.filter((c) => c.cmd === cmd);

/** A MODIFY_ORDER of `ticket` (client_order_id "c-modify-order"); the fields not given are kept. */
const modify = modifyPending;

/** What the gateway's journal holds for a pending-order request whose outcome is unknown. */
function unknownEntry(r: Rig, action: string, coid: string, request: object): JournalEntry {
  return {
    client: null,
    clientOrderId: coid,
    brokerKey: coid,
    action,
    intentHash: "h",
    receivedAt: r.clock.now(),
    request: { id: "r-1", action, magic: 77, ...request },
    state: "UNKNOWN",
    reply: null,
    decidedAt: 0,
  } as JournalEntry;
}

describe("retries and the dedup store (§11)", () => {
  test("a repeated PLACE is answered from the store: same order, placed once", async () => {
    const r = await rig();
    const first = await r.backend.placeOrderDetailed(placeOrder({ clientOrderId: "p-1" }));
    const again = await r.backend.placeOrderDetailed(placeOrder({ clientOrderId: "p-1" }));
    expect(again).toMatchObject({ duplicate: true, result: first.result });
    expect(await r.fake.sim.orders()).toHaveLength(1);
  });

  test("a server refusal is the id's outcome: MODIFY_ORDER's NO_CHANGES comes back stored", async () => {
    const r = await rig();
    const { order } = await r.backend.placeOrder(placeOrder());
    const same = await r.backend.modifyOrderDetailed(modify(order, { price: 1.09 }));
    expect(same).toMatchObject({ source: "SERVER", result: { retcode: Retcode.NO_CHANGES } });
    const repeat = await r.backend.modifyOrderDetailed(modify(order, { price: 1.089 }));
    expect(repeat).toMatchObject({ duplicate: true, result: { retcode: Retcode.NO_CHANGES } });
    expect((await r.backend.orders())[0]?.price_open).toBe(1.09);
  });

  test("the same id for another command is COID_CONFLICT, MODIFY_ORDER against MODIFY too", async () => {
    const r = await rig();
    const { order } = await r.backend.placeOrder(placeOrder());
    await r.backend.modifyOrder(modify(order, { clientOrderId: "shared", price: 1.0895 }));
    const position = await r.backend.open(openOrder({ clientOrderId: "pos" }));
    const conflict = await r.backend.modify({
      clientOrderId: "shared",
      ticket: position.position,
      sl: null,
      tp: null,
    });
    expect(conflict.retcode).toBe(Retcode.INVALID);
    expect(conflict.comment).toContain("COID_CONFLICT");
    expect(r.fake.dedup.lookup("shared")).toMatchObject({ cmd: "MODIFY_ORDER" });
  });
});

describe("who refused (§10.2, §10.6)", () => {
  test("the EA: the symbol's order and expiration modes, InpMaxLots, an unknown order", async () => {
    const r = await rig({
      simOptions: { symbols: [{ symbol: "EURUSD", expiration_modes: ["GTC", "DAY"] }] },
    });
    r.fake.orderModes.set("EURUSD", 1 | 4 | 16 | 32);
    const noLimit = await r.backend.placeOrderDetailed(placeOrder({ clientOrderId: "a" }));
    expect(noLimit).toMatchObject({ source: "EA", result: { retcode: Retcode.INVALID_ORDER } });
    expect(noLimit.result.comment).toContain("allows no limit orders");
    r.fake.orderModes.delete("EURUSD");
    const specified = placeOrder({
      clientOrderId: "b",
      typeTime: "SPECIFIED",
      expiration: r.clock.now() + 3600_000,
    });
    expect(await r.backend.placeOrderDetailed(specified)).toMatchObject({
      source: "EA",
      result: { retcode: Retcode.INVALID_EXPIRATION },
    });
    expect(
      await r.backend.placeOrderDetailed(placeOrder({ clientOrderId: "c", volume: 2 })),
    ).toMatchObject({ source: "EA", result: { retcode: Retcode.INVALID_VOLUME } });
    const unknown = await r.backend.cancelOrderDetailed({ clientOrderId: "d", ticket: 4242 });
    expect(unknown).toMatchObject({ source: "EA", result: { retcode: Retcode.INVALID } });
    expect(sent(r, "PLACE")).toHaveLength(3);
    expect(r.fake.dedup.size).toBe(0);
  });

  test("OrderCheck: a price on the wrong side is CHECK and not stored; the id works once fixed", async () => {
    const r = await rig();
    const wrong = await r.backend.placeOrderDetailed(placeOrder({ price: 1.1005 }));
    expect(wrong).toMatchObject({ source: "CHECK", result: { retcode: Retcode.INVALID_PRICE } });
    expect(r.fake.dedup.lookup(placeOrder().clientOrderId)).toBeUndefined();
    expect((await r.backend.placeOrder(placeOrder())).retcode).toBe(Retcode.DONE);
  });

  test("Algo Trading off refuses MODIFY_ORDER, CANCEL and CLOSE_BY in the EA, unstored", async () => {
    const r = await rig();
    const { order } = await r.backend.placeOrder(placeOrder());
    r.fake.setStatus({ ea_trade_allowed: false });
    const refused = await r.backend.cancelOrderDetailed({ clientOrderId: "x", ticket: order });
    expect(refused).toMatchObject({
      source: "EA",
      result: { retcode: Retcode.CLIENT_DISABLES_AT },
    });
    r.fake.setStatus({ ea_trade_allowed: true });
    expect((await r.backend.cancelOrder({ clientOrderId: "x", ticket: order })).retcode).toBe(
      Retcode.DONE,
    );
  });

  test("the server: CLOSE_BY of two positions on one side is 10013, stored", async () => {
    const r = await rig();
    const a = await r.backend.open(openOrder({ clientOrderId: "a" }));
    const b = await r.backend.open(openOrder({ clientOrderId: "b" }));
    const same = {
      clientOrderId: "by",
      ticket: a.position,
      ticketBy: b.position,
      magic: 1,
      comment: "",
    };
    expect((await r.backend.closeBy(same)).retcode).toBe(Retcode.INVALID);
    expect(r.fake.dedup.lookup("by")).toMatchObject({ source: "SERVER" });
    const gone = { ...same, clientOrderId: "by-2", ticketBy: 999 };
    expect(await r.backend.closeBy(gone)).toMatchObject({ retcode: Retcode.POSITION_CLOSED });
  });
});

describe("a reply lost with the link (§10.5)", () => {
  test("PLACE: BACKEND_TIMEOUT, never re-sent; reconciliation finds the order by its tag", async () => {
    const r = await rig();
    const coid = "lost-place";
    r.fake.faults.push({ kind: "drop", cmd: "PLACE", execute: true });
    const order = placeOrder({ clientOrderId: coid, comment: orderComment(coid) });
    expect((await failure(r.backend.placeOrder(order))).code).toBe(FaultCode.BACKEND_TIMEOUT);
    const entry = unknownEntry(r, "PLACE", coid, { symbol: "EURUSD" });
    expect((await reconcile(entry, r.backend, r.clock.now(), 77)).state).toBe("UNKNOWN");
    await reconnected(r, 1);
    const found = await reconcile(entry, r.backend, r.clock.now(), 77);
    const [placed] = await r.fake.sim.orders();
    expect(found).toMatchObject({ state: "FILLED", reply: { order: placed?.ticket } });
    // A repeat after the new session gets the EA's stored answer, not a second order
    expect(await r.backend.placeOrderDetailed(order)).toMatchObject({ duplicate: true });
    expect(sent(r, "PLACE")).toHaveLength(2);
    expect(await r.fake.sim.orders()).toHaveLength(1);
  });

  test("PLACE dropped before the EA ran it reconciles to NOT_EXECUTED", async () => {
    const r = await rig();
    r.fake.faults.push({ kind: "drop", cmd: "PLACE" });
    const coid = "never";
    const order = placeOrder({ clientOrderId: coid, comment: orderComment(coid) });
    expect((await failure(r.backend.placeOrder(order))).code).toBe(FaultCode.BACKEND_TIMEOUT);
    await reconnected(r, 1);
    const entry = unknownEntry(r, "PLACE", coid, { symbol: "EURUSD" });
    expect((await reconcile(entry, r.backend, r.clock.now(), 77)).state).toBe("NOT_EXECUTED");
  });

  test("MODIFY_ORDER, CANCEL and CLOSE_BY reconcile from the orders, the history and the deals", async () => {
    const r = await rig();
    const { order } = await r.backend.placeOrder(placeOrder());
    r.fake.faults.push({ kind: "drop", cmd: "MODIFY_ORDER", execute: true });
    await failure(r.backend.modifyOrder(modify(order, { price: 1.0895 })));
    await reconnected(r, 1);
    const modified = unknownEntry(r, "MODIFY_ORDER", "c-modify-order", {
      ticket: order,
      price: 1.0895,
    });
    expect((await reconcile(modified, r.backend, r.clock.now(), 77)).state).toBe("FILLED");

    r.fake.faults.push({ kind: "drop", cmd: "CANCEL", execute: true });
    await failure(r.backend.cancelOrder({ clientOrderId: "c-1", ticket: order }));
    await reconnected(r, 2);
    const cancelled = unknownEntry(r, "CANCEL", "c-1", { ticket: order });
    expect((await reconcile(cancelled, r.backend, r.clock.now(), 77)).state).toBe("FILLED");

    const buy = await r.backend.open(openOrder({ clientOrderId: "buy" }));
    const sell = await r.backend.open(openOrder({ clientOrderId: "sell", side: "SELL" }));
    r.fake.faults.push({ kind: "drop", cmd: "CLOSE_BY", execute: true });
    const coid = "by-lost";
    await failure(
      r.backend.closeBy({
        clientOrderId: coid,
        ticket: buy.position,
        ticketBy: sell.position,
        magic: 77,
        comment: orderComment(coid),
      }),
    );
    await reconnected(r, 3);
    const closed = unknownEntry(r, "CLOSE_BY", coid, {
      ticket: buy.position,
      ticket_by: sell.position,
    });
    expect(await reconcile(closed, r.backend, r.clock.now(), 77)).toMatchObject({
      state: "FILLED",
      reply: { ticket: buy.position, ticket_by: sell.position, volume: 0.1 },
    });
  });

  test("a crash inside OrderSend: OUTCOME_UNKNOWN for a repeat until FORGET", async () => {
    const r = await rig();
    r.fake.faults.push({ kind: "crash", cmd: "CANCEL" });
    const { order } = await r.backend.placeOrder(placeOrder());
    const cancel = { clientOrderId: "c-crash", ticket: order };
    expect((await failure(r.backend.cancelOrder(cancel))).code).toBe(FaultCode.BACKEND_TIMEOUT);
    await reconnected(r, 1);
    const unknown = await failure(r.backend.cancelOrder(cancel));
    expect(unknown.message).toContain("OUTCOME_UNKNOWN");
    expect(await r.backend.orders()).toHaveLength(1);
    expect(await r.backend.forget("c-crash")).toBe(true);
    expect((await r.backend.cancelOrder(cancel)).retcode).toBe(Retcode.DONE);
  });
});

describe("EA answers that break the contract close the link", () => {
  test.each<[string, string, Record<string, unknown>]>([
    ["an order with an unknown type", "GET_ORDERS", { order_type: "BUY_LATER" }],
    ["an order with an unknown state", "GET_ORDERS", { state: "MAYBE" }],
    ["an order with a negative volume", "GET_ORDERS", { volume_current: -1 }],
    ["an order without a ticket", "GET_ORDERS", { ticket: 0 }],
    ["a history order with an unknown lifetime", "GET_HISTORY_ORDERS", { type_time: "WEEK" }],
  ])("%s", async (_name, cmd, change) => {
    const r = await rig();
    await r.fake.sim.placeOrder(placeOrder());
    const [order] = await r.fake.sim.orders();
    r.fake.faults.push({
      kind: "reply",
      cmd,
      body: () => ({
        ok: true,
        total: 1,
        offset: 0,
        count: 1,
        more: false,
        orders: [
          {
            ...{ ticket: order?.ticket as number, symbol: "EURUSD", order_type: "BUY_LIMIT" },
            ...{ state: "PLACED", volume_initial: 0.1, volume_current: 0.1, price_open: 1.09 },
            ...{ price_stoplimit: 0, sl: 0, tp: 0, price_current: 1.1, type_time: "GTC" },
            ...{ time_expiration: 0, type_filling: "RETURN", magic: 77, comment: "" },
            ...{ time_setup: 1, time_done: 0, position_id: 0, position_by_id: 0 },
            reason: "EXPERT",
            ...change,
          },
        ],
      }),
    });
    const read =
      cmd === "GET_ORDERS"
        ? r.backend.orders()
        : r.backend.market.historyOrders(
            { kind: "range", from: 0, to: r.clock.now() },
            undefined,
            1,
          );
    expect((await failure(read)).code).toBe(FaultCode.BACKEND_UNAVAILABLE);
    await eventually(() => r.backend.link().state === "DOWN");
    await reconnected(r, 1);
    expect(await r.backend.orders()).toHaveLength(1);
  });

  test("a PLACE 'done' without an order ticket is an unknown outcome, not a ticket 0", async () => {
    const r = await rig();
    r.fake.faults.push({
      kind: "reply",
      cmd: "PLACE",
      body: (frame) =>
        tradeBody("PLACE", frame.string("client_order_id") as string, "SERVER", 10009, "done"),
    });
    const error = await failure(r.backend.placeOrder(placeOrder()));
    expect(error.code).toBe(FaultCode.BACKEND_TIMEOUT);
    expect(error.message).toContain("without an order ticket");
  });

  test("a negative margin, or an ORDER_CHECK without its figures, closes the link", async () => {
    const r = await rig();
    r.fake.faults.push({ kind: "reply", cmd: "CALC_MARGIN", body: { ok: true, margin: -5 } });
    const margin = { symbol: "EURUSD", side: "BUY" as const, volume: 0.1, price: 1.1 };
    expect((await failure(r.backend.calcMargin(margin))).message).toContain("margin was -5");
    await reconnected(r, 1);
    r.fake.faults.push({ kind: "reply", cmd: "ORDER_CHECK", body: { ok: true, retcode: 0 } });
    const check = r.backend.orderCheck({
      ...{ symbol: "EURUSD", type: "BUY", volume: 0.1, price: undefined, stoplimit: null },
      ...{ sl: null, tp: null, typeTime: "GTC", expiration: 0, filling: null, deviation: 0 },
      ...{ magic: 0, comment: "" },
    });
    expect((await failure(check)).message).toContain("field balance");
  });

  test("an ORDER event with an unknown transaction closes the link", async () => {
    const r = await rig();
    await r.fake.sim.placeOrder(placeOrder());
    const [order] = await r.backend.orders();
    r.fake.sendEvent("ORDER", {
      transaction: "ORDER_MAYBE",
      ...{ ticket: order?.ticket as number, symbol: "EURUSD", order_type: "BUY_LIMIT" },
      state: "PLACED",
      ...{ volume_initial: 0.1, volume_current: 0.1, price_open: 1.09, price_stoplimit: 0 },
      ...{ sl: 0, tp: 0, price_current: 1.1, type_time: "GTC", time_expiration: 0 },
      ...{ type_filling: "FOK", magic: 77, comment: "", time_setup: 1, time_done: 0 },
      ...{ position_id: 0, position_by_id: 0, reason: "EXPERT" },
    });
    await eventually(() => r.backend.link().state === "DOWN");
  });
});
