/**
 * The account behind the link (docs/EA-LINK.md §6.1, §6.2): the EA dials only once the terminal
 * is logged in and connected (before that, ACCOUNT_LOGIN is 0 and ACCOUNT_TRADE_MODE reads as
 * DEMO), a HELLO with login 0 is refused anyway, and a change of account while the link is up
 * makes the EA redial with a fresh HELLO, which the gateway then keeps.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { eventually } from "../../../scripts/harness/eventually.ts";
import { RawClient } from "../../../shared/testing/raw-tcp.ts";
import { encodeOutbound } from "./framing.ts";
import { eaProof } from "./link-auth.ts";
import {
  cleanupRigs,
  connected,
  framesIn,
  onCleanup,
  reconnected,
  SECRET,
  startRig,
} from "./testing/rig.ts";

afterEach(cleanupRigs);

describe("dialing", () => {
  test("a terminal that is not logged in does not dial; logging in starts the link", async () => {
    const rig = await startRig({ connect: false, fake: { login: 0 } });
    rig.fake.start();
    await Bun.sleep(50);
    expect(rig.fake.state).toBe("IDLE");
    expect(rig.fake.sentTypes).toEqual([]);
    expect(rig.fake.log).toEqual([
      "waiting for the terminal to log in to a trade account and connect to its server (login 0, connected yes) before dialing the gateway",
    ]);
    rig.fake.setAccount({ login: 5_000_001 });
    await connected(rig);
    expect(rig.backend.hello()?.login).toBe(5_000_001);
  });

  test("a terminal not connected to its trade server does not dial until it is", async () => {
    const rig = await startRig({ connect: false, fake: { status: { terminal_connected: false } } });
    rig.fake.start();
    await Bun.sleep(50);
    expect(rig.fake.sentTypes).toEqual([]);
    rig.fake.setStatus({ terminal_connected: true });
    await connected(rig);
  });

  test("a HELLO with login 0 is refused even with a valid proof (NOT_LOGGED_IN)", async () => {
    const rig = await startRig({ connect: false });
    const client = await RawClient.connect(rig.port);
    onCleanup(() => client.destroy());
    const eaNonce = "d".repeat(64);
    client.write(encodeOutbound({ type: "AUTH", proto: 2, ea_nonce: eaNonce }));
    await eventually(() => framesIn(client.bytes).length === 1);
    const gwNonce = String(framesIn(client.bytes)[0]?.["gw_nonce"]);
    client.write(
      encodeOutbound({
        type: "HELLO",
        proto: 2,
        ea_proof: eaProof(SECRET, eaNonce, gwNonce),
        login: 0,
        server: "",
        company: "",
        currency: "",
        account_trade_mode: "DEMO",
        margin_mode: "HEDGING",
        terminal_build: 4755,
        ea_version: "2.0.0",
        magic: 1,
        max_lots: 1,
        deviation: 10,
        chart_symbol: "EURUSD",
        dedup_entries: 0,
        terminal_connected: false,
        terminal_trade_allowed: true,
        ea_trade_allowed: true,
        account_trade_allowed: false,
        account_trade_expert: true,
        server_time: 0,
        gmt_offset_s: 0,
      }),
    );
    expect(await client.waitClosed(5000)).toBe(true);
    expect(framesIn(client.bytes)[1]).toEqual({
      type: "HELLO_ACK",
      ok: false,
      reason: "NOT_LOGGED_IN",
    });
    expect(rig.backend.hello()).toBeUndefined();
  });
});

describe("a change of account while the link is up", () => {
  test("the EA redials and the gateway keeps the new HELLO, trade mode included", async () => {
    const rig = await startRig();
    expect(rig.backend.hello()).toMatchObject({ account_trade_mode: "DEMO" });
    const sessions = rig.fake.sessions;
    rig.fake.setAccount({ login: 7_777_777, accountTradeMode: "REAL" });
    await reconnected(rig, sessions);
    expect(rig.fake.drops.at(-1)).toStartWith("account changed from ");
    expect(rig.fake.drops.at(-1)).toContain("to 7777777@");
    expect(rig.backend.hello()).toMatchObject({ login: 7_777_777, account_trade_mode: "REAL" });
    expect((await rig.backend.accountDetails()).account_trade_mode).toBe("REAL");
  });

  test("logging out drops the link; it comes back only once logged in again", async () => {
    const rig = await startRig();
    const sessions = rig.fake.sessions;
    rig.fake.setAccount({ login: 0 });
    await eventually(() => rig.backend.link().state === "DOWN");
    rig.fakeClock.advance(1000);
    await Bun.sleep(30);
    expect(rig.fake.state).toBe("IDLE");
    rig.fake.setAccount({ login: 5_000_001 });
    await reconnected(rig, sessions);
    expect(rig.backend.hello()?.login).toBe(5_000_001);
  });
});
