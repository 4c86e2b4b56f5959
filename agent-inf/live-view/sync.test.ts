/**
 * The lane's stream sync against a scripted gateway client: the SUBSCRIBE/RESYNC sequence after
 * a connect, events held during a RESYNC and merged with its answer, gap detection, the
 * gateway's RESYNC_REQUIRED, and the quote symbols strategies ask for.
 */
import { describe, expect, test } from "bun:test";
import { deal, position, setup } from "./testing/stream-rig.ts";

describe("LaneStream", () => {
  test("after a connect: SUBSCRIBE events, each symbol, RESYNC from the subscription's start", async () => {
    const { client, view, stream, settle, kinds } = setup();
    client.positions = [position(5)];
    client.up();
    await settle();

    expect(client.asked.map((body) => [body.action, body["symbols"], body["since"]])).toEqual([
      ["SUBSCRIBE", undefined, undefined],
      ["SUBSCRIBE", ["EURUSD"], undefined],
      ["RESYNC", undefined, 1000],
    ]);
    expect(stream.state).toBe("LIVE");
    expect(view.positions()?.map((p) => p.ticket)).toEqual([5]);
    expect(kinds()).toEqual(["STREAM_STATE", "POSITION_MODIFIED", "STREAM_STATE"]);
  });

  test("events during a RESYNC are held and merged: each fill once, in deal-time order", async () => {
    const { client, stream, settle, kinds, dealsTold } = setup();
    let open: () => void = () => {};
    client.gate = new Promise((resolve) => (open = resolve));
    client.deals = [deal(2, 1500), deal(1, 1200)];
    client.up();
    await settle();
    // Arrive while the RESYNC is out: deal 2 (also in the answer) closing position 2, deal 3
    client.push({ v: 1, event: "DEAL", seq: 1, deal: deal(2, 1500) });
    client.push({
      v: 1,
      event: "POSITION_CLOSED",
      seq: 2,
      ticket: 2,
      symbol: "EURUSD",
      reason: "SL",
      deal: deal(2, 1500, { entry: "OUT", reason: "SL" }),
    });
    client.push({ v: 1, event: "DEAL", seq: 3, deal: deal(3, 1700) });
    expect(dealsTold()).toEqual([]);
    open();
    await settle();

    expect(dealsTold()).toEqual([1, 2, 3]);
    expect(kinds().filter((kind) => kind === "POSITION_CLOSED")).toHaveLength(1);
    expect(stream.state).toBe("LIVE");
    // Deal 3 came during the RESYNC: one more, after which positions are in sync
    expect(client.asked.filter((body) => body.action === "RESYNC")).toHaveLength(2);
    expect(client.asked.at(-1)?.["since"]).toBe(1700);
  });

  test("a gap in seq triggers a RESYNC from the last deal told", async () => {
    const { client, stream, settle, dealsTold } = setup();
    client.up();
    await settle();
    client.push({ v: 1, event: "DEAL", seq: 1, deal: deal(1, 1100) });
    await settle();
    client.deals = [deal(1, 1100), deal(2, 1200), deal(3, 1300)];
    client.push({ v: 1, event: "DEAL", seq: 3, deal: deal(3, 1300) });
    await settle();

    expect(stream.health().gaps).toBe(1);
    expect(dealsTold()).toEqual([1, 2, 3]);
    expect(stream.state).toBe("LIVE");
  });

  test("RESYNC_REQUIRED from the gateway: subscribe again, seq from 1", async () => {
    const { client, stream, settle } = setup();
    client.up();
    await settle();
    client.push({ v: 1, event: "QUOTE", seq: 1, symbol: "EURUSD", bid: 1, ask: 1.1, time: 1 });
    client.push({ v: 1, event: "RESYNC_REQUIRED", seq: 2, reason: "too slow" });
    await settle();
    client.push({ v: 1, event: "QUOTE", seq: 1, symbol: "EURUSD", bid: 2, ask: 2.1, time: 2 });

    expect(
      client.asked.filter((body) => body.action === "SUBSCRIBE" && body["events"]),
    ).toHaveLength(2);
    expect(stream.health().gaps).toBe(0);
    expect(stream.state).toBe("LIVE");
  });

  test("a fill while LIVE is told at once and positions wait for the RESYNC after it", async () => {
    const { client, view, settle, dealsTold } = setup();
    client.up();
    await settle();
    let open: () => void = () => {};
    client.gate = new Promise((resolve) => (open = resolve));
    client.positions = [position(9, { sl: 1.05 })];
    client.push({ v: 1, event: "DEAL", seq: 1, deal: deal(9, 1100) });

    expect(dealsTold()).toEqual([9]);
    expect(view.positions()).toBeUndefined();
    open();
    await settle();
    expect(view.positions()).toEqual([position(9, { sl: 1.05 })]);
  });

  test("strategies' symbols: an unknown one is refused, the last release unsubscribes", async () => {
    const { client, stream, settle } = setup();
    client.unknown.add("NOPE");
    client.up();
    await settle();
    const refused = await stream.acquire(["GBPUSD", "NOPE"]);
    await stream.acquire(["GBPUSD"]);
    stream.release(["GBPUSD"]);
    await settle();
    const beforeLast = client.asked.filter((body) => body.action === "UNSUBSCRIBE").length;
    stream.release(["GBPUSD"]);
    await settle();

    expect(refused).toEqual([{ symbol: "NOPE", code: "UNKNOWN_SYMBOL" }]);
    expect(beforeLast).toBe(0);
    expect(client.asked.at(-1)).toEqual({ action: "UNSUBSCRIBE", symbols: ["GBPUSD"] });
    expect(stream.health().symbols).toEqual(["EURUSD"]);
  });

  test("a gateway from before streaming (UNKNOWN_ACTION): no retry loop, orders use queries", async () => {
    const { client, view, stream, settle } = setup();
    client.query = async (body) => {
      client.asked.push(body);
      return { v: 1, id: "x", status: "ERROR", error_code: "UNKNOWN_ACTION", error_msg: "no" };
    };
    client.up();
    await settle();

    expect(client.asked).toHaveLength(1);
    expect(stream.state).toBe("DISCONNECTED");
    expect(view.positions()).toBeUndefined();
  });

  test("a disconnect is told, and the view stops claiming positions are in sync", async () => {
    const { client, view, stream, settle, kinds } = setup();
    client.up();
    await settle();
    client.down();

    expect(stream.state).toBe("DISCONNECTED");
    expect(view.positions()).toBeUndefined();
    expect(kinds().at(-1)).toBe("STREAM_STATE");
  });
});
