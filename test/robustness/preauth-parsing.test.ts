/**
 * Pre-authentication parsing (research §7.4, CVE-2019-13132: libzmq copied an attacker-sized
 * INITIATE into a fixed stack buffer before authenticating). An INITIATE built by hand from
 * the box primitives reaches our CURVE ROUTER with hostile metadata: 1 MB of it, lengths that
 * overrun, 100k tiny properties, or a vouch naming another server. Each must end in a silent
 * close (no ERROR, no READY) in bounded time, without allocating what the peer announced.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import { dealerMetadata, HandCurveClient } from "../../scripts/harness/hand-curve.ts";
import { commandFrame, RawZmtp } from "../../scripts/harness/raw-zmtp.ts";
import type { RouterSocket, SocketEvent } from "../../shared/net/index.ts";
import { encodeGreeting } from "../../shared/zmtp/greeting.ts";
import {
  Cleanup,
  type CurveKeys,
  curveKeys,
  curveServer,
  EventLog,
  newRouter,
  portOf,
} from "../interop/support.ts";
import { closedWithoutAllocating } from "./allocation-probe.ts";

const cleanup = new Cleanup();
let serverKeys: CurveKeys;
let clientKeys: CurveKeys;
let router: RouterSocket;
let log: EventLog;
let port: number;

beforeEach(async () => {
  serverKeys = curveKeys();
  clientKeys = curveKeys();
  router = newRouter(cleanup, { security: curveServer(serverKeys, [clientKeys]) });
  log = new EventLog(router);
  port = portOf(await router.bind("tcp://127.0.0.1:0"));
});
afterEach(() => cleanup.run());

/** Greeting, HELLO and WELCOME by hand; returns the connection ready for an INITIATE. */
async function upToInitiate(): Promise<{ raw: RawZmtp; client: HandCurveClient }> {
  const raw = cleanup.add(await RawZmtp.connect(port));
  const client = new HandCurveClient(clientKeys, serverKeys.publicKey);
  raw.write(encodeGreeting("CURVE", false));
  await raw.greeting();
  raw.write(commandFrame(client.hello()));
  client.welcome((await raw.frame()).body);
  return { raw, client };
}

/** One property: name-length, name, value-length (u32 BE, as given), value. */
function property(name: string, valueLength: number, value: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const out = new Uint8Array(1 + nameBytes.length + 4 + value.length);
  out[0] = nameBytes.length;
  out.set(nameBytes, 1);
  new DataView(out.buffer).setUint32(1 + nameBytes.length, valueLength);
  out.set(value, 1 + nameBytes.length + 4);
  return out;
}

/** `count` properties with a 1-byte name and an empty value (6 bytes each). */
function tinyProperties(count: number): Uint8Array {
  const out = new Uint8Array(count * 6);
  for (let i = 0; i < count; i++) {
    out[i * 6] = 1;
    out[i * 6 + 1] = 0x61 + (i % 26);
  }
  return out;
}

type FailureCode = Extract<SocketEvent, { type: "handshake_failed" }>["code"];

async function expectSilentClose(raw: RawZmtp, code: FailureCode): Promise<void> {
  expect(await raw.waitClosed(2000)).toBe(true);
  // WELCOME was the only frame: no READY, and no ERROR either (research §4.4)
  expect(raw.frames).toHaveLength(1);
  const failure = await eventually(() => log.of("handshake_failed")[0]);
  expect(failure.code).toBe(code);
  expect(log.count("handshake_succeeded")).toBe(0);
  expect(log.count("refused_key")).toBe(0);
  expect(router.connectedPeers).toBe(0);
}

describe("hostile INITIATE metadata before authentication", () => {
  test("a well-formed hand-built INITIATE gets READY (the tool itself is sound)", async () => {
    const { raw, client } = await upToInitiate();
    raw.write(commandFrame(client.initiate(dealerMetadata())));
    const ready = await raw.frame();
    expect(new TextDecoder().decode(ready.body.subarray(1, 6))).toBe("READY");
    await eventually(() => router.connectedPeers === 1);
  });

  test("1 MB of metadata is refused by the handshake frame cap, without allocating it", async () => {
    const { raw, client } = await upToInitiate();
    const huge = property("X-Padding", 1024 * 1024, new Uint8Array(1024 * 1024));
    const initiate = commandFrame(client.initiate(dealerMetadata(huge)));
    const started = performance.now();

    expect(await closedWithoutAllocating(raw, initiate)).toEqual([]);
    expect(performance.now() - started).toBeLessThan(2000);
    await expectSilentClose(raw, "PROTOCOL");
    expect(log.of("handshake_failed")[0]?.message).toMatch(/frame size/);
  });

  test("100,000 tiny properties (600 kB) are refused by the frame cap", async () => {
    const { raw, client } = await upToInitiate();
    const initiate = commandFrame(client.initiate(dealerMetadata(tinyProperties(100_000))));
    expect(await closedWithoutAllocating(raw, initiate)).toEqual([]);
    await expectSilentClose(raw, "PROTOCOL");
  });

  test("10,000 tiny properties under the cap are refused quickly by the property limit", async () => {
    const { raw, client } = await upToInitiate();
    const started = performance.now();
    raw.write(commandFrame(client.initiate(dealerMetadata(tinyProperties(10_000)))));
    await expectSilentClose(raw, "INVALID_METADATA");
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test.each([
    ["a value length of 2^32 - 1", property("X-Long", 0xffff_ffff, new Uint8Array(4))],
    ["a value length one past the end", property("X-Long", 5, new Uint8Array(4))],
    ["a name length past the end", Uint8Array.from([200, 0x61, 0x62])],
    ["a trailing single byte", Uint8Array.from([7])],
  ])("metadata with %s is a silent close", async (_, extra) => {
    const { raw, client } = await upToInitiate();
    raw.write(commandFrame(client.initiate(dealerMetadata(extra))));
    await expectSilentClose(raw, "INVALID_METADATA");
  });

  test("a vouch naming another server key is refused (RFC 26 §2.8; libzmq does not check)", async () => {
    const { raw, client } = await upToInitiate();
    const otherServer = curveKeys().publicKey;
    raw.write(commandFrame(client.initiate(dealerMetadata(), { vouchServerKey: otherServer })));
    await expectSilentClose(raw, "CRYPTOGRAPHIC");
  });
});
