/**
 * EVENT frames → BackendEvents (docs/EA-LINK.md §12, §14): DEAL for every trade deal,
 * POSITION_CLOSED paired with its closing DEAL (SL/TP hits included), POSITION_MODIFIED for a
 * MODIFY but not for a partial close, unknown events ignored, malformed ones closing the link.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { eventually } from "../../../scripts/harness/eventually.ts";
import type { BackendEvent } from "../backend.ts";
import { cleanupRigs, openOrder, type Rig, startRig } from "./testing/rig.ts";

afterEach(cleanupRigs);

const trade = (rig: Rig): BackendEvent[] =>
  rig.events.filter((e) => e.type !== "LINK_STATE" && e.type !== "QUOTE");

describe("trade events", () => {
  test("an SL hit at the broker arrives as DEAL (reason SL) then POSITION_CLOSED with that deal", async () => {
    const rig = await startRig();
    const bid = (await rig.fake.sim.symbolInfo("EURUSD"))?.bid as number;
    const sl = Math.round((bid - 0.002) * 1e5) / 1e5;
    const { position } = await rig.backend.open(openOrder({ sl }));
    await eventually(() => trade(rig).length === 1);
    expect(trade(rig)[0]).toMatchObject({ type: "DEAL", deal: { entry: "IN", position } });

    await rig.fake.sim.setQuote("EURUSD", sl - 0.0001);
    await eventually(() => trade(rig).length === 3);
    const [, deal, closed] = trade(rig);
    const simDeals = await rig.fake.sim.deals({ from: 0, to: Number.MAX_SAFE_INTEGER });
    expect(deal).toEqual({ type: "DEAL", deal: simDeals[1] as NonNullable<(typeof simDeals)[1]> });
    expect(deal).toMatchObject({ deal: { reason: "SL", entry: "OUT", position } });
    expect(closed).toEqual({
      type: "POSITION_CLOSED",
      ticket: position,
      symbol: "EURUSD",
      reason: "SL",
      deal: simDeals[1] as NonNullable<(typeof simDeals)[1]>,
    });
  });

  test("a TP hit reports reason TP", async () => {
    const rig = await startRig();
    const ask = (await rig.fake.sim.symbolInfo("EURUSD"))?.ask as number;
    const tp = Math.round((ask - 0.002) * 1e5) / 1e5;
    await rig.backend.open(openOrder({ side: "SELL", tp }));
    await rig.fake.sim.setQuote("EURUSD", tp - 0.0005);
    await eventually(() => trade(rig).some((e) => e.type === "POSITION_CLOSED"));
    expect(trade(rig).at(-1)).toMatchObject({ type: "POSITION_CLOSED", reason: "TP" });
  });

  test("MODIFY gives POSITION_MODIFIED; a partial close gives only its DEAL", async () => {
    const rig = await startRig();
    const { position } = await rig.backend.open(openOrder());
    const bid = (await rig.fake.sim.symbolInfo("EURUSD"))?.bid as number;
    const sl = Math.round((bid - 0.003) * 1e5) / 1e5;
    await rig.backend.modify({ clientOrderId: "m", ticket: position, sl, tp: null });
    await eventually(() => trade(rig).length === 2);
    expect(trade(rig)[1]).toMatchObject({
      type: "POSITION_MODIFIED",
      position: { ticket: position, sl, tp: null },
    });
    await rig.backend.close({
      clientOrderId: "part",
      ticket: position,
      volume: 0.05,
      deviation: 10,
      magic: 4242,
      comment: "",
    });
    await eventually(() => trade(rig).length === 3);
    // Let a stray POSITION_MODIFIED or POSITION_CLOSED show up if the mapping produced one
    await rig.backend.ping();
    expect(trade(rig).slice(2)).toMatchObject([
      { type: "DEAL", deal: { entry: "OUT", volume: 0.05 } },
    ]);
  });
});

describe("untrusted events", () => {
  test("unknown events and partial POSITION_MODIFIED are ignored; the link stays", async () => {
    const rig = await startRig();
    rig.fake.sendEvent("NEWS", { headline: "x" });
    rig.fake.sendEvent("POSITION_MODIFIED", {
      ticket: 0,
      symbol: "EURUSD",
      sl: 0,
      tp: 0,
      volume: 0,
      partial: true,
    });
    await rig.backend.ping();
    expect(trade(rig)).toEqual([]);
    expect(rig.backend.link().state).toBe("UP");
  });

  test("a POSITION_CLOSED without its DEAL is logged, not emitted", async () => {
    const rig = await startRig();
    rig.fake.sendEvent("POSITION_CLOSED", {
      ticket: 5,
      symbol: "EURUSD",
      reason: "SL",
      deal: 77,
      price: 1,
      volume: 1,
      profit: 0,
      time: 1,
    });
    await rig.backend.ping();
    expect(trade(rig)).toEqual([]);
    expect(rig.logs.some((l) => l.message.startsWith("POSITION_CLOSED without its DEAL"))).toBe(
      true,
    );
  });

  test("a malformed DEAL event closes the link", async () => {
    const rig = await startRig();
    rig.fake.sendEvent("DEAL", { ticket: "one" });
    await eventually(() => rig.backend.link().state === "DOWN");
    expect(rig.backend.link().detail).toContain("DEAL event field");
  });
});
