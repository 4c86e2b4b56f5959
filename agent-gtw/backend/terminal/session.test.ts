/**
 * The EA session over real loopback TCP (docs/EA-LINK.md §1, §6): replacement by a second EA,
 * what happens to a first frame that is not AUTH, the listener's address, and a clean stop.
 * The handshake itself: link-auth.test.ts; hostile pre-HELLO peers: link-slots.test.ts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { eventually } from "../../../scripts/harness/eventually.ts";
import { FaultCode } from "../../../shared/errors.ts";
import { RawClient } from "../../../shared/testing/raw-tcp.ts";
import { BackendError } from "../backend.ts";
import { encodeOutbound, frame } from "./framing.ts";
import { TerminalBackend } from "./terminal-backend.ts";
import { cleanupRigs, connected, onCleanup, SECRET, startFake, startRig } from "./testing/rig.ts";

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

  test("a first frame that is not AUTH gets a refusal and a close", async () => {
    const rig = await startRig({ connect: false });
    const client = await raw(rig.port);
    client.write(encodeOutbound({ type: "CMD", id: 1, cmd: "PING" }));
    expect(await client.waitClosed(5000)).toBe(true);
    expect(helloAck(client)).toEqual({ type: "HELLO_ACK", ok: false, reason: "PROTO_UNSUPPORTED" });
    const other = await raw(rig.port);
    other.write(encodeOutbound({ type: "CMD", proto: 2, id: 1, cmd: "PING" }));
    expect(await other.waitClosed(5000)).toBe(true);
    expect(helloAck(other)).toEqual({ type: "HELLO_ACK", ok: false, reason: "BAD_AUTH" });
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
      secret: SECRET,
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
