/**
 * The EA session over real loopback TCP (docs/EA-LINK.md §1, §6): token refusal, replacement by
 * a second EA, what happens before HELLO, the listener's address, and a clean stop.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { eventually } from "../../../scripts/harness/eventually.ts";
import { FaultCode } from "../../../shared/errors.ts";
import { RawClient } from "../../../shared/testing/raw-tcp.ts";
import { BackendError } from "../backend.ts";
import { encodeOutbound, frame } from "./framing.ts";
import { TerminalBackend } from "./terminal-backend.ts";
import { cleanupRigs, connected, onCleanup, startFake, startRig, TOKEN } from "./testing/rig.ts";

afterEach(cleanupRigs);

async function raw(port: number): Promise<RawClient> {
  const client = await RawClient.connect(port);
  onCleanup(() => client.destroy());
  return client;
}

function helloAck(client: RawClient): Record<string, unknown> | undefined {
  const bytes = client.bytes;
  if (bytes.length < 4) return undefined;
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0);
  if (bytes.length < 4 + length) return undefined;
  return JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
}

describe("HELLO", () => {
  test("a wrong token is refused with BAD_TOKEN and logged with the address, never the token", async () => {
    const rig = await startRig({ connect: false, fake: { token: "not-the-token-0000000" } });
    rig.fake.start();
    await eventually(() => rig.fake.refusals.includes("BAD_TOKEN"));
    expect(rig.backend.hello()).toBeUndefined();
    expect(rig.backend.link()).toMatchObject({ state: "DOWN" });
    const refused = rig.logs.find((line) => line.message === "EA HELLO refused");
    expect(refused?.level).toBe("warn");
    expect(String(refused?.fields?.["address"])).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(refused?.fields?.["reason"]).toBe("BAD_TOKEN");
    const everything = JSON.stringify(rig.logs);
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain("not-the-token");
    // The EA backs off 5 s after a refusal (§2) rather than hammering
    expect(rig.fake.state).toBe("IDLE");
    expect(rig.fake.commands).toEqual([]);
  });

  test("a second EA with a valid HELLO replaces the first without the link going DOWN", async () => {
    const rig = await startRig({ fake: { reconnect: false } });
    const second = await startFake(rig.port, rig.fakeClock, {
      fake: { login: 777 },
      simOptions: { account: { login: 777 } },
    });
    second.start();
    await eventually(() => rig.backend.hello()?.login === 777);
    await connected(rig, second);
    await eventually(() => rig.fake.state === "IDLE");
    expect(rig.fake.drops).toEqual(["closed by the gateway"]);
    expect((await rig.backend.account()).login).toBe(777);
    expect(second.commands.map((c) => c.cmd)).toEqual(["GET_ACCOUNT"]);
    const states = rig.events.flatMap((e) => (e.type === "LINK_STATE" ? [e.link.state] : []));
    expect(states).toEqual(["UP"]);
    expect(rig.logs.some((l) => l.message === "A new EA connection replaces the current one")).toBe(
      true,
    );
  });

  test("a first frame that is not a HELLO gets BAD_HELLO and a close", async () => {
    const rig = await startRig({ connect: false });
    const client = await raw(rig.port);
    client.write(encodeOutbound({ type: "CMD", id: 1, cmd: "PING" }));
    expect(await client.waitClosed(5000)).toBe(true);
    expect(helloAck(client)).toEqual({ type: "HELLO_ACK", ok: false, reason: "BAD_HELLO" });
  });

  test("garbage or an oversized frame before HELLO closes the connection at once", async () => {
    const rig = await startRig({ connect: false });
    const garbage = await raw(rig.port);
    garbage.write(frame(new TextEncoder().encode("{not json")));
    expect(await garbage.waitClosed(5000)).toBe(true);
    const oversized = await raw(rig.port);
    // 20,000 bytes announced: over the 16 KiB allowed before HELLO, refused on the header alone
    oversized.write(new Uint8Array([0, 0, 0x4e, 0x20]));
    expect(await oversized.waitClosed(5000)).toBe(true);
    expect(oversized.bytes.length).toBe(0);
  });

  test("a connection without HELLO is closed after 5 s on the backend's clock", async () => {
    const rig = await startRig({ connect: false });
    const client = await raw(rig.port);
    await eventually(() => rig.clock.pendingTimers > 0);
    rig.clock.advance(4999);
    expect(await client.waitClosed(50)).toBe(false);
    rig.clock.advance(1);
    expect(await client.waitClosed(5000)).toBe(true);
    expect(rig.logs.some((l) => l.message === "EA connection closed: no HELLO in time")).toBe(true);
  });

  test("at most four connections may wait for their HELLO", async () => {
    const rig = await startRig({ connect: false });
    const waiting = [];
    for (let i = 0; i < 4; i++) waiting.push(await raw(rig.port));
    await eventually(() => rig.clock.pendingTimers === 4);
    const fifth = await raw(rig.port);
    expect(await fifth.waitClosed(5000)).toBe(true);
    for (const client of waiting) expect(client.closed).toBe(false);
  });
});

describe("listener", () => {
  test("listens on 127.0.0.1 only", async () => {
    const rig = await startRig({ connect: false });
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((address) => address !== undefined && address.family === "IPv4" && !address.internal)
      .map((address) => address?.address as string);
    for (const host of external) {
      await expect(RawClient.connect(rig.port, host)).rejects.toThrow();
    }
    const local = await raw(rig.port);
    expect(local.closed).toBe(false);
  });

  test("a port in use fails start with the address in the message", async () => {
    const rig = await startRig({ connect: false });
    const other = new TerminalBackend({
      port: rig.port,
      token: TOKEN,
      heartbeatMs: 1000,
      commandTimeoutMs: 1000,
    });
    await expect(other.start()).rejects.toThrow(`could not listen on 127.0.0.1:${rig.port}`);
  });
});

describe("stop", () => {
  test("fails the command in flight and the waiting ones, and leaves no timers", async () => {
    const rig = await startRig();
    rig.fake.faults.push({ kind: "delay", cmd: "GET_ACCOUNT", ms: 60_000 });
    const inFlight = rig.backend.account().catch((error: unknown) => error);
    const waiting = rig.backend.positions().catch((error: unknown) => error);
    await eventually(() => rig.fake.commands.some((c) => c.cmd === "GET_ACCOUNT"));
    await rig.backend.stop();
    await rig.backend.stop();
    for (const error of [await inFlight, await waiting]) {
      expect(error).toBeInstanceOf(BackendError);
      expect((error as BackendError).code).toBe(FaultCode.BACKEND_UNAVAILABLE);
    }
    expect(rig.clock.pendingTimers).toBe(0);
    expect(rig.backend.link()).toMatchObject({ state: "DOWN" });
    await expect(rig.backend.account()).rejects.toThrow("EA not connected");
  });
});
