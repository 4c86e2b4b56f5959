/**
 * The EA's behaviours fixed for a first real terminal (issue 13), through the gateway and the
 * fake terminal (the executable model of the EA): the dedup store changes memory only after a
 * successful write, OPEN names the position without its deal, CLOSE/MODIFY find a re-ticketed
 * position by its identifier, SL/TP go on the tick grid, SYMBOL_ORDER_MODE is honoured, Algo
 * Trading off is a local refusal for MODIFY too, server refusals spend the id, the filling is
 * reported, and no value of MT5's breaks the link (non-finite doubles, 64-bit magics, big pages).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { FaultCode } from "../../../shared/errors.ts";
import { Retcode } from "../../../shared/protocol/index.ts";
import { MAX_EXACT_MAGIC } from "./mapping.ts";
import { TerminalCommandError } from "./reply-channel.ts";
import {
  cleanupRigs,
  expectNoReaderViolations,
  failure,
  openOrder,
  startCheckedRig,
} from "./testing/rig.ts";

afterEach(async () => {
  expectNoReaderViolations();
  await cleanupRigs();
});

const rig = startCheckedRig;

describe("the dedup store (§11)", () => {
  test("a failed marker write changes nothing: the same id trades once the file is writable", async () => {
    const r = await rig();
    r.fake.dedup.failWrites = true;
    const refused = await failure(r.backend.open(openOrder()));
    expect(refused.code).toBe(FaultCode.BACKEND_UNAVAILABLE);
    expect(refused.message).toContain("DEDUP_STORE_FAILED");
    expect(await r.fake.sim.positions()).toEqual([]);
    r.fake.dedup.failWrites = false;
    const outcome = await r.backend.openDetailed(openOrder());
    expect(outcome).toMatchObject({ source: "SERVER", duplicate: false });
    expect(outcome.result.retcode).toBe(Retcode.DONE);
  });

  test("a FORGET that cannot be written is refused and the id stays known", async () => {
    const r = await rig();
    const first = await r.backend.openDetailed(openOrder());
    r.fake.dedup.failWrites = true;
    const refused = await r.backend.forget("t-open-1").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TerminalCommandError);
    expect((refused as TerminalCommandError).eaError).toBe("DEDUP_STORE_FAILED");
    r.fake.dedup.failWrites = false;
    const again = await r.backend.openDetailed(openOrder());
    expect(again).toMatchObject({ duplicate: true, result: first.result });
  });
});

describe("positions (§10.2, §10.3)", () => {
  test("OPEN names the position by the order's ticket when its deal is not in the history yet", async () => {
    const r = await rig();
    r.fake.faults.push({ kind: "deal_late", cmd: "OPEN" });
    const outcome = await r.backend.openDetailed(openOrder());
    const [position] = await r.fake.sim.positions();
    expect(outcome.result.position).toBe(position?.ticket as number);
    expect(outcome.result.position).toBe(outcome.result.order);
  });

  test("a position re-opened under a new ticket is found by its identifier for CLOSE and MODIFY", async () => {
    const r = await rig();
    const opened = await r.backend.open(openOrder({ volume: 0.2 }));
    const identifier = opened.position;
    r.fake.reticket(identifier, identifier + 900_000);
    const bid = (await r.fake.sim.symbolInfo("EURUSD"))?.bid as number;
    // The gateway keeps the TP it does not mention: it finds the position by identifier too
    const modified = await r.backend.modifyDetailed({
      clientOrderId: "m-old-ticket",
      ticket: identifier,
      sl: Math.round((bid - 0.01) * 1e5) / 1e5,
      tp: undefined,
    });
    expect(modified.result).toMatchObject({
      retcode: Retcode.DONE,
      position: identifier + 900_000,
    });
    const closed = await r.backend.closeDetailed({
      clientOrderId: "c-old-ticket",
      ticket: identifier,
      volume: 0.1,
      deviation: 10,
      magic: 1,
      comment: "",
    });
    expect(closed.result).toMatchObject({
      retcode: Retcode.DONE,
      position: identifier + 900_000,
    });
    expect((await r.fake.sim.positions())[0]?.volume).toBe(0.1);
  });
});

describe("the symbol's rules (§10.2)", () => {
  test("SL/TP are rounded to SYMBOL_TRADE_TICK_SIZE, and the reply echoes the levels sent", async () => {
    const r = await rig({
      simOptions: { symbols: [{ symbol: "US500", tick_size: 0.25 }] },
    });
    const info = (await r.fake.sim.symbolInfo("US500")) as { bid: number };
    const outcome = await r.backend.openDetailed(
      openOrder({ symbol: "US500", volume: 0.1, sl: info.bid - 20.13, tp: info.bid + 20.11 }),
    );
    expect(outcome.result.retcode).toBe(Retcode.DONE);
    for (const level of [outcome.sl, outcome.tp]) {
      expect(Math.abs(level / 0.25 - Math.round(level / 0.25))).toBeLessThan(1e-9);
    }
    const [position] = await r.backend.positions();
    expect([position?.sl, position?.tp]).toEqual([outcome.sl, outcome.tp]);
  });

  test("SYMBOL_ORDER_MODE: no market orders is 10035, no SL or TP is 10016, from the EA", async () => {
    const r = await rig();
    r.fake.orderModes.set("EURUSD", 2 | 4 | 32); // limit, stop, TP
    const market = await r.backend.openDetailed(openOrder({ clientOrderId: "no-market" }));
    expect(market).toMatchObject({ source: "EA", result: { retcode: Retcode.INVALID_ORDER } });
    expect(market.result.comment).toContain("SYMBOL_ORDER_MODE");
    r.fake.orderModes.set("EURUSD", 1 | 32); // market and TP, no SL
    const bid = (await r.fake.sim.symbolInfo("EURUSD"))?.bid as number;
    const withSl = await r.backend.openDetailed(
      openOrder({ clientOrderId: "no-sl", sl: bid - 0.01 }),
    );
    expect(withSl).toMatchObject({ source: "EA", result: { retcode: Retcode.INVALID_STOPS } });
    const plain = await r.backend.openDetailed(openOrder({ clientOrderId: "plain" }));
    expect(plain.result.retcode).toBe(Retcode.DONE);
    expect(await r.fake.sim.positions()).toHaveLength(1);
  });

  test("the EA reports the filling it sends: in GET_SYMBOL_INFO and on the trade reply", async () => {
    const r = await rig();
    expect((await r.backend.symbolDetails("EURUSD"))?.extras).toEqual({
      order_mode: 127,
      filling: "FOK",
    });
    expect((await r.backend.symbolDetails("USDJPY"))?.extras.filling).toBe("IOC");
    const outcome = await r.backend.openDetailed(openOrder({ symbol: "USDJPY" }));
    expect(outcome.filling).toBe("IOC");
  });
});

describe("local refusals and spent ids (§10.2, §11)", () => {
  test("MODIFY with Algo Trading off is refused by the EA and not stored: the same id works later", async () => {
    const r = await rig();
    const { position } = await r.backend.open(openOrder());
    const bid = (await r.fake.sim.symbolInfo("EURUSD"))?.bid as number;
    const modify = {
      clientOrderId: "m-algo",
      ticket: position,
      sl: Math.round((bid - 0.01) * 1e5) / 1e5,
      tp: null,
    };
    r.fake.setStatus({ ea_trade_allowed: false });
    const refused = await r.backend.modifyDetailed(modify);
    expect(refused).toMatchObject({
      source: "EA",
      result: { retcode: Retcode.CLIENT_DISABLES_AT },
    });
    r.fake.setStatus({ ea_trade_allowed: true });
    const done = await r.backend.modifyDetailed(modify);
    expect(done).toMatchObject({ source: "SERVER", duplicate: false });
    expect(done.result.retcode).toBe(Retcode.DONE);
  });

  test("OrderSend's own 10027 is a terminal-side refusal (CHECK), not the id's outcome", async () => {
    const r = await rig();
    const { position } = await r.backend.open(openOrder());
    const bid = (await r.fake.sim.symbolInfo("EURUSD"))?.bid as number;
    const sl = Math.round((bid - 0.01) * 1e5) / 1e5;
    const modify = { clientOrderId: "m-10027", ticket: position, sl, tp: null };
    // The terminal's switch flips between the EA's check and OrderSend
    r.fake.sim.setTradeAllowed(false);
    const refused = await r.backend.modifyDetailed(modify);
    expect(refused).toMatchObject({
      source: "CHECK",
      result: { retcode: Retcode.CLIENT_DISABLES_AT },
    });
    r.fake.sim.setTradeAllowed(true);
    const again = await r.backend.modifyDetailed(modify);
    expect(again).toMatchObject({ duplicate: false, result: { retcode: Retcode.DONE } });
  });

  test("a server refusal (requote) is the id's outcome: a repeat gets it back, a new id trades", async () => {
    const r = await rig();
    r.fake.sim.queuePriceMove("XAUUSD", 30);
    const order = openOrder({ symbol: "XAUUSD", volume: 0.01, deviation: 10 });
    const requoted = await r.backend.openDetailed(order);
    expect(requoted).toMatchObject({ source: "SERVER", result: { retcode: Retcode.REQUOTE } });
    const repeat = await r.backend.openDetailed(order);
    expect(repeat).toMatchObject({ duplicate: true, result: { retcode: Retcode.REQUOTE } });
    const fresh = await r.backend.openDetailed({ ...order, clientOrderId: "t-open-2" });
    expect(fresh.result.retcode).toBe(Retcode.DONE);
  });
});

describe("values that must not break the link (§4)", () => {
  test("a non-finite double arrives as 0, and the link stays", async () => {
    const r = await rig();
    const account = await r.backend.account();
    r.fake.faults.push({
      kind: "reply",
      cmd: "GET_ACCOUNT",
      body: {
        ok: true,
        ...Object.fromEntries(Object.entries(account).map(([k, v]) => [k, v])),
        company: "x",
        account_trade_mode: "DEMO",
        trade_expert: true,
        margin_so_mode: "PERCENT",
        margin_level: Number.NaN,
        profit: Number.POSITIVE_INFINITY,
      },
    });
    expect(await r.backend.account()).toMatchObject({ margin_level: 0, profit: 0 });
    expect(r.backend.link().state).toBe("UP");
  });

  test("another EA's 64-bit magic on a position degrades its magic, never the link", async () => {
    const r = await rig();
    await r.backend.open(openOrder());
    const shown = (await r.fake.sim.positions())[0];
    r.fake.faults.push({
      kind: "reply",
      cmd: "GET_POSITIONS",
      body: {
        ok: true,
        total: 1,
        offset: 0,
        count: 1,
        more: false,
        positions: [
          {
            ticket: shown?.ticket as number,
            identifier: shown?.ticket as number,
            symbol: "EURUSD",
            side: "BUY",
            volume: 0.1,
            price_open: 1.1,
            price_current: 1.1,
            sl: 0,
            tp: 0,
            profit: 0,
            swap: 0,
            magic: 18_446_744_073_709_551_615n,
            comment: "other EA",
            time: 1,
            time_update: 1,
          },
        ],
      },
    });
    const [position] = await r.backend.positions();
    expect(position).toMatchObject({ magic: MAX_EXACT_MAGIC, comment: "other EA" });
    expect(r.backend.link().state).toBe("UP");
  });

  test("a page is cut by size as well as by count, and the listing still comes whole", async () => {
    const r = await rig({ fake: { pageBudgetChars: 700 } });
    for (let i = 0; i < 7; i++) await r.backend.open(openOrder({ clientOrderId: `p${i}` }));
    const positions = await r.backend.positions();
    expect(positions).toHaveLength(7);
    // Each page asked for 1,000 items and got the few that fit
    const pages = r.fake.commands.filter((c) => c.cmd === "GET_POSITIONS");
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.every((page) => page.frame.integer("limit") === 1000)).toBe(true);
  });
});
