/**
 * Read commands against the fake terminal (docs/EA-LINK.md §7.2–§7.8, §14): account, symbol
 * info, paged positions and deals with broker-time conversion, FORGET, SUBSCRIBE_TICKS, and
 * what a malformed reply or an EA error does.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { eventually } from "../../../scripts/harness/eventually.ts";
import { FaultCode } from "../../../shared/errors.ts";
import type { FillingMode } from "../../../shared/protocol/index.ts";
import { BackendError } from "../backend.ts";
import { TerminalCommandError } from "./terminal-backend.ts";
import { cleanupRigs, openOrder, type Rig, reconnected, startRig } from "./testing/rig.ts";

afterEach(cleanupRigs);

const sent = (rig: Rig, cmd: string) => rig.fake.commands.filter((c) => c.cmd === cmd);

async function openInSim(rig: Rig, count: number, overrides: Parameters<typeof openOrder>[0] = {}) {
  for (let i = 0; i < count; i++) {
    await rig.fake.sim.open(openOrder({ clientOrderId: `sim-${i}`, ...overrides }));
  }
}

describe("GET_ACCOUNT and GET_SYMBOL_INFO", () => {
  test("account() is the sim's account as the EA reports it", async () => {
    const rig = await startRig({ simOptions: { account: { login: 5012345, leverage: 200 } } });
    expect(await rig.backend.account()).toEqual(await rig.fake.sim.account());
    expect(rig.backend.hello()?.login).toBe(5012345);
  });

  test("symbolInfo() round-trips every field through ints, names and filling flags", async () => {
    const rig = await startRig();
    for (const symbol of ["EURUSD", "USDJPY", "XAUUSD", "US500", "GER40", "BTCUSD"]) {
      const expected = (await rig.fake.sim.symbolInfo(symbol)) as NonNullable<
        Awaited<ReturnType<typeof rig.fake.sim.symbolInfo>>
      >;
      // The EA writes doubles with at most 8 decimals (§4)
      const tickValue = Number(expected.tick_value.toFixed(8));
      // The MQL5 reference allows RETURN for market orders on Market execution (§10.2); the sim
      // follows the terminal help's stricter table, so the link reports one mode more there
      const filling: readonly FillingMode[] =
        expected.execution_mode === "MARKET"
          ? [...expected.filling_modes, "RETURN"]
          : expected.filling_modes;
      expect(await rig.backend.symbolInfo(symbol)).toEqual({
        ...expected,
        tick_value: tickValue,
        filling_modes: filling,
      });
    }
    expect((await rig.backend.symbolInfo("USDJPY"))?.filling_modes).toEqual(["IOC", "RETURN"]);
    expect(await rig.backend.symbolInfo("XAUUSD")).toMatchObject({
      execution_mode: "INSTANT",
      filling_modes: ["FOK"],
      calc_mode: "CFD_LEVERAGE",
    });
  });

  test("an unknown symbol is undefined (UNKNOWN_SYMBOL)", async () => {
    const rig = await startRig();
    expect(await rig.backend.symbolInfo("NOPE")).toBeUndefined();
    expect(sent(rig, "GET_SYMBOL_INFO")[0]?.frame.string("symbol")).toBe("NOPE");
  });
});

describe("GET_POSITIONS and GET_DEALS", () => {
  test("positions() follows `more` across pages and filters by symbol", async () => {
    const rig = await startRig({ fake: { pageSize: 2 } });
    await openInSim(rig, 5);
    await openInSim(rig, 1, { symbol: "GBPUSD", clientOrderId: "gbp" });
    const all = await rig.backend.positions();
    expect(all).toEqual(await rig.fake.sim.positions());
    expect(sent(rig, "GET_POSITIONS").map((c) => c.frame.integer("offset"))).toEqual([0, 2, 4]);
    expect(sent(rig, "GET_POSITIONS")[0]?.frame.integer("limit")).toBe(1000);
    const eurusd = await rig.backend.positions("EURUSD");
    expect(eurusd.map((p) => p.symbol)).toEqual(Array(5).fill("EURUSD"));
  });

  test("a listing that changes between pages is read again from offset 0", async () => {
    const rig = await startRig({ fake: { pageSize: 2 } });
    await openInSim(rig, 3);
    let calls = 0;
    rig.fake.beforeCommand = async (cmd) => {
      if (cmd === "GET_POSITIONS" && ++calls === 2) {
        await rig.fake.sim.open(openOrder({ clientOrderId: "meanwhile" }));
      }
    };
    const positions = await rig.backend.positions();
    expect(positions).toHaveLength(4);
    expect(sent(rig, "GET_POSITIONS").map((c) => c.frame.integer("offset"))).toEqual([0, 2, 0, 2]);
  });

  test("deals() sends server-time bounds and maps times back to Unix ms exactly", async () => {
    const rig = await startRig({ fake: { pageSize: 2, gmtOffsetS: 7200, reportedOffsetS: 7193 } });
    await openInSim(rig, 2, { magic: 1 });
    await openInSim(rig, 2, { magic: 2, symbol: "GBPUSD" });
    const from = rig.clock.now() - 3600_000;
    const to = rig.clock.now() + 3600_000;
    const all = await rig.backend.deals({ from, to });
    expect(all).toEqual(await rig.fake.sim.deals({ from, to }));
    const request = sent(rig, "GET_DEALS")[0]?.frame;
    expect(request?.integer("from")).toBe(from + 7_200_000);
    expect(request?.integer("to")).toBe(to + 7_200_000);
    const magic2 = await rig.backend.deals({ from, to, magic: 2 });
    expect(magic2.map((deal) => deal.magic)).toEqual([2, 2]);
    expect(await rig.backend.deals({ from: to, to: from })).toEqual([]);
  });
});

describe("bad replies", () => {
  test("a malformed reply is an error for the caller and closes the link; the EA comes back", async () => {
    const rig = await startRig();
    rig.fake.faults.push({
      kind: "reply",
      cmd: "GET_ACCOUNT",
      body: { ok: true, balance: "lots" },
    });
    const error = await rig.backend.account().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).code).toBe(FaultCode.BACKEND_UNAVAILABLE);
    expect((error as Error).message).toContain(
      "GET_ACCOUNT reply field login must be a safe integer",
    );
    await eventually(() => rig.backend.link().state === "DOWN");
    expect(rig.backend.link().detail).toContain("protocol violation");
    await reconnected(rig, 1);
    expect((await rig.backend.account()).currency).toBe("USD");
  });

  test("ok:false to a read is a TerminalCommandError with the EA's code; the link stays", async () => {
    const rig = await startRig();
    rig.fake.faults.push({
      kind: "reply",
      cmd: "GET_DEALS",
      body: { ok: false, error: "RUNTIME_4401", error_msg: "history not loaded" },
    });
    const error = await rig.backend.deals({ from: 0, to: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TerminalCommandError);
    expect((error as TerminalCommandError).eaError).toBe("RUNTIME_4401");
    expect(rig.backend.link().state).toBe("UP");
  });

  test("a REPLY whose id is not the one in flight closes the link", async () => {
    const rig = await startRig();
    rig.fake.faults.push({ kind: "wrong_id", cmd: "GET_ACCOUNT", id: 999 });
    await expect(rig.backend.account()).rejects.toThrow("REPLY id=999, in flight id=1");
    expect(rig.backend.link().state).toBe("DOWN");
  });

  test("an oversized frame from the EA closes the link", async () => {
    const rig = await startRig();
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, 1_048_577);
    rig.fake.sendBytes(header);
    await eventually(() => rig.backend.link().state === "DOWN");
    expect(rig.backend.link().detail).toContain("frame length was 1048577 bytes, limit 1048576");
  });
});

describe("FORGET and SUBSCRIBE_TICKS", () => {
  test("forget() removes an id from the EA's dedup store", async () => {
    const rig = await startRig();
    await rig.backend.open(openOrder({ clientOrderId: "to-forget" }));
    expect(rig.fake.dedup.lookup("to-forget")).toBeDefined();
    expect(await rig.backend.forget("to-forget")).toBe(true);
    expect(await rig.backend.forget("to-forget")).toBe(false);
    expect(rig.fake.dedup.lookup("to-forget")).toBeUndefined();
  });

  test("subscribeQuotes() streams QUOTE events in Unix time and is renewed after a reconnect", async () => {
    const rig = await startRig();
    expect(await rig.backend.subscribeQuotes(["EURUSD", "GBPUSD"], 100)).toEqual({
      subscribed: 2,
      throttleMs: 100,
    });
    rig.fakeClock.advance(100);
    await eventually(() => rig.events.filter((e) => e.type === "QUOTE").length === 2);
    const quote = rig.events.find((e) => e.type === "QUOTE" && e.symbol === "EURUSD");
    const info = await rig.fake.sim.symbolInfo("EURUSD");
    expect(quote).toEqual({
      type: "QUOTE",
      symbol: "EURUSD",
      bid: info?.bid as number,
      ask: info?.ask as number,
      time: info?.quote_time as number,
    });
    expect(sent(rig, "SUBSCRIBE_TICKS")[0]?.frame.string("symbols")).toBe("EURUSD,GBPUSD");
    rig.fake.stop();
    rig.fake.start();
    await reconnected(rig, 1);
    await eventually(() => sent(rig, "SUBSCRIBE_TICKS").length === 2);
    await expect(rig.backend.subscribeQuotes(["EUR,USD"], 100)).rejects.toThrow("without commas");
    await expect(rig.backend.subscribeQuotes(["NOPE"], 100)).rejects.toThrow("UNKNOWN_SYMBOL");
  });
});
