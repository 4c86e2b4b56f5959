/**
 * The pre-trade snapshot on a fake gateway port: what the live view holds fresh is not asked
 * again, the rest is asked in one parallel round, and what had to be asked is kept for the next
 * order. A gateway that cannot report the account makes the snapshot unknown (nothing is sent).
 */
import { describe, expect, test } from "bun:test";
import { settle } from "../../shared/testing/drive.ts";
import { makeAccount, makePosition, makeSymbol } from "../risk/testing/fixtures.ts";
import { readSnapshot } from "./snapshot.ts";
import { FakeLive } from "./testing/fake-live.ts";
import { createOrderRig, error } from "./testing/order-rig.ts";

const asked = (rig: ReturnType<typeof createOrderRig>) =>
  rig.port.calls.map((call) => call.request.action).sort();

describe("readSnapshot", () => {
  test("without a live view: account, positions and the symbol, asked at once", async () => {
    const rig = createOrderRig();
    const snapshot = await settle(rig.clock, readSnapshot(rig.lane, "EURUSD"));
    expect(asked(rig)).toEqual(["GET_ACCOUNT", "GET_POSITIONS", "GET_SYMBOL_INFO"]);
    expect(snapshot).toMatchObject({
      account: rig.book.account,
      positions: rig.book.positions,
      symbol: { symbol: "EURUSD" },
      clockOffsetMs: 0,
    });
  });

  test("what the live view holds fresh is not asked; what was asked is handed to it", async () => {
    const live = new FakeLive();
    live.positions_ = [makePosition({ ticket: 77 })];
    live.symbols.set("EURUSD", makeSymbol({ bid: 1.2 }));
    const rig = createOrderRig({ live });
    const snapshot = await settle(rig.clock, readSnapshot(rig.lane, "EURUSD"));
    expect(asked(rig)).toEqual(["GET_ACCOUNT"]);
    expect(snapshot).toMatchObject({ positions: [{ ticket: 77 }], symbol: { bid: 1.2 } });
    expect(live.remembered).toEqual([{ account: rig.book.account }]);
  });

  test("a CLOSE's symbol is the position's, asked when the view does not have it", async () => {
    const rig = createOrderRig({ live: new FakeLive() });
    rig.book.positions = [makePosition({ ticket: 42, symbol: "USDJPY" })];
    rig.book.symbols.push(makeSymbol({ symbol: "USDJPY", digits: 3 }));
    const snapshot = await settle(rig.clock, readSnapshot(rig.lane, undefined, 42));
    expect(snapshot).toMatchObject({ symbol: { symbol: "USDJPY", digits: 3 } });
    expect(rig.port.requests("GET_SYMBOL_INFO")).toEqual([
      expect.objectContaining({ symbol: "USDJPY" }),
    ]);
  });

  test("an account the gateway cannot report makes the snapshot unknown", async () => {
    const live = new FakeLive();
    live.account_ = undefined;
    const rig = createOrderRig({ live });
    const answer = rig.port.answer;
    rig.port.answer = (call) =>
      call.request.action === "GET_ACCOUNT"
        ? error(call.request, "MT5_DISCONNECTED")
        : answer(call);
    const snapshot = await settle(rig.clock, readSnapshot(rig.lane, "EURUSD"));
    expect(snapshot).toEqual({
      unknown: "gateway could not report the account: MT5_DISCONNECTED",
    });
    expect(live.remembered).toEqual([]);
  });

  test("a live account is used as it is", async () => {
    const live = new FakeLive();
    live.account_ = makeAccount({ equity: 1234 });
    const rig = createOrderRig({ live });
    const snapshot = await settle(rig.clock, readSnapshot(rig.lane, "EURUSD"));
    expect(snapshot).toMatchObject({ account: { equity: 1234 } });
    expect(rig.port.requests("GET_ACCOUNT")).toHaveLength(0);
  });
});
