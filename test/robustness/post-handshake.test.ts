/**
 * An authenticated peer that misbehaves, over real TCP against our CURVE ROUTER (research §7.4:
 * nonce replay CVE-2014-7203, reflection, ERROR handling; §4.4: after the handshake a bad
 * MESSAGE is a close, never an ERROR). The codec unit tests prove the rules on bytes; these prove
 * the socket closes the connection, delivers nothing twice and keeps serving other peers.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { eventually } from "../../scripts/harness/eventually.ts";
import { curveHandshake, RawZmtp } from "../../scripts/harness/raw-zmtp.ts";
import { CurveClient } from "../../shared/curve/curve-client.ts";
import type { RouterMessage, RouterSocket } from "../../shared/net/index.ts";
import { encodeError } from "../../shared/zmtp/command.ts";
import { encodeFrame } from "../../shared/zmtp/frame.ts";
import {
  Cleanup,
  type CurveKeys,
  curveKeys,
  curveServer,
  decode,
  EventLog,
  newRouter,
  portOf,
  text,
} from "../interop/support.ts";

const cleanup = new Cleanup();
let serverKeys: CurveKeys;
let clientKeys: CurveKeys;
let router: RouterSocket;
let received: RouterMessage[];
let log: EventLog;
let port: number;

beforeEach(async () => {
  serverKeys = curveKeys();
  clientKeys = curveKeys();
  router = newRouter(cleanup, { security: curveServer(serverKeys, [clientKeys]) });
  received = [];
  router.onMessage((message) => received.push(message));
  log = new EventLog(router);
  port = portOf(await router.bind("tcp://127.0.0.1:0"));
});
afterEach(() => cleanup.run());

async function authenticated(): Promise<{ raw: RawZmtp; client: CurveClient }> {
  const raw = cleanup.add(await RawZmtp.connect(port));
  const client = new CurveClient({
    socketType: "DEALER",
    publicKey: clientKeys.publicKey,
    secretKey: clientKeys.secretKey,
    serverKey: serverKeys.publicKey,
  });
  await curveHandshake(raw, client);
  await eventually(() => router.connectedPeers === 1);
  return { raw, client };
}

function messageFrame(client: CurveClient, payload: string): Uint8Array {
  const message = client.encode(text(payload), false, false);
  return encodeFrame(message.flags, message.body);
}

async function expectDropped(raw: RawZmtp, reason: RegExp): Promise<void> {
  expect(await raw.waitClosed(2000)).toBe(true);
  const dropped = await eventually(() => log.of("disconnected")[0]);
  expect(dropped.reason).toMatch(reason);
  expect(router.connectedPeers).toBe(0);
}

describe("an authenticated peer that misbehaves", () => {
  test("a replayed MESSAGE closes the connection and is delivered once", async () => {
    const { raw, client } = await authenticated();
    const frame = messageFrame(client, "pay once");
    raw.write(frame);
    raw.write(frame);
    await expectDropped(raw, /nonce/);
    expect(received.map((message) => decode(message.parts[0]))).toEqual(["pay once"]);
  });

  test("a MESSAGE with a lower nonce than the last one closes the connection", async () => {
    const { raw, client } = await authenticated();
    const earlier = messageFrame(client, "earlier");
    const later = messageFrame(client, "later");
    raw.write(later);
    raw.write(earlier);
    await expectDropped(raw, /nonce/);
    expect(received.map((message) => decode(message.parts[0]))).toEqual(["later"]);
  });

  test("the server's own MESSAGE reflected back to it does not open (C/S nonce prefixes)", async () => {
    const { raw, client } = await authenticated();
    raw.write(messageFrame(client, "hello"));
    await eventually(() => received.length === 1);
    // Server nonces run 2, 3, 4: the third is above the client's last (3), so only the C/S
    // prefix of the nonce stops the reflected box from opening
    const id = (received[0] as RouterMessage).routingId;
    for (const n of [1, 2, 3]) router.send(id, [text(`to the client ${n}`)]);
    await raw.frame();
    await raw.frame();
    const fromServer = await raw.frame();
    raw.write(encodeFrame(fromServer.flags, fromServer.body));
    await expectDropped(raw, /did not open/);
    expect(received).toHaveLength(1);
  });

  test("ERROR after READY closes the connection (never answered with ERROR)", async () => {
    const { raw, client } = await authenticated();
    const error = client.encode(encodeError("400"), false, true);
    raw.write(encodeFrame(error.flags, error.body));
    await expectDropped(raw, /ERROR after the handshake/);
    // nothing came back after READY: a close is the whole answer
    expect(raw.frames).toHaveLength(2);
  });

  test("a misbehaving peer's close does not disturb another authenticated peer", async () => {
    const bad = await authenticated();
    const good = await (async () => {
      const raw = cleanup.add(await RawZmtp.connect(port));
      const client = new CurveClient({
        socketType: "DEALER",
        publicKey: clientKeys.publicKey,
        secretKey: clientKeys.secretKey,
        serverKey: serverKeys.publicKey,
      });
      await curveHandshake(raw, client);
      return { raw, client };
    })();
    await eventually(() => router.connectedPeers === 2);
    const frame = messageFrame(bad.client, "x");
    bad.raw.write(frame);
    bad.raw.write(frame);
    expect(await bad.raw.waitClosed(2000)).toBe(true);

    good.raw.write(messageFrame(good.client, "still fine"));
    await eventually(() => received.length === 2);
    expect(decode(received[1]?.parts[0])).toBe("still fine");
    expect(router.connectedPeers).toBe(1);
  });
});
