/**
 * CurveZMQ MESSAGE rules after the handshake (research §3.2, §3.3, §7.4): frame flags as libzmq
 * expects them, inner MORE/COMMAND bits, the strictly-increasing nonce window (CVE-2014-7203),
 * reflection, and a counter that never wraps.
 */

import { describe, expect, test } from "bun:test";
import { concatBytes } from "../bytes.ts";
import { encodePing } from "../zmtp/command.ts";
import { FrameFlag } from "../zmtp/mechanism.ts";
import { seal } from "./box.ts";
import { CurveMessageCodec } from "./curve-message.ts";
import { COMMAND_NAME, MAX_SHORT_NONCE, NONCE_PREFIX, shortNonce } from "./curve-protocol.ts";
import { handshake, hex, makeClient, makeServer, range } from "./testing/fixtures.ts";

const text = (value: string): Uint8Array => new TextEncoder().encode(value);
const KEY = range(0x10, 32);

function codecPair(nextSend = 3n, lastReceived = 2n) {
  const client = new CurveMessageCodec({
    key: KEY,
    sendPrefix: NONCE_PREFIX.MESSAGE_FROM_CLIENT,
    receivePrefix: NONCE_PREFIX.MESSAGE_FROM_SERVER,
    nextSendNonce: nextSend,
    lastReceivedNonce: 1n,
  });
  const server = new CurveMessageCodec({
    key: KEY,
    sendPrefix: NONCE_PREFIX.MESSAGE_FROM_SERVER,
    receivePrefix: NONCE_PREFIX.MESSAGE_FROM_CLIENT,
    nextSendNonce: 2n,
    lastReceivedNonce: lastReceived,
  });
  return { client, server };
}

/** A MESSAGE sealed by hand, to set inner flags the codec would never produce. */
function rawMessage(nonce: bigint, plaintext: Uint8Array): Uint8Array {
  const header = new Uint8Array(16);
  header.set(COMMAND_NAME.MESSAGE);
  new DataView(header.buffer).setBigUint64(8, nonce);
  return concatBytes(
    header,
    seal(plaintext, shortNonce(NONCE_PREFIX.MESSAGE_FROM_CLIENT, nonce), KEY),
  );
}

describe("CurveMessageCodec framing", () => {
  test("MESSAGE is 33 + N bytes and its frame carries no flags, even for commands and MORE", () => {
    const { client } = codecPair();
    for (const [more, command] of [
      [false, false],
      [true, false],
      [false, true],
    ] as const) {
      const frame = client.encode(new Uint8Array(300), more, command);
      expect(frame.flags).toBe(0);
      expect(frame.body.length).toBe(333);
      expect(hex(frame.body.subarray(0, 8))).toBe(hex(text("\x07MESSAGE")));
    }
  });

  test("inner MORE and COMMAND round-trip", () => {
    const { client, server } = codecPair();
    const ping = encodePing(30);
    const decoded = server.decode(client.encode(ping, false, true).body);
    expect(decoded).toEqual({ ok: true, data: ping, more: false, command: true });
    expect(server.decode(client.encode(text("a"), true, false).body)).toMatchObject({
      more: true,
      command: false,
    });
  });

  test("an empty part round-trips (33-byte body)", () => {
    const { client, server } = codecPair();
    const frame = client.encode(new Uint8Array(0), false, false);
    expect(frame.body.length).toBe(33);
    expect(server.decode(frame.body)).toEqual({
      ok: true,
      data: new Uint8Array(0),
      more: false,
      command: false,
    });
  });

  test("outer frame flags are ignored by the mechanisms; only the inner byte counts", () => {
    const client = makeClient();
    const server = makeServer();
    handshake(client, server);
    const body = client.encode(text("x"), false, false).body;
    const decoded = server.decode(FrameFlag.COMMAND | FrameFlag.MORE | FrameFlag.LONG, body);
    expect(decoded).toMatchObject({ ok: true, more: false, command: false });
  });

  test("inner flags with reserved bits are refused", () => {
    const { server } = codecPair();
    for (const flags of [0x04, 0x08, 0x80, 0x07]) {
      const result = server.decode(rawMessage(3n, Uint8Array.of(flags, 0x61)));
      expect(result).toMatchObject({ ok: false });
    }
    expect(server.decode(rawMessage(3n, Uint8Array.of(0x03, 0x61)))).toMatchObject({
      ok: true,
      more: true,
      command: true,
    });
  });

  test("bodies under 33 bytes, wrong names and empty boxes are refused", () => {
    const { client, server } = codecPair();
    const body = client.encode(text("hi"), false, false).body;
    expect(server.decode(body.subarray(0, 32)).ok).toBe(false);
    const renamed = body.slice();
    renamed.set(text("\x07MESSAGX"));
    expect(server.decode(renamed).ok).toBe(false);
    expect(server.decode(new Uint8Array(0)).ok).toBe(false);
  });
});

describe("CurveMessageCodec nonces", () => {
  test("counts from the given start: client 3, 4, …", () => {
    const { client } = codecPair();
    const first = client.encode(text("a"), false, false).body;
    const second = client.encode(text("b"), false, false).body;
    expect(hex(first.subarray(8, 16))).toBe("0000000000000003");
    expect(hex(second.subarray(8, 16))).toBe("0000000000000004");
    expect(client.nextSendNonce).toBe(5n);
  });

  test("a replayed MESSAGE is refused", () => {
    const { client, server } = codecPair();
    const body = client.encode(text("once"), false, false).body;
    expect(server.decode(body).ok).toBe(true);
    const replay = server.decode(body);
    expect(replay.ok).toBe(false);
    expect(replay.ok ? "" : replay.message).toContain("replay");
  });

  test("a lower nonce after a higher one is refused; gaps are allowed (libzmq rule)", () => {
    const { client, server } = codecPair();
    const m3 = client.encode(text("3"), false, false).body;
    const m4 = client.encode(text("4"), false, false).body;
    const m5 = client.encode(text("5"), false, false).body;
    expect(server.decode(m5).ok).toBe(true);
    expect(server.decode(m3).ok).toBe(false);
    expect(server.decode(m4).ok).toBe(false);
  });

  test("nonces at or below the INITIATE nonce are refused, including 0", () => {
    const { server } = codecPair(3n, 2n);
    expect(server.decode(rawMessage(0n, Uint8Array.of(0))).ok).toBe(false);
    expect(server.decode(rawMessage(2n, Uint8Array.of(0))).ok).toBe(false);
    expect(server.decode(rawMessage(3n, Uint8Array.of(0))).ok).toBe(true);
  });

  test("the counter sends 2^64 − 1 and then refuses to wrap", () => {
    const { client } = codecPair(MAX_SHORT_NONCE);
    const last = client.encode(text("last"), false, false).body;
    expect(hex(last.subarray(8, 16))).toBe("ffffffffffffffff");
    expect(() => client.encode(text("wrapped"), false, false)).toThrow(/exhausted/);
    expect(() => client.encode(text("again"), false, false)).toThrow(/exhausted/);
  });

  test("after accepting nonce 2^64 − 1 every further MESSAGE is refused", () => {
    const { server } = codecPair(3n, 2n);
    expect(server.decode(rawMessage(MAX_SHORT_NONCE, Uint8Array.of(0))).ok).toBe(true);
    expect(server.decode(rawMessage(MAX_SHORT_NONCE, Uint8Array.of(0))).ok).toBe(false);
    expect(server.decode(rawMessage(5n, Uint8Array.of(0))).ok).toBe(false);
  });
});

describe("reflection", () => {
  test("neither side accepts its own MESSAGEs (direction prefixes differ)", () => {
    const client = makeClient();
    const server = makeServer();
    handshake(client, server);
    const fromServer = server.encode(text("to client"), false, false).body;
    const fromClient = client.encode(text("to server"), false, false).body;
    expect(server.decode(0, fromServer).ok).toBe(false);
    expect(client.decode(0, fromClient).ok).toBe(false);
    expect(client.decode(0, fromServer).ok).toBe(true);
    expect(server.decode(0, fromClient).ok).toBe(true);
  });

  test("a codec refuses a MESSAGE sealed under its own direction's prefix", () => {
    const { client } = codecPair();
    const own = new CurveMessageCodec({
      key: KEY,
      sendPrefix: NONCE_PREFIX.MESSAGE_FROM_CLIENT,
      receivePrefix: NONCE_PREFIX.MESSAGE_FROM_SERVER,
      nextSendNonce: 10n,
      lastReceivedNonce: 0n,
    });
    expect(own.decode(client.encode(text("mirror"), false, false).body).ok).toBe(false);
  });
});
