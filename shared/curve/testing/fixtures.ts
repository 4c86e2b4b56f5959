/**
 * Test-only helpers for shared/curve: the zmq_curve(7) test keys, a scripted random source that
 * replays fixed transient keys and nonce tails, and a driver that runs a client and a server
 * against each other through their command bodies. Production code never imports this file.
 */
import { expect } from "bun:test";
import { createHash } from "node:crypto";
import type { Authorizer, HandshakeResult } from "../../zmtp/mechanism.ts";
import { type CurveRandom, type KeyPair, publicFromSecret } from "../box.ts";
import { CurveClient, type CurveClientOptions } from "../curve-client.ts";
import { CurveServer, type CurveServerOptions } from "../curve-server.ts";
import { z85Decode } from "../z85.ts";

/** The test key pairs published in libzmq's zmq_curve(7). */
export const TEST_KEYS_Z85 = {
  clientPublic: "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID",
  clientSecret: "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs",
  serverPublic: "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",
  serverSecret: "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6",
} as const;

export const CLIENT_KEYS: KeyPair = {
  publicKey: z85Decode(TEST_KEYS_Z85.clientPublic),
  secretKey: z85Decode(TEST_KEYS_Z85.clientSecret),
};
export const SERVER_KEYS: KeyPair = {
  publicKey: z85Decode(TEST_KEYS_Z85.serverPublic),
  secretKey: z85Decode(TEST_KEYS_Z85.serverSecret),
};

/** Bytes first, first+1, … (count of them), e.g. range(0x01, 32) = 01 02 … 20. */
export function range(first: number, count: number): Uint8Array {
  return Uint8Array.from({ length: count }, (_, i) => (first + i) & 0xff);
}

export function filled(byte: number, count: number): Uint8Array {
  return new Uint8Array(count).fill(byte);
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Random source that hands out the given transient secrets and byte strings in order, and
 * throws if a caller asks for more, or for a length the script did not plan: a change in the
 * order of draws fails the transcript test loudly instead of silently producing other bytes.
 */
export function scriptedRandom(script: {
  readonly transientSecrets?: readonly Uint8Array[];
  readonly bytes?: readonly Uint8Array[];
}): CurveRandom {
  const secrets = [...(script.transientSecrets ?? [])];
  const bytes = [...(script.bytes ?? [])];
  return {
    keyPair(): KeyPair {
      const secretKey = secrets.shift();
      if (secretKey === undefined) throw new Error("scripted random: no transient key left");
      return { publicKey: publicFromSecret(secretKey), secretKey: secretKey.slice() };
    },
    bytes(length: number): Uint8Array {
      const next = bytes.shift();
      if (next === undefined)
        throw new Error(`scripted random: no bytes left (asked for ${length})`);
      if (next.length !== length) {
        throw new Error(`scripted random: asked for ${length} bytes, script has ${next.length}`);
      }
      return next.slice();
    },
  };
}

export const allowAll: Authorizer = () => ({ status: 200, userId: "test-client" });

export function makeClient(overrides: Partial<CurveClientOptions> = {}): CurveClient {
  return new CurveClient({
    socketType: "DEALER",
    publicKey: CLIENT_KEYS.publicKey,
    secretKey: CLIENT_KEYS.secretKey,
    serverKey: SERVER_KEYS.publicKey,
    ...overrides,
  });
}

export function makeServer(overrides: Partial<CurveServerOptions> = {}): CurveServer {
  return new CurveServer({
    socketType: "ROUTER",
    publicKey: SERVER_KEYS.publicKey,
    secretKey: SERVER_KEYS.secretKey,
    authorize: allowAll,
    address: "tcp://127.0.0.1:40000",
    ...overrides,
  });
}

/** The single command a handshake step sends; fails the test if it sent zero or several. */
export function only(result: HandshakeResult): Uint8Array {
  expect(result.send.length).toBe(1);
  return result.send[0] as Uint8Array;
}

export interface Transcript {
  readonly hello: Uint8Array;
  readonly welcome: Uint8Array;
  readonly initiate: Uint8Array;
  readonly ready: Uint8Array;
  readonly clientResult: HandshakeResult;
  readonly serverResult: HandshakeResult;
}

/** Run a full handshake and return each command body; asserts every step continues. */
export function handshake(client: CurveClient, server: CurveServer): Transcript {
  expect(server.start()).toEqual({ status: "continue", send: [] });
  const hello = only(client.start());
  const welcomeResult = server.processHandshake(hello);
  expect(welcomeResult.status).toBe("continue");
  const welcome = only(welcomeResult);
  const initiateResult = client.processHandshake(welcome);
  expect(initiateResult.status).toBe("continue");
  const initiate = only(initiateResult);
  const serverResult = server.processHandshake(initiate);
  expect(serverResult.status).toBe("ready");
  const ready = only(serverResult);
  const clientResult = client.processHandshake(ready);
  expect(clientResult.status).toBe("ready");
  return { hello, welcome, initiate, ready, clientResult, serverResult };
}

/** A copy of `bytes` with bit 0 of byte `index` flipped. */
export function flipped(bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] = (copy[index] as number) ^ 0x01;
  return copy;
}
