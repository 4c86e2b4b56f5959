/**
 * OPEN, CLOSE and MODIFY through the fake terminal (docs/EA-LINK.md §9–§11): fills, the EA's
 * dedup store, refusals decided by the EA, by OrderCheck and by the server, and EA errors that
 * carry no retcode. Every frame the gateway sent must pass the EA's reader.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { FaultCode } from "../../../shared/errors.ts";
import { Retcode } from "../../../shared/protocol/index.ts";
import {
  cleanupRigs,
  expectNoReaderViolations,
  failure,
  openOrder,
  type Rig,
  reconnected,
  startCheckedRig,
  tradeBody,
} from "./testing/rig.ts";

afterEach(async () => {
  expectNoReaderViolations();
  await cleanupRigs();
});

const rig = startCheckedRig;

const last = (r: Rig, cmd: string) => r.fake.commands.filter((c) => c.cmd === cmd).at(-1)?.frame;

describe("fills", () => {
  test("OPEN sends the order's fields and returns MT5's result", async () => {
    const r = await rig();
    const bid = (await r.fake.sim.symbolInfo("EURUSD"))?.bid as number;
    const outcome = await r.backend.openDetailed(
      openOrder({ sl: bid - 0.005, tp: bid + 0.005, comment: "Bk3 tag ü" }),
    );
    expect(outcome).toMatchObject({ source: "SERVER", duplicate: false });
    expect(outcome.result).toMatchObject({ retcode: Retcode.DONE, volume: 0.1 });
    expect(outcome.result.position).toBeGreaterThan(0);
    const frame = last(r, "OPEN");
    expect(frame?.keys.sort()).toEqual([
      "client_order_id",
      "cmd",
      "comment",
      "deviation",
      "id",
      "magic",
      "side",
      "sl",
      "symbol",
      "tp",
      "type",
      "volume",
    ]);
    expect(frame?.string("comment")).toBe("Bk3 tag ü");
    const [position] = await r.backend.positions();
    expect(position).toMatchObject({
      ticket: outcome.result.position,
      sl: Math.round((bid - 0.005) * 1e5) / 1e5,
      tp: Math.round((bid + 0.005) * 1e5) / 1e5,
      magic: 4242,
      comment: "Bk3 tag ü",
    });
    await r.backend.open(openOrder({ clientOrderId: "no-stops" }));
    expect(last(r, "OPEN")?.has("sl")).toBe(false);
    expect(last(r, "OPEN")?.has("tp")).toBe(false);
  });

  test("a repeated OPEN is answered from the EA's dedup store: same deal, no second trade", async () => {
    const r = await rig();
    const first = await r.backend.openDetailed(openOrder());
    const again = await r.backend.openDetailed(openOrder());
    expect(again.duplicate).toBe(true);
    expect(again.result).toEqual(first.result);
    expect(await r.fake.sim.deals({ from: 0, to: Number.MAX_SAFE_INTEGER })).toHaveLength(1);
  });

  test("CLOSE in part keeps the ticket, CLOSE without volume closes the rest", async () => {
    const r = await rig();
    const { position } = await r.backend.open(openOrder());
    const partial = await r.backend.close({
      clientOrderId: "c-part",
      ticket: position,
      volume: 0.04,
      deviation: 10,
      magic: 4242,
      comment: "part",
    });
    expect(partial).toMatchObject({ retcode: Retcode.DONE, volume: 0.04, position });
    expect((await r.backend.positions())[0]?.volume).toBeCloseTo(0.06, 8);
    const rest = await r.backend.close({
      clientOrderId: "c-rest",
      ticket: position,
      volume: null,
      deviation: 10,
      magic: 4242,
      comment: "rest",
    });
    expect(rest).toMatchObject({ retcode: Retcode.DONE, volume: 0.06 });
    expect(last(r, "CLOSE")?.has("volume")).toBe(false);
    expect(await r.backend.positions()).toEqual([]);
  });

  test("MODIFY: undefined keeps a level (read from the position), null removes it", async () => {
    const r = await rig();
    const bid = (await r.fake.sim.symbolInfo("EURUSD"))?.bid as number;
    const sl = Math.round((bid - 0.004) * 1e5) / 1e5;
    const tp = Math.round((bid + 0.004) * 1e5) / 1e5;
    const { position } = await r.backend.open(openOrder({ sl, tp }));
    const newTp = Math.round((bid + 0.006) * 1e5) / 1e5;
    const moved = await r.backend.modify({
      clientOrderId: "m-1",
      ticket: position,
      sl: undefined,
      tp: newTp,
    });
    expect(moved.retcode).toBe(Retcode.DONE);
    expect(last(r, "MODIFY")?.number("sl")).toBe(sl);
    expect(last(r, "MODIFY")?.number("tp")).toBe(newTp);
    await r.backend.modify({ clientOrderId: "m-2", ticket: position, sl: null, tp: undefined });
    expect(last(r, "MODIFY")?.number("sl")).toBe(0);
    expect((await r.backend.positions())[0]).toMatchObject({ sl: null, tp: newTp });
    const same = await r.backend.modifyDetailed({
      clientOrderId: "m-3",
      ticket: position,
      sl: null,
      tp: newTp,
    });
    expect(same).toMatchObject({ source: "SERVER", result: { retcode: Retcode.NO_CHANGES } });
  });

  test("MODIFY keeping a level of an unknown ticket answers 10036 without sending MODIFY", async () => {
    const r = await rig();
    const outcome = await r.backend.modifyDetailed({
      clientOrderId: "m-x",
      ticket: 999,
      sl: 1,
      tp: undefined,
    });
    expect(outcome).toMatchObject({ source: "EA", result: { retcode: Retcode.POSITION_CLOSED } });
    expect(r.fake.commands.map((c) => c.cmd)).toEqual(["GET_POSITIONS"]);
  });
});

describe("refusals: the retcode and who decided it", () => {
  test("10030 from OrderCheck is source CHECK and not stored; the same id works after the fix", async () => {
    const r = await rig();
    r.fake.sim.setForceFilling("RETURN");
    const refused = await r.backend.openDetailed(openOrder());
    expect(refused).toMatchObject({ source: "CHECK", result: { retcode: Retcode.INVALID_FILL } });
    expect(r.fake.dedup.lookup(openOrder().clientOrderId)).toBeUndefined();
    r.fake.sim.setForceFilling(undefined);
    expect((await r.backend.open(openOrder())).retcode).toBe(Retcode.DONE);
  });

  test("10027 with Algo Trading off is source CHECK", async () => {
    const r = await rig();
    r.fake.sim.setTradeAllowed(false);
    const refused = await r.backend.openDetailed(openOrder());
    expect(refused).toMatchObject({
      source: "CHECK",
      result: { retcode: Retcode.CLIENT_DISABLES_AT },
    });
  });

  test("10004 requote on Instant execution is source SERVER, stored, with the new prices", async () => {
    const r = await rig();
    r.fake.sim.queuePriceMove("XAUUSD", 500);
    const order = openOrder({
      symbol: "XAUUSD",
      volume: 0.01,
      deviation: 10,
      clientOrderId: "gold",
    });
    const requote = await r.backend.openDetailed(order);
    expect(requote).toMatchObject({ source: "SERVER", result: { retcode: Retcode.REQUOTE } });
    const info = await r.fake.sim.symbolInfo("XAUUSD");
    expect(requote.result).toMatchObject({ bid: info?.bid, ask: info?.ask });
    const repeat = await r.backend.openDetailed(order);
    expect(repeat).toMatchObject({ duplicate: true, result: { retcode: Retcode.REQUOTE } });
  });

  test("scripted answers map whatever their source", async () => {
    const r = await rig();
    for (const [source, retcode] of [
      ["SERVER", 10030],
      ["CHECK", 10027],
      ["SERVER", 10004],
    ] as const) {
      const coid = `s-${retcode}`;
      r.fake.faults.push({
        kind: "reply",
        cmd: "OPEN",
        body: tradeBody("OPEN", coid, source, retcode, "scripted"),
      });
      const outcome = await r.backend.openDetailed(openOrder({ clientOrderId: coid }));
      expect(outcome).toMatchObject({ source, result: { retcode, comment: "scripted" } });
    }
  });

  test.each([
    ["a volume off the step grid", { volume: 0.015 }, Retcode.INVALID_VOLUME, "volume_step"],
    ["a volume above InpMaxLots", { volume: 2 }, Retcode.INVALID_VOLUME, "InpMaxLots"],
    ["an SL above the bid of a BUY", { sl: 5 }, Retcode.INVALID_STOPS, "sl must be <= bid"],
  ])("the EA refuses %s itself (source EA)", async (_name, change, retcode, comment) => {
    const r = await rig();
    const outcome = await r.backend.openDetailed(openOrder(change));
    expect(outcome.source).toBe("EA");
    expect(outcome.result.retcode).toBe(retcode);
    expect(outcome.result.comment).toContain(comment);
  });

  test("CLOSE of a missing position or of too much volume is refused by the EA", async () => {
    const r = await rig();
    const close = {
      clientOrderId: "c-1",
      ticket: 424242,
      volume: null,
      deviation: 10,
      magic: 1,
      comment: "",
    };
    expect(await r.backend.closeDetailed(close)).toMatchObject({
      source: "EA",
      result: { retcode: Retcode.POSITION_CLOSED, position: 424242 },
    });
    const { position } = await r.backend.open(openOrder());
    const tooMuch = await r.backend.close({
      ...close,
      clientOrderId: "c-2",
      ticket: position,
      volume: 0.5,
    });
    expect(tooMuch.retcode).toBe(Retcode.INVALID_CLOSE_VOLUME);
  });
});

describe("EA errors without a retcode (§9)", () => {
  test("BAD_REQUEST and COID_CONFLICT come back as 10013 (nothing executed)", async () => {
    const r = await rig();
    const long = await r.backend.open(openOrder({ comment: "x".repeat(40) }));
    expect(long).toMatchObject({ retcode: Retcode.INVALID });
    expect(long.comment).toContain("comment longer than 31 characters");
    await r.backend.open(openOrder({ clientOrderId: "used" }));
    const conflict = await r.backend.close({
      clientOrderId: "used",
      ticket: 1,
      volume: null,
      deviation: 1,
      magic: 1,
      comment: "",
    });
    expect(conflict.retcode).toBe(Retcode.INVALID);
    expect(conflict.comment).toContain("COID_CONFLICT");
  });

  test("RUNTIME_4752 is 10027; DEDUP_STORE_FAILED is BACKEND_UNAVAILABLE", async () => {
    const r = await rig();
    r.fake.faults.push({
      kind: "reply",
      cmd: "OPEN",
      body: { ok: false, error: "RUNTIME_4752", error_msg: "" },
    });
    expect((await r.backend.open(openOrder({ clientOrderId: "rt" }))).retcode).toBe(
      Retcode.CLIENT_DISABLES_AT,
    );
    r.fake.faults.push({
      kind: "reply",
      cmd: "OPEN",
      body: { ok: false, error: "DEDUP_STORE_FAILED", error_msg: "disk full" },
    });
    const error = await failure(r.backend.open(openOrder({ clientOrderId: "ds" })));
    expect(error.code).toBe(FaultCode.BACKEND_UNAVAILABLE);
    expect(error.message).toContain("disk full");
  });

  test("in_flight is an unknown outcome, and that id is not sent again in this session", async () => {
    const r = await rig();
    r.fake.faults.push({
      kind: "reply",
      cmd: "OPEN",
      body: { ok: false, error: "RUNTIME_4756", error_msg: "send failed", in_flight: true },
    });
    expect((await failure(r.backend.open(openOrder()))).code).toBe(FaultCode.BACKEND_TIMEOUT);
    const again = await failure(r.backend.open(openOrder()));
    expect(again.code).toBe(FaultCode.BACKEND_TIMEOUT);
    expect(again.message).toContain("still unknown");
    expect(r.fake.commands.filter((c) => c.cmd === "OPEN")).toHaveLength(1);
  });

  test("a crash inside OrderSend leaves OUTCOME_UNKNOWN until FORGET, then the id executes", async () => {
    const r = await rig();
    r.fake.faults.push({ kind: "crash", cmd: "OPEN" });
    expect((await failure(r.backend.open(openOrder()))).code).toBe(FaultCode.BACKEND_TIMEOUT);
    await reconnected(r, 1);
    const unknown = await failure(r.backend.open(openOrder()));
    expect(unknown.code).toBe(FaultCode.BACKEND_TIMEOUT);
    expect(unknown.message).toContain("OUTCOME_UNKNOWN");
    expect(await r.backend.deals({ from: 0, to: r.clock.now() + 60_000 })).toEqual([]);
    expect(await r.backend.forget(openOrder().clientOrderId)).toBe(true);
    expect((await r.backend.open(openOrder())).retcode).toBe(Retcode.DONE);
  });
});
