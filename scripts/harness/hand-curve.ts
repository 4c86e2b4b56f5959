/**
 * A CURVE client assembled by hand from the box primitives (RFC 26 §2.6–2.8), for hostile
 * handshakes the real CurveClient would never produce: INITIATE with arbitrary metadata bytes
 * (oversized, overrunning lengths) or a vouch naming another server key. Test-only.
 */
import { concatBytes } from "../../shared/bytes.ts";
import {
  generateKeyPair,
  type KeyPair,
  open,
  precompute,
  randomBytes,
  seal,
} from "../../shared/curve/box.ts";
import {
  COMMAND_NAME,
  HELLO_BYTES,
  longNonce,
  NONCE_PREFIX,
  shortNonce,
  writeShortNonce,
} from "../../shared/curve/curve-protocol.ts";

export class HandCurveClient {
  readonly #long: KeyPair; // C, c
  readonly #serverPublic: Uint8Array; // S
  readonly #transient = generateKeyPair(); // C', c'
  #serverTransient: Uint8Array | undefined; // S'
  #cookie: Uint8Array | undefined;

  constructor(long: KeyPair, serverPublic: Uint8Array) {
    this.#long = long;
    this.#serverPublic = serverPublic;
  }

  /** HELLO body, short nonce 1 (as libzmq). */
  hello(): Uint8Array {
    const body = new Uint8Array(HELLO_BYTES);
    body.set(COMMAND_NAME.HELLO, 0);
    body[6] = 1;
    body.set(this.#transient.publicKey, 80);
    writeShortNonce(body, 112, 1n);
    const k1 = precompute(this.#serverPublic, this.#transient.secretKey);
    body.set(seal(new Uint8Array(64), shortNonce(NONCE_PREFIX.HELLO, 1n), k1), 120);
    return body;
  }

  /** Open WELCOME; throws if it does not authenticate. */
  welcome(body: Uint8Array): void {
    const k1 = precompute(this.#serverPublic, this.#transient.secretKey);
    const plaintext = open(
      body.subarray(24),
      longNonce(NONCE_PREFIX.WELCOME, body.subarray(8, 24)),
      k1,
    );
    if (plaintext === null) throw new Error("hand curve: WELCOME did not open");
    this.#serverTransient = plaintext.slice(0, 32);
    this.#cookie = plaintext.slice(32, 128);
  }

  /**
   * INITIATE body, short nonce 2, carrying `metadata` verbatim. `vouchServerKey` replaces S
   * inside the vouch (RFC 26 §2.8 says the server must check it; libzmq does not).
   */
  initiate(metadata: Uint8Array, options: { vouchServerKey?: Uint8Array } = {}): Uint8Array {
    const serverTransient = this.#serverTransient;
    const cookie = this.#cookie;
    if (serverTransient === undefined || cookie === undefined) {
      throw new Error("hand curve: INITIATE before WELCOME");
    }
    const vouchTail = randomBytes(16);
    const vouch = seal(
      concatBytes(this.#transient.publicKey, options.vouchServerKey ?? this.#serverPublic),
      longNonce(NONCE_PREFIX.VOUCH, vouchTail),
      precompute(serverTransient, this.#long.secretKey),
    );
    const box = seal(
      concatBytes(this.#long.publicKey, vouchTail, vouch, metadata),
      shortNonce(NONCE_PREFIX.INITIATE, 2n),
      precompute(serverTransient, this.#transient.secretKey),
    );
    const nonce = new Uint8Array(8);
    writeShortNonce(nonce, 0, 2n);
    return concatBytes(COMMAND_NAME.INITIATE, cookie, nonce, box);
  }
}

/** ZMTP metadata bytes (RFC 23 §2.4.2) for a DEALER, plus `extra` raw property bytes. */
export function dealerMetadata(extra: Uint8Array = new Uint8Array(0)): Uint8Array {
  const name = new TextEncoder().encode("Socket-Type");
  const value = new TextEncoder().encode("DEALER");
  const property = new Uint8Array(1 + name.length + 4 + value.length);
  property[0] = name.length;
  property.set(name, 1);
  new DataView(property.buffer).setUint32(1 + name.length, value.length);
  property.set(value, 1 + name.length + 4);
  return concatBytes(property, extra);
}
