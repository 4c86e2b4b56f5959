/**
 * A man in the middle flipping bits, and peers that craft commands by hand (research §7.4):
 * every flipped byte of HELLO, WELCOME, INITIATE, READY and MESSAGE must end the exchange;
 * a vouch naming another C' or S, weak keys, oversized or broken metadata must be refused.
 * Crafted commands are built with box.ts directly; each crafter's untampered output is shown
 * to succeed first, so a refusal is caused by the one field under test.
 */

import { describe, expect, test } from "bun:test";
import { concatBytes } from "../bytes.ts";
import type { HandshakeResult } from "../zmtp/mechanism.ts";
import { encodeMetadata, socketMetadata } from "../zmtp/metadata.ts";
import { type KeyPair, open, precompute, publicFromSecret, seal } from "./box.ts";
import { COMMAND_NAME, longNonce, NONCE_PREFIX, shortNonce } from "./curve-protocol.ts";
import {
  CLIENT_KEYS,
  filled,
  flipped,
  handshake,
  makeClient,
  makeServer,
  only,
  range,
  SERVER_KEYS,
  scriptedRandom,
} from "./testing/fixtures.ts";

const C_PRIME_SECRET = range(0x01, 32); // c'
const S_PRIME_SECRET = range(0x21, 32); // s'

const bigEndian64 = (value: bigint): Uint8Array => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value);
  return bytes;
};

function failureCode(result: HandshakeResult): string {
  if (result.status !== "failed") throw new Error(`expected failed, was ${result.status}`);
  expect(result.send).toEqual([]);
  return result.failure.code;
}

/** A transcript with fixed transient keys, so the test can compute every shared key itself. */
function fixedTranscript() {
  const client = makeClient({
    random: scriptedRandom({ transientSecrets: [C_PRIME_SECRET], bytes: [filled(0xcc, 16)] }),
  });
  const server = makeServer({
    random: scriptedRandom({
      transientSecrets: [S_PRIME_SECRET],
      bytes: [range(0x41, 32), filled(0xaa, 16), filled(0xbb, 16)],
    }),
  });
  return { client, server, ...handshake(client, server) };
}

interface InitiateFields {
  readonly clientKeys?: KeyPair; // C/c that sign the vouch
  readonly vouchClientTransient?: Uint8Array; // C' inside the vouch
  readonly vouchServerKey?: Uint8Array; // S inside the vouch
  readonly metadata?: Uint8Array;
}

/** A rogue client: real HELLO, then an INITIATE assembled by hand from the WELCOME. */
function craftInitiate(fields: InitiateFields = {}) {
  const client = makeClient({ random: scriptedRandom({ transientSecrets: [C_PRIME_SECRET] }) });
  const server = makeServer();
  const welcome = only(server.processHandshake(only(client.start())));
  const clientTransient = publicFromSecret(C_PRIME_SECRET);
  const k1 = precompute(SERVER_KEYS.publicKey, C_PRIME_SECRET);
  const plain = open(
    welcome.subarray(24),
    longNonce(NONCE_PREFIX.WELCOME, welcome.subarray(8, 24)),
    k1,
  );
  if (plain === null) throw new Error("could not open WELCOME");
  const serverTransient = plain.subarray(0, 32);
  const cookie = plain.subarray(32);
  const keys = fields.clientKeys ?? CLIENT_KEYS;
  const vouchTail = filled(0xcc, 16);
  const vouch = seal(
    concatBytes(
      fields.vouchClientTransient ?? clientTransient,
      fields.vouchServerKey ?? SERVER_KEYS.publicKey,
    ),
    longNonce(NONCE_PREFIX.VOUCH, vouchTail),
    precompute(serverTransient, keys.secretKey),
  );
  const box = seal(
    concatBytes(keys.publicKey, vouchTail, vouch, fields.metadata ?? socketMetadata("DEALER")),
    shortNonce(NONCE_PREFIX.INITIATE, 2n),
    precompute(serverTransient, C_PRIME_SECRET),
  );
  const initiate = concatBytes(COMMAND_NAME.INITIATE, cookie, bigEndian64(2n), box);
  return { server, result: server.processHandshake(initiate) };
}

/** A rogue server: answers the client's HELLO with WELCOME and READY assembled by hand. */
function craftWelcome(serverTransient = publicFromSecret(S_PRIME_SECRET)) {
  const client = makeClient({
    socketType: "REQ",
    random: scriptedRandom({ transientSecrets: [C_PRIME_SECRET], bytes: [filled(0xcc, 16)] }),
  });
  client.start();
  const k1 = precompute(publicFromSecret(C_PRIME_SECRET), SERVER_KEYS.secretKey);
  const tail = filled(0xbb, 16);
  const box = seal(
    concatBytes(serverTransient, filled(0x55, 96)),
    longNonce(NONCE_PREFIX.WELCOME, tail),
    k1,
  );
  const result = client.processHandshake(concatBytes(COMMAND_NAME.WELCOME, tail, box));
  return { client, result };
}

function craftReady(metadata: Uint8Array) {
  const { client, result } = craftWelcome();
  expect(result.status).toBe("continue");
  const k2 = precompute(publicFromSecret(C_PRIME_SECRET), S_PRIME_SECRET);
  const box = seal(metadata, shortNonce(NONCE_PREFIX.READY, 1n), k2);
  return client.processHandshake(concatBytes(COMMAND_NAME.READY, bigEndian64(1n), box));
}

/** Server and client states that the reference transcript's next command is valid for. */
function serverAwaitingInitiate(hello: Uint8Array) {
  const server = makeServer({
    random: scriptedRandom({
      transientSecrets: [S_PRIME_SECRET],
      bytes: [range(0x41, 32), filled(0xaa, 16), filled(0xbb, 16)],
    }),
  });
  server.processHandshake(hello);
  return server;
}

function clientAwaiting(step: "WELCOME" | "READY", welcome: Uint8Array) {
  const client = makeClient({
    random: scriptedRandom({ transientSecrets: [C_PRIME_SECRET], bytes: [filled(0xcc, 16)] }),
  });
  client.start();
  if (step === "READY") client.processHandshake(welcome);
  return client;
}

describe("tampering: every flipped byte ends the exchange", () => {
  const reference = fixedTranscript();

  test("the untampered commands pass in the same setups (control)", () => {
    expect(makeServer().processHandshake(reference.hello).status).toBe("continue");
    expect(
      clientAwaiting("WELCOME", reference.welcome).processHandshake(reference.welcome).status,
    ).toBe("continue");
    expect(
      serverAwaitingInitiate(reference.hello).processHandshake(reference.initiate).status,
    ).toBe("ready");
    expect(
      clientAwaiting("READY", reference.welcome).processHandshake(reference.ready).status,
    ).toBe("ready");
  });

  test("HELLO (server refuses, silently)", () => {
    for (let i = 0; i < reference.hello.length; i++) {
      failureCode(makeServer().processHandshake(flipped(reference.hello, i)));
    }
  });

  test("WELCOME (client refuses)", () => {
    for (let i = 0; i < reference.welcome.length; i++) {
      const client = clientAwaiting("WELCOME", reference.welcome);
      expect(failureCode(client.processHandshake(flipped(reference.welcome, i)))).not.toBe(
        "ERROR_RECEIVED",
      );
    }
  });

  test("INITIATE (server refuses, silently)", () => {
    for (let i = 0; i < reference.initiate.length; i++) {
      const server = serverAwaitingInitiate(reference.hello);
      failureCode(server.processHandshake(flipped(reference.initiate, i)));
    }
  });

  test("READY (client refuses)", () => {
    for (let i = 0; i < reference.ready.length; i++) {
      const client = clientAwaiting("READY", reference.welcome);
      failureCode(client.processHandshake(flipped(reference.ready, i)));
    }
  });

  test("MESSAGE in both directions", () => {
    const { client, server } = fixedTranscript();
    const toServer = client.encode(new TextEncoder().encode("hello"), false, false).body;
    const toClient = server.encode(new TextEncoder().encode("world"), false, false).body;
    for (let i = 0; i < toServer.length; i++) {
      expect(server.decode(0, flipped(toServer, i)).ok).toBe(false);
      expect(client.decode(0, flipped(toClient, i)).ok).toBe(false);
    }
    // The untampered originals still decode: refusals did not move the nonce window
    expect(server.decode(0, toServer).ok).toBe(true);
    expect(client.decode(0, toClient).ok).toBe(true);
  });
});

describe("hand-crafted INITIATE", () => {
  test("the crafter's honest INITIATE is accepted (control)", () => {
    expect(craftInitiate().result.status).toBe("ready");
  });

  test("a vouch naming another server key S is refused (stricter than libzmq)", () => {
    const other = publicFromSecret(range(0x99, 32));
    const { result } = craftInitiate({ vouchServerKey: other });
    expect(failureCode(result)).toBe("CRYPTOGRAPHIC");
  });

  test("a vouch naming another C' is refused", () => {
    const { result } = craftInitiate({ vouchClientTransient: publicFromSecret(range(0x77, 32)) });
    expect(failureCode(result)).toBe("CRYPTOGRAPHIC");
  });

  test("a weak long-term key C is refused", () => {
    const weak: KeyPair = { publicKey: new Uint8Array(32), secretKey: CLIENT_KEYS.secretKey };
    expect(failureCode(craftInitiate({ clientKeys: weak }).result)).toBe("CRYPTOGRAPHIC");
  });

  test("metadata whose lengths overrun is refused", () => {
    const broken = concatBytes(
      socketMetadata("DEALER"),
      Uint8Array.of(4, 0x4e, 0x61, 0x6d, 0x65, 0, 0, 0xff, 0xff),
    );
    expect(failureCode(craftInitiate({ metadata: broken }).result)).toBe("INVALID_METADATA");
  });

  test("oversized metadata is refused before any crypto", () => {
    const big = encodeMetadata([
      ["Socket-Type", new TextEncoder().encode("DEALER")],
      ["X-Padding", new Uint8Array(70_000)],
    ]);
    const { result } = craftInitiate({ metadata: big });
    expect(failureCode(result)).toBe("MALFORMED_COMMAND");
  });

  test("an unknown Socket-Type is refused without ERROR", () => {
    const pub = encodeMetadata([["Socket-Type", new TextEncoder().encode("PUB")]]);
    expect(failureCode(craftInitiate({ metadata: pub }).result)).toBe("SOCKET_TYPE_MISMATCH");
  });

  test("missing Socket-Type is refused", () => {
    expect(failureCode(craftInitiate({ metadata: new Uint8Array(0) }).result)).toBe(
      "INVALID_METADATA",
    );
  });
});

/** A HELLO sealed by hand, so the signature plaintext can be something other than zeros. */
function craftHello(signature: Uint8Array): Uint8Array {
  const k1 = precompute(SERVER_KEYS.publicKey, C_PRIME_SECRET);
  return concatBytes(
    COMMAND_NAME.HELLO,
    Uint8Array.of(1, 0),
    new Uint8Array(72),
    publicFromSecret(C_PRIME_SECRET),
    bigEndian64(1n),
    seal(signature, shortNonce(NONCE_PREFIX.HELLO, 1n), k1),
  );
}

describe("hand-crafted HELLO and replayed INITIATE", () => {
  test("a HELLO whose signature box holds 64 zeros is accepted (control)", () => {
    expect(makeServer().processHandshake(craftHello(new Uint8Array(64))).status).toBe("continue");
  });

  test("a HELLO whose signature box opens but is not 64 zeros is refused", () => {
    const signature = new Uint8Array(64);
    signature[63] = 1;
    expect(failureCode(makeServer().processHandshake(craftHello(signature)))).toBe("CRYPTOGRAPHIC");
  });

  test("an INITIATE taken from another connection is refused at the cookie", () => {
    // Two servers with the same K and s' (scripted), two clients with different C'
    const serverRandom = () =>
      scriptedRandom({
        transientSecrets: [S_PRIME_SECRET],
        bytes: [range(0x41, 32), filled(0xaa, 16), filled(0xbb, 16)],
      });
    const stolen = fixedTranscript().initiate;
    const otherClient = makeClient({
      random: scriptedRandom({ transientSecrets: [range(0x61, 32)] }),
    });
    const server = makeServer({ random: serverRandom() });
    server.processHandshake(only(otherClient.start()));
    const result = server.processHandshake(stolen);
    expect(failureCode(result)).toBe("CRYPTOGRAPHIC");
    expect(result.status === "failed" && result.failure.message).toContain("cookie");
  });
});

describe("receive windows after the handshake", () => {
  /** A MESSAGE sealed by hand under k2 = C'↔S' with any short nonce. */
  function messageWithNonce(prefix: Uint8Array, nonce: bigint): Uint8Array {
    const k2 = precompute(publicFromSecret(S_PRIME_SECRET), C_PRIME_SECRET);
    const box = seal(Uint8Array.of(0, 0x61), shortNonce(prefix, nonce), k2);
    return concatBytes(COMMAND_NAME.MESSAGE, bigEndian64(nonce), box);
  }

  test("the server's window starts at the INITIATE nonce (2), not HELLO's (1)", () => {
    const { server } = fixedTranscript();
    expect(server.decode(0, messageWithNonce(NONCE_PREFIX.MESSAGE_FROM_CLIENT, 2n)).ok).toBe(false);
    expect(server.decode(0, messageWithNonce(NONCE_PREFIX.MESSAGE_FROM_CLIENT, 3n)).ok).toBe(true);
  });

  test("the client's window starts at the READY nonce (1)", () => {
    const { client } = fixedTranscript();
    expect(client.decode(0, messageWithNonce(NONCE_PREFIX.MESSAGE_FROM_SERVER, 1n)).ok).toBe(false);
    expect(client.decode(0, messageWithNonce(NONCE_PREFIX.MESSAGE_FROM_SERVER, 2n)).ok).toBe(true);
  });
});

describe("hand-crafted WELCOME and READY", () => {
  test("the rogue server's honest WELCOME is accepted (control)", () => {
    expect(craftWelcome().result.status).toBe("continue");
  });

  test("WELCOME carrying a low-order S' is refused", () => {
    expect(failureCode(craftWelcome(new Uint8Array(32)).result)).toBe("CRYPTOGRAPHIC");
    const one = new Uint8Array(32);
    one[0] = 1;
    expect(failureCode(craftWelcome(one).result)).toBe("CRYPTOGRAPHIC");
  });

  test("READY from a compatible socket type is accepted (control)", () => {
    const result = craftReady(socketMetadata("ROUTER"));
    expect(result.status).toBe("ready");
  });

  test("READY from an incompatible socket type is refused", () => {
    expect(failureCode(craftReady(socketMetadata("DEALER")))).toBe("SOCKET_TYPE_MISMATCH");
  });

  test("READY with truncated metadata is refused", () => {
    expect(failureCode(craftReady(socketMetadata("ROUTER").subarray(0, 20)))).toBe(
      "INVALID_METADATA",
    );
  });

  test("HELLO carrying a low-order C' is refused", () => {
    const hello = fixedTranscript().hello.slice();
    hello.fill(0, 80, 112);
    expect(failureCode(makeServer().processHandshake(hello))).toBe("CRYPTOGRAPHIC");
  });
});
