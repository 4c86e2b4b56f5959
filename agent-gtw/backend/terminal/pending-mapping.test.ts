/**
 * Pending orders both ways, pure (docs/EA-LINK.md §7.9–§7.11, §10.6): the wire fields of each
 * request, and the EA's orders and check results read into the shared types.
 */
import { describe, expect, test } from "bun:test";
import { modifyPending, placeOrder } from "../sim/testing/support.ts";
import { ServerTime } from "./mapping.ts";
import { modifyOrderFields, placeFields, toOrderCheck, toTradeOrder } from "./pending-mapping.ts";
import { LinkProtocolError, WireFields } from "./wire-fields.ts";

const time = new ServerTime(7200);
const fields = (object: Record<string, unknown>) => new WireFields(object, "test");

const ORDER = {
  ticket: 91,
  symbol: "CL",
  order_type: "SELL_STOP_LIMIT",
  state: "PLACED",
  volume_initial: 1,
  volume_current: 1,
  price_open: -2.5,
  price_stoplimit: -2,
  sl: 0,
  tp: 0,
  price_current: -1.5,
  type_time: "SPECIFIED_DAY",
  time_expiration: 1_767_657_599_000,
  type_filling: "BOC",
  magic: 5,
  comment: "c",
  time_setup: 1_767_607_200_000,
  time_done: 0,
  position_id: 0,
  position_by_id: 0,
  reason: "MOBILE",
};

describe("orders from the EA", () => {
  test("server ms to Unix ms, 0 to null, BOC rests like RETURN, a phone is a CLIENT", () => {
    const { order_type: _wire, ...rest } = ORDER;
    expect<object>(toTradeOrder(fields(ORDER), time)).toEqual({
      ...rest,
      type: "SELL_STOP_LIMIT",
      price_stoplimit: -2,
      sl: null,
      tp: null,
      time_expiration: 1_767_657_599_000 - 7_200_000,
      type_filling: "RETURN",
      time_setup: 1_767_607_200_000 - 7_200_000,
      reason: "CLIENT",
      external_id: "",
    });
    const external = toTradeOrder(fields({ ...ORDER, external_id: "X-42" }), time);
    expect(external.external_id).toBe("X-42");
  });

  test.each([
    ["order_type", "BUY_NOW"],
    ["state", "placed"],
    ["type_time", "WEEK"],
    ["type_filling", "ANY"],
    ["volume_current", -0.1],
    ["ticket", 0],
    ["position_id", -1],
    ["time_setup", 1.5],
  ])("%s %p is a protocol error", (key, value) => {
    expect(() => toTradeOrder(fields({ ...ORDER, [key]: value }), time)).toThrow(LinkProtocolError);
  });

  test("OrderCheck's pass is 0 whether the terminal says 0 or 10009", () => {
    const figures = { balance: 1, equity: 1, profit: 0, margin: 0, margin_free: 1 };
    const base = { ...figures, margin_level: 0, comment: "Done" };
    expect(toOrderCheck(fields({ ...base, retcode: 10009 })).retcode).toBe(0);
    expect(toOrderCheck(fields({ ...base, retcode: 10019 })).retcode).toBe(10019);
    expect(() => toOrderCheck(fields({ ...base, retcode: -1 }))).toThrow(LinkProtocolError);
  });
});

describe("requests to the EA", () => {
  test("PLACE leaves out what is absent and sends the expiration in server ms", () => {
    expect(placeFields(placeOrder(), time)).toEqual({
      client_order_id: "c-place",
      symbol: "EURUSD",
      order_type: "BUY_LIMIT",
      volume: 0.1,
      price: 1.09,
      type_time: "GTC",
      magic: 77,
      comment: "t:c-place",
    });
    const specified = placeOrder({ typeTime: "SPECIFIED", expiration: 1_000_000, sl: 1.08 });
    expect(placeFields(specified, time)).toMatchObject({ expiration: 8_200_000, sl: 1.08 });
  });

  test("MODIFY_ORDER: undefined keeps (absent), null removes (0)", () => {
    const wire = modifyOrderFields(modifyPending(5, { sl: null, tp: 1.2, expiration: 0 }), time);
    expect(wire).toEqual({
      client_order_id: "c-modify-order",
      ticket: 5,
      sl: 0,
      tp: 1.2,
      expiration: 0,
    });
  });
});
