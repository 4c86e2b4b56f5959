/**
 * The gateway's stream on the terminal backend: a StreamHub over a real TerminalBackend and the
 * fake EA (loopback TCP). Subscribing to a symbol asks the EA for its ticks (SUBSCRIBE_TICKS),
 * the EA's QUOTE, DEAL and POSITION_CLOSED events reach the subscriber, and the link going down
 * reaches it as LINK_STATE.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  cleanupRigs,
  onCleanup,
  openOrder,
  startRig,
} from "../../agent-gtw/backend/terminal/testing/rig.ts";
import { StreamHub } from "../../agent-gtw/streaming/stream-hub.ts";
import { FakeRouter } from "../../agent-gtw/streaming/testing/fake-router.ts";
import { eventually } from "../../scripts/harness/eventually.ts";
import { silentLogger } from "../../shared/log.ts";

afterEach(cleanupRigs);

async function setup() {
  const rig = await startRig();
  const router = new FakeRouter();
  const hub = new StreamHub({ backend: rig.backend, clock: rig.clock, logger: silentLogger });
  hub.attach(router);
  hub.start();
  onCleanup(() => hub.stop());
  let n = 0;
  const subscribe = (body: Record<string, unknown>, name = "a") =>
    hub.handle(
      { v: 1, id: `s${++n}`, ts: rig.clock.now(), action: "SUBSCRIBE", ...body } as never,
      router.peers.has(name)
        ? {
            routingId: new TextEncoder().encode(name),
            peer: router.peers.get(name)?.peer as object,
          }
        : router.connect(name),
      "inf-1",
    );
  return { rig, router, hub, subscribe };
}

describe("stream on the terminal backend", () => {
  test("subscribing asks the EA for ticks; its quotes reach the subscriber", async () => {
    const { rig, router, subscribe } = await setup();
    expect((await subscribe({ symbols: ["EURUSD"], throttle_ms: 50 })).status).toBe("OK");
    await eventually(() => rig.fake.commands.some((command) => command.cmd === "SUBSCRIBE_TICKS"), {
      message: "SUBSCRIBE_TICKS sent to the EA",
    });
    const request = rig.fake.commands.find((command) => command.cmd === "SUBSCRIBE_TICKS");
    await rig.fake.sim.setQuote("EURUSD", 1.2345, 1.2347);
    await eventually(
      () => {
        // The EA scans on its clock; the hub's throttle window runs on the gateway's
        rig.fakeClock.advance(50);
        rig.clock.advance(50);
        return router.events("a").some((event) => event.event === "QUOTE" && event.bid === 1.2345);
      },
      { message: "the EA's quote", intervalMs: 5 },
    );

    expect([request?.frame.string("symbols"), request?.frame.number("throttle_ms")]).toEqual([
      "EURUSD",
      50,
    ]);
    const quote = router
      .events("a")
      .find((event) => event.event === "QUOTE" && event.bid === 1.2345);
    expect(quote).toMatchObject({ symbol: "EURUSD", ask: 1.2347 });
  });

  test("an SL hit at the broker reaches the subscriber as DEAL then POSITION_CLOSED (SL)", async () => {
    const { rig, router, subscribe } = await setup();
    await subscribe({ events: true });
    const bid = (await rig.fake.sim.symbolInfo("EURUSD"))?.bid as number;
    const sl = Math.round((bid - 0.002) * 1e5) / 1e5;
    const { position } = await rig.backend.open(openOrder({ sl }));
    await rig.fake.sim.setQuote("EURUSD", sl - 0.0001);
    await eventually(() => router.events("a").some((event) => event.event === "POSITION_CLOSED"));

    const events = router.events("a").filter((event) => event.event !== "LINK_STATE");
    expect(events.map((event) => event.event)).toEqual(["DEAL", "DEAL", "POSITION_CLOSED"]);
    expect(events[2]).toMatchObject({ ticket: position, reason: "SL", deal: { reason: "SL" } });
    expect(events.map((event) => event.seq)).toEqual(
      events.map((_, index) => (events[0]?.seq ?? 1) + index),
    );
  });

  test("the EA link going down reaches every subscriber as LINK_STATE", async () => {
    const { rig, router, subscribe } = await setup();
    await subscribe({ symbols: ["EURUSD"] });
    await rig.fake.dispose();
    await eventually(() =>
      router.events("a").some((event) => event.event === "LINK_STATE" && event.mt5.link === "DOWN"),
    );

    const down = router.events("a").find((event) => event.event === "LINK_STATE");
    expect(down).toMatchObject({ mt5: { link: "DOWN", backend: "terminal" } });
  });
});
