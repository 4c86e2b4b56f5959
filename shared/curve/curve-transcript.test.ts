/**
 * The deterministic CurveZMQ transcript of research zmtp-curve.md §3.4 (computed there with
 * tweetnacl and libsodium, byte-identical): fixed transient keys, cookie key and nonce tails,
 * the zmq_curve(7) long-term keys, a DEALER client and a ROUTER server with empty identities.
 * Every command must match byte for byte, in both roles, and each side must accept the other's.
 */
import { describe, expect, test } from "bun:test";
import { publicFromSecret } from "./box.ts";
import { COOKIE_BYTES } from "./curve-protocol.ts";
import {
  CLIENT_KEYS,
  filled,
  handshake,
  hex,
  makeClient,
  makeServer,
  range,
  SERVER_KEYS,
  scriptedRandom,
  sha256,
} from "./testing/fixtures.ts";

const CLIENT_TRANSIENT_SECRET = range(0x01, 32); // c'
const SERVER_TRANSIENT_SECRET = range(0x21, 32); // s'
const COOKIE_KEY = range(0x41, 32); // K
const COOKIE_TAIL = filled(0xaa, 16);
const WELCOME_TAIL = filled(0xbb, 16);
const VOUCH_TAIL = filled(0xcc, 16);

const EXPECTED = {
  clientTransientPublic: "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c",
  serverTransientPublic: "5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b",
  helloSha256: "15d56cee519727c713e494b4487a640f9d2fe53bc03f62db828a183674c97669",
  helloSignatureBox:
    "6e3f26f72fe2f05db20de7881ee6a08fc432afe73b138226f5930879c93bdd4d8586425a3a8d6bc5d83598a3017e0f1792ff0381360d168b6fe1c5e0bb752b0d365e13ea8e8a29ce1c5052c8c63eced7",
  cookieSha256: "9c49dd9910d443220d998703b014f43bce67abdd935a116c2d70123a51c876c6",
  welcomeSha256: "28faff11fc6daaa515521a70ab4609886bd229c4201820b9f52c8033e56b1cb7",
  initiateSha256: "6e8c79ae5f8569c38f6f4e37d76c598b48c33029a835107f55dea93f69077ec0",
  readySha256: "fa2ca261fb4b41d31ca90a18d580a5b75d2110eaeca45885d5f50b8afee8fd5e",
  readyHex:
    "0552454144590000000000000001640086d1ab154a21cf6b4b63c8994a57e5b976c483ec0654f901c19a18bef5ba8a058356adbb7f4fd971d3a3f9629bff74d79f",
  clientMessageHello:
    "074d4553534147450000000000000003b4527c114f53c3cec414859fb9d8a931222731a3f5fd",
  serverMessageWorld:
    "074d4553534147450000000000000002a662169ef920c7f67026622e7ea8438d2056eb04f186",
} as const;

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

function transcriptPair() {
  const client = makeClient({
    random: scriptedRandom({ transientSecrets: [CLIENT_TRANSIENT_SECRET], bytes: [VOUCH_TAIL] }),
  });
  const server = makeServer({
    random: scriptedRandom({
      transientSecrets: [SERVER_TRANSIENT_SECRET],
      bytes: [COOKIE_KEY, COOKIE_TAIL, WELCOME_TAIL],
    }),
  });
  return { client, server, transcript: handshake(client, server) };
}

describe("CurveZMQ transcript (research §3.4)", () => {
  test("long-term test keys derive from their secrets", () => {
    expect(hex(publicFromSecret(CLIENT_KEYS.secretKey))).toBe(hex(CLIENT_KEYS.publicKey));
    expect(hex(publicFromSecret(SERVER_KEYS.secretKey))).toBe(hex(SERVER_KEYS.publicKey));
    expect(hex(CLIENT_KEYS.publicKey).toUpperCase()).toStartWith("BB88471D");
    expect(hex(CLIENT_KEYS.publicKey).toUpperCase()).toEndWith("B43FC518");
    expect(hex(SERVER_KEYS.publicKey).toUpperCase()).toStartWith("54FCBA24");
    expect(hex(SERVER_KEYS.publicKey).toUpperCase()).toEndWith("1BC2D652");
  });

  test("transient public keys C' and S'", () => {
    expect(hex(publicFromSecret(CLIENT_TRANSIENT_SECRET))).toBe(EXPECTED.clientTransientPublic);
    expect(hex(publicFromSecret(SERVER_TRANSIENT_SECRET))).toBe(EXPECTED.serverTransientPublic);
  });

  test("HELLO is 200 bytes and matches byte for byte", () => {
    const { hello } = transcriptPair().transcript;
    expect(hello.length).toBe(200);
    expect(sha256(hello)).toBe(EXPECTED.helloSha256);
    expect(hex(hello.subarray(0, 8))).toBe("0548454c4c4f0100");
    expect(hello.subarray(8, 80).every((byte) => byte === 0)).toBe(true);
    expect(hex(hello.subarray(80, 112))).toBe(EXPECTED.clientTransientPublic);
    expect(hex(hello.subarray(112, 120))).toBe("0000000000000001");
    expect(hex(hello.subarray(120))).toBe(EXPECTED.helloSignatureBox);
  });

  test("WELCOME is 168 bytes and carries the expected nonce tail", () => {
    const { welcome } = transcriptPair().transcript;
    expect(welcome.length).toBe(168);
    expect(sha256(welcome)).toBe(EXPECTED.welcomeSha256);
    expect(hex(welcome.subarray(0, 8))).toBe(hex(text("\x07WELCOME")));
    expect(hex(welcome.subarray(8, 24))).toBe("bb".repeat(16));
  });

  test("INITIATE is 292 bytes, echoes the cookie and uses short nonce 2", () => {
    const { initiate } = transcriptPair().transcript;
    expect(initiate.length).toBe(292);
    expect(sha256(initiate)).toBe(EXPECTED.initiateSha256);
    const cookie = initiate.subarray(9, 9 + COOKIE_BYTES);
    expect(sha256(cookie)).toBe(EXPECTED.cookieSha256);
    expect(hex(cookie.subarray(0, 16))).toBe("aa".repeat(16));
    expect(hex(initiate.subarray(105, 113))).toBe("0000000000000002");
  });

  test("READY is 65 bytes and matches byte for byte", () => {
    const { ready } = transcriptPair().transcript;
    expect(ready.length).toBe(65);
    expect(sha256(ready)).toBe(EXPECTED.readySha256);
    expect(hex(ready)).toBe(EXPECTED.readyHex);
  });

  test("both sides report the peer they authenticated", () => {
    const { clientResult, serverResult } = transcriptPair().transcript;
    if (clientResult.status !== "ready" || serverResult.status !== "ready")
      throw new Error("not ready");
    expect(clientResult.send).toEqual([]);
    expect(clientResult.peer.socketType).toBe("ROUTER");
    expect(hex(clientResult.peer.publicKey as Uint8Array)).toBe(hex(SERVER_KEYS.publicKey));
    expect(serverResult.peer.socketType).toBe("DEALER");
    expect(serverResult.peer.identity.length).toBe(0);
    expect(hex(serverResult.peer.publicKey as Uint8Array)).toBe(hex(CLIENT_KEYS.publicKey));
    expect(serverResult.peer.userId).toBe("test-client");
  });

  test("client MESSAGE #3 and server MESSAGE #2 match byte for byte, in frames without flags", () => {
    const { client, server } = transcriptPair();
    const fromClient = client.encode(text("hello"), false, false);
    const fromServer = server.encode(text("world"), false, false);
    expect(fromClient.flags).toBe(0);
    expect(fromServer.flags).toBe(0);
    expect(hex(fromClient.body)).toBe(EXPECTED.clientMessageHello);
    expect(hex(fromServer.body)).toBe(EXPECTED.serverMessageWorld);
  });

  test("each side decodes the other's MESSAGE", () => {
    const { client, server } = transcriptPair();
    const atServer = server.decode(0, client.encode(text("hello"), false, false).body);
    const atClient = client.decode(0, server.encode(text("world"), true, false).body);
    expect(atServer).toEqual({ ok: true, data: text("hello"), more: false, command: false });
    expect(atClient).toEqual({ ok: true, data: text("world"), more: true, command: false });
  });

  test("the recorded MESSAGE bytes decode at the receiving side", () => {
    const { client, server } = transcriptPair();
    const atServer = server.decode(0, Buffer.from(EXPECTED.clientMessageHello, "hex"));
    const atClient = client.decode(0, Buffer.from(EXPECTED.serverMessageWorld, "hex"));
    expect(atServer.ok && new TextDecoder().decode(atServer.data)).toBe("hello");
    expect(atClient.ok && new TextDecoder().decode(atClient.data)).toBe("world");
  });

  test("a fresh handshake with system randomness completes and carries messages both ways", () => {
    const client = makeClient();
    const server = makeServer();
    const { hello, welcome } = handshake(client, server);
    expect(hex(hello.subarray(80, 112))).not.toBe(EXPECTED.clientTransientPublic);
    expect(hex(welcome)).not.toBe(hex(transcriptPair().transcript.welcome));
    for (let i = 0; i < 5; i++) {
      const ping = server.decode(0, client.encode(text(`c${i}`), i < 4, false).body);
      const pong = client.decode(0, server.encode(text(`s${i}`), false, i === 2).body);
      expect(ping).toEqual({ ok: true, data: text(`c${i}`), more: i < 4, command: false });
      expect(pong).toEqual({ ok: true, data: text(`s${i}`), more: false, command: i === 2 });
    }
  });
});
