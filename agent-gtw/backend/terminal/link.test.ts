/**
 * Heartbeat and link state (docs/EA-LINK.md §7.1, §8): PING every heartbeat, DOWN after three
 * heartbeats without the PING's reply, TRADE_DISABLED from the permission flags, a LINK_STATE
 * event per change, and the broker clock carried into LinkStatus.serverTime.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { eventually } from "../../../scripts/harness/eventually.ts";
import type { LinkStatus } from "../backend.ts";
import { cleanupRigs, HEARTBEAT_MS, type Rig, reconnected, startRig } from "./testing/rig.ts";

afterEach(cleanupRigs);

const links = (rig: Rig): LinkStatus[] =>
  rig.events.flatMap((event) => (event.type === "LINK_STATE" ? [event.link] : []));

const pings = (rig: Rig) => rig.fake.commands.filter((c) => c.cmd === "PING").length;

describe("heartbeat", () => {
  test("a PING goes out every heartbeat while idle, and the link stays UP", async () => {
    const rig = await startRig();
    expect(pings(rig)).toBe(0);
    for (let beat = 1; beat <= 3; beat++) {
      rig.fakeClock.advance(HEARTBEAT_MS);
      rig.clock.advance(HEARTBEAT_MS);
      // The EA's uptime grows with its clock, so each reply is recognisable
      await eventually(() => rig.backend.lastPing()?.uptime_ms === beat * HEARTBEAT_MS);
      expect(pings(rig)).toBe(beat);
    }
    expect(links(rig).map((link) => link.state)).toEqual(["UP"]);
  });

  test("serverTime is the broker clock in Unix ms, carried forward between PINGs", async () => {
    const rig = await startRig({ fake: { gmtOffsetS: 10_800, reportedOffsetS: 10_796 } });
    rig.fakeClock.advance(2000);
    rig.clock.advance(2000);
    const ping = await rig.backend.ping();
    expect(ping.gmt_offset_s).toBe(10_796);
    const first = rig.backend.link().serverTime as number;
    // server_time is whole seconds (TimeTradeServer), so within a second of the true time
    expect(Math.abs(first - rig.clock.now())).toBeLessThan(1000);
    rig.clock.advance(400);
    expect(rig.backend.link().serverTime).toBe(first + 400);
    // The offset bar and tick times are in, rounded as the conversions round it (§5)
    expect(rig.backend.link().serverOffsetMs).toBe(10_800_000);
  });

  test("a silent EA is DOWN three heartbeats after the unanswered PING, with a LINK_STATE event", async () => {
    const rig = await startRig();
    rig.fake.freeze();
    rig.clock.advance(HEARTBEAT_MS);
    // The heartbeat's interval plus the PING's own timeout: a PING is in flight
    await eventually(() => rig.clock.pendingTimers === 2);
    rig.clock.advance(3 * HEARTBEAT_MS - 1);
    expect(rig.backend.link().state).toBe("UP");
    rig.clock.advance(1);
    const down = rig.backend.link();
    expect(down.state).toBe("DOWN");
    expect(down.detail).toContain("EA silent: no PING reply for 3 heartbeats");
    expect(links(rig).at(-1)).toMatchObject({ state: "DOWN" });
    // The frozen terminal comes back: it redials and the link is UP again
    await eventually(() => rig.fake.state === "IDLE");
    const sessions = rig.fake.sessions;
    rig.fake.thaw();
    await reconnected(rig, sessions);
    expect(rig.backend.link().state).toBe("UP");
    expect(links(rig).map((link) => link.state)).toEqual(["UP", "DOWN", "UP"]);
  });
});

describe("permission flags", () => {
  test("a false flag in a PING reply is TRADE_DISABLED naming it; fixing it is UP again", async () => {
    const rig = await startRig();
    rig.fake.setStatus({ ea_trade_allowed: false, account_trade_expert: false });
    rig.clock.advance(HEARTBEAT_MS);
    await eventually(() => rig.backend.link().state === "TRADE_DISABLED");
    expect(rig.backend.link().detail).toBe(
      "ea_trade_allowed is false: the EA's Allow Algo Trading checkbox is off",
    );
    rig.fake.setStatus({ ea_trade_allowed: true });
    rig.clock.advance(HEARTBEAT_MS);
    await eventually(() => rig.backend.link().detail?.startsWith("account_trade_expert") === true);
    rig.fake.setStatus({ account_trade_expert: true });
    rig.clock.advance(HEARTBEAT_MS);
    await eventually(() => rig.backend.link().state === "UP");
    expect(links(rig).map((link) => [link.state, link.detail?.split(" ")[0]])).toEqual([
      ["UP", undefined],
      ["TRADE_DISABLED", "ea_trade_allowed"],
      ["TRADE_DISABLED", "account_trade_expert"],
      ["UP", undefined],
    ]);
  });

  test("the flags in HELLO decide the state before the first PING", async () => {
    const rig = await startRig({ fake: { status: { terminal_trade_allowed: false } } });
    expect(rig.backend.link()).toMatchObject({
      state: "TRADE_DISABLED",
      detail: "terminal_trade_allowed is false: the toolbar Algo Trading button is off",
    });
    expect(pings(rig)).toBe(0);
  });

  test("a terminal that loses its trade server keeps the link and reports TRADE_DISABLED", async () => {
    const rig = await startRig();
    rig.fake.setStatus({ terminal_connected: false });
    rig.clock.advance(HEARTBEAT_MS);
    await eventually(() => rig.backend.link().state === "TRADE_DISABLED");
    expect(rig.backend.link().detail).toStartWith("terminal_connected is false");
    expect(rig.fake.drops).toEqual([]);
  });

  test("the fake EA drops a gateway that stops pinging (its own 3-heartbeat rule)", async () => {
    const rig = await startRig();
    expect(rig.fake.heartbeatMs).toBe(HEARTBEAT_MS);
    rig.fakeClock.advance(3 * HEARTBEAT_MS);
    await eventually(() => rig.backend.link().state === "DOWN");
    expect(rig.fake.drops).toEqual(["gateway silent for 3 heartbeats"]);
  });
});
