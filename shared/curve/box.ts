/**
 * The crypto backend of CurveZMQ (RFC 26 §2): X25519 key agreement, NaCl `crypto_box_beforenm`
 * and `crypto_secretbox` (XSalsa20-Poly1305), random bytes. THE ONLY MODULE the transport calls
 * for these, so the backend can be audited or swapped in one place.
 *
 * X25519 runs on Bun's native `node:crypto` (BoringSSL): about 45 µs per shared secret against
 * about 950 µs for tweetnacl's pure-JS scalar multiplication (scripts/bench-crypto.ts). Both
 * stay exported in `x25519Backends` so the benchmark and a cross-check test can compare them.
 *
 * XSalsa20-Poly1305 (every MESSAGE) runs on the secretbox backend installed with useSecretbox:
 * the agents install libsodium at startup (shared/sodium/install.ts loads the sodium-native
 * addon, which is file system work this pure folder does not do), chosen by measurement: 2.3×
 * tweetnacl's speed at 100 B, 5–9× at 1 KiB, 16–18× at 64 KiB (docs/PERFORMANCE.md). Bun has no
 * native XSalsa20 or Poly1305. Until something is installed, and where the addon cannot load,
 * tweetnacl (box-tweetnacl.ts) does the same work with the same bytes. HSalsa20, once per
 * handshake, is tweetnacl's on either backend.
 *
 * Not here: nonces, command layouts and state (curve-protocol.ts, curve-client.ts, …).
 */
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  randomFillSync,
} from "node:crypto";
import nacl from "tweetnacl";
import { AgentError, FaultCode, ProtocolError } from "../errors.ts";
import {
  type CryptoBackendInfo,
  SEAL_BOX_OFFSET,
  SEAL_PLAINTEXT_OFFSET,
  type SecretboxBackend,
} from "./box-backend.ts";
import { hsalsa20, tweetnaclBackend } from "./box-tweetnacl.ts";

export {
  type CryptoBackendInfo,
  SEAL_BOX_OFFSET,
  SEAL_PLAINTEXT_OFFSET,
} from "./box-backend.ts";

export const KEY_BYTES = 32;
export const NONCE_BYTES = 24;
/** Poly1305 authenticator prepended to every box (RFC 26 §2.2: a box is 16 bytes longer). */
export const BOX_OVERHEAD_BYTES = 16;

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/**
 * The randomness a CURVE mechanism consumes: transient key pairs (C'/c', S'/s') and random
 * bytes (cookie key K, nonce tails). Injected so a test can replay a fixed transcript.
 */
export interface CurveRandom {
  bytes(length: number): Uint8Array;
  keyPair(): KeyPair;
}

/** DER wrappers (RFC 8410) that turn 32 raw bytes into key objects node:crypto accepts. */
const PKCS8_X25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);
const SPKI_X25519_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00,
]);

function checkKey(bytes: Uint8Array, what: string): void {
  if (bytes.length !== KEY_BYTES) {
    throw new AgentError(
      FaultCode.INTERNAL,
      `curve: ${what} must be 32 bytes, was ${bytes.length}`,
    );
  }
}

function wrapDer(prefix: Uint8Array, key: Uint8Array): Buffer {
  const der = Buffer.alloc(prefix.length + key.length);
  der.set(prefix, 0);
  der.set(key, prefix.length);
  return der;
}

function nativePrivateKey(secret: Uint8Array): KeyObject {
  const der = wrapDer(PKCS8_X25519_PREFIX, secret);
  try {
    return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  } finally {
    der.fill(0);
  }
}

function exportRawPublic(key: KeyObject): Uint8Array {
  const der = key.export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(der.length - KEY_BYTES));
}

const native = {
  keyPair(): KeyPair {
    const { publicKey, privateKey } = generateKeyPairSync("x25519");
    const der = privateKey.export({ format: "der", type: "pkcs8" });
    const secretKey = new Uint8Array(der.subarray(der.length - KEY_BYTES));
    der.fill(0);
    return { publicKey: exportRawPublic(publicKey), secretKey };
  },

  publicFromSecret(secret: Uint8Array): Uint8Array {
    return exportRawPublic(createPublicKey(nativePrivateKey(secret)));
  },

  /** X25519(ourSecret, theirPublic); BoringSSL throws when the result is all zeros. */
  sharedSecret(theirPublic: Uint8Array, ourSecret: Uint8Array): Uint8Array {
    const publicKey = createPublicKey({
      key: wrapDer(SPKI_X25519_PREFIX, theirPublic),
      format: "der",
      type: "spki",
    });
    let shared: Buffer;
    try {
      shared = diffieHellman({ privateKey: nativePrivateKey(ourSecret), publicKey });
    } catch (error) {
      throw new ProtocolError("curve: X25519 refused the public key (low-order point)", {
        cause: error,
      });
    }
    const out = new Uint8Array(shared);
    shared.fill(0);
    return out;
  },
} as const;

const tweetnacl = {
  keyPair(): KeyPair {
    return nacl.box.keyPair();
  },
  publicFromSecret(secret: Uint8Array): Uint8Array {
    return nacl.scalarMult.base(secret);
  },
  sharedSecret(theirPublic: Uint8Array, ourSecret: Uint8Array): Uint8Array {
    return nacl.scalarMult(ourSecret, theirPublic);
  },
} as const;

export type X25519Backend = typeof native;

/** Both X25519 implementations, for scripts/bench-crypto.ts and the cross-check test only. */
export const x25519Backends: Readonly<Record<"native" | "tweetnacl", X25519Backend>> = {
  native,
  tweetnacl,
};

/** The backend in use: native, measured about 20× faster (see the file header). */
const x25519: X25519Backend = native;

/** A fresh X25519 key pair (raw 32-byte public and secret keys, as libsodium stores them). */
export function generateKeyPair(): KeyPair {
  return x25519.keyPair();
}

/** The public key of a secret key (`crypto_scalarmult_base`, libzmq `zmq_curve_public`). */
export function publicFromSecret(secret: Uint8Array): Uint8Array {
  checkKey(secret, "secret key");
  return x25519.publicFromSecret(secret);
}

/**
 * `crypto_box_beforenm(theirPublic, ourSecret)`: HSalsa20(X25519(ourSecret, theirPublic)) with a
 * zero input and sigma. The result keys every Box[...] between the two parties (RFC 26 §2.2);
 * equal to `nacl.box.before`. Throws ProtocolError when the shared secret is all zeros, which
 * only a low-order public key produces (libsodium refuses those too).
 */
export function precompute(theirPublic: Uint8Array, ourSecret: Uint8Array): Uint8Array {
  return precomputeWith(x25519, theirPublic, ourSecret);
}

/** `precompute` on an explicit backend (benchmark and cross-check). */
export function precomputeWith(
  backend: X25519Backend,
  theirPublic: Uint8Array,
  ourSecret: Uint8Array,
): Uint8Array {
  checkKey(theirPublic, "public key");
  checkKey(ourSecret, "secret key");
  const shared = backend.sharedSecret(theirPublic, ourSecret);
  if (isAllZero(shared)) {
    throw new ProtocolError("curve: X25519 shared secret is all zeros (low-order public key)");
  }
  const key = hsalsa20(shared);
  shared.fill(0);
  return key;
}

/** What runs every box until an agent installs its choice: the pure-JS backend, always there. */
const DEFAULT_SECRETBOX: {
  readonly backend: SecretboxBackend;
  readonly info: CryptoBackendInfo;
} = {
  backend: tweetnaclBackend,
  info: { secretbox: "tweetnacl", detail: "default: no backend installed", fallback: false },
};

let active = DEFAULT_SECRETBOX;

/**
 * Route every box of this process through `backend` from now on (the agents call this once at
 * startup, through shared/sodium/install.ts). Both backends produce the same bytes, so sessions
 * already open are unaffected. Returns what cryptoBackend() will report.
 */
export function useSecretbox(
  backend: SecretboxBackend,
  detail: string,
  fallback = false,
): CryptoBackendInfo {
  active = { backend, info: { secretbox: backend.name, detail, fallback } };
  return active.info;
}

/** The backend installed now, so that a test installing its own can put it back. */
export function installedSecretbox(): {
  readonly backend: SecretboxBackend;
  readonly info: CryptoBackendInfo;
} {
  return active;
}

/** Back to the pure-JS default (tests). */
export function resetSecretbox(): void {
  active = DEFAULT_SECRETBOX;
}

/** The secretbox backend in use and where it came from (logs, status, benchmarks). */
export function cryptoBackend(): CryptoBackendInfo {
  return active.info;
}

/**
 * `crypto_secretbox` in place: `buffer[32..]` holds the plaintext and `buffer[0..32]` is scratch
 * (its contents do not matter). On return `buffer[16..]` is the box, MAC(16) ‖ ciphertext, and
 * `buffer[0..16]` is zero, free for the caller's command header. One buffer, no copies: the
 * CURVE MESSAGE codec seals each part straight into the frame body it sends.
 */
export function sealInPlace(buffer: Uint8Array, nonce: Uint8Array, key: Uint8Array): void {
  checkNonceAndKey(nonce, key);
  if (buffer.length < SEAL_PLAINTEXT_OFFSET) {
    throw new AgentError(
      FaultCode.INTERNAL,
      `curve: seal buffer must be at least 32 bytes, was ${buffer.length}`,
    );
  }
  active.backend.sealInPlace(buffer, nonce, key);
}

/**
 * `crypto_secretbox(message, nonce, key)` (= `crypto_box_afternm` with a precomputed key):
 * returns MAC(16) ‖ ciphertext. With `headroom` (0..16) the result starts with that many zero
 * bytes the caller fills with a command header, which saves copying the box into the command.
 */
export function seal(
  message: Uint8Array,
  nonce: Uint8Array,
  key: Uint8Array,
  headroom = 0,
): Uint8Array {
  if (headroom < 0 || headroom > SEAL_BOX_OFFSET) {
    throw new AgentError(FaultCode.INTERNAL, `curve: seal headroom must be 0..16, was ${headroom}`);
  }
  // Backed by its own ArrayBuffer: on Bun, views of a fresh plain array (the backends take some)
  // first copy it to a new backing store
  const buffer = new Uint8Array(new ArrayBuffer(SEAL_PLAINTEXT_OFFSET + message.length));
  buffer.set(message, SEAL_PLAINTEXT_OFFSET);
  sealInPlace(buffer, nonce, key);
  return headroom === SEAL_BOX_OFFSET ? buffer : buffer.subarray(SEAL_BOX_OFFSET - headroom);
}

/**
 * `crypto_secretbox_open` of the box at `framed[16..]`, in place: the 16 bytes in front of the
 * box (a command header, for MESSAGE) are not part of it. On success `framed[32..]` is the
 * plaintext and true is returned; when the box does not authenticate, false, and `framed` is
 * unchanged. The MESSAGE codec opens each part where it arrived, so the part is a view and
 * nothing is allocated or copied.
 */
export function openInPlace(framed: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean {
  checkNonceAndKey(nonce, key);
  if (framed.length < SEAL_PLAINTEXT_OFFSET) return false;
  return active.backend.openInPlace(framed, nonce, key);
}

/**
 * openInPlace on a copy: returns a new buffer as long as `framed` with the plaintext at offset
 * 32 and zeros before it (the layout sealInPlace takes), or null when the box does not
 * authenticate; `framed` is not modified.
 */
export function openFramed(
  framed: Uint8Array,
  nonce: Uint8Array,
  key: Uint8Array,
): Uint8Array | null {
  const output = new Uint8Array(new ArrayBuffer(framed.length));
  output.set(framed);
  if (!openInPlace(output, nonce, key)) return null;
  output.fill(0, 0, SEAL_PLAINTEXT_OFFSET);
  return output;
}

/** `crypto_secretbox_open`: the plaintext, or null when the box does not authenticate. */
export function open(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null {
  checkNonceAndKey(nonce, key);
  if (box.length < BOX_OVERHEAD_BYTES) return null;
  const framed = new Uint8Array(new ArrayBuffer(SEAL_BOX_OFFSET + box.length));
  framed.set(box, SEAL_BOX_OFFSET);
  return openInPlace(framed, nonce, key) ? framed.subarray(SEAL_PLAINTEXT_OFFSET) : null;
}

function checkNonceAndKey(nonce: Uint8Array, key: Uint8Array): void {
  if (nonce.length !== NONCE_BYTES) {
    throw new AgentError(FaultCode.INTERNAL, `curve: nonce must be 24 bytes, was ${nonce.length}`);
  }
  checkKey(key, "box key");
}

/** Cryptographically secure random bytes. */
export function randomBytes(length: number): Uint8Array {
  return randomFillSync(new Uint8Array(length));
}

/** The production randomness: the system CSPRNG and native key generation. */
export const systemRandom: CurveRandom = { bytes: randomBytes, keyPair: generateKeyPair };

/** Equal length and contents, in time independent of where they differ. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number);
  return difference === 0;
}

/** All bytes zero, in time independent of the contents. */
export function isAllZero(bytes: Uint8Array): boolean {
  let accumulated = 0;
  for (let i = 0; i < bytes.length; i++) accumulated |= bytes[i] as number;
  return accumulated === 0;
}

/**
 * The canonical encodings (little-endian x < 2^255 − 19) of the Curve25519 points of small order
 * (curve and twist): 0, 1, the two x-coordinates of order 8, and p − 1. X25519 with any of them
 * gives a shared secret that does not depend on our secret (all zeros).
 */
const SMALL_ORDER_POINTS: readonly Uint8Array[] = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
].map((hex) => Uint8Array.from(Buffer.from(hex, "hex")));

/**
 * True for a public key we refuse (research §4.2, optional hardening that stays interoperable):
 * a low-order point (the shared secret would be all zeros) or a non-canonical encoding (top bit
 * set, or x ≥ 2^255 − 19), which libsodium never generates and which would let one key have
 * several spellings on an allow-list.
 */
export function isWeakPublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== KEY_BYTES) return true;
  if (((publicKey[31] as number) & 0x80) !== 0) return true;
  if (isNonCanonical(publicKey)) return true;
  let weak = false;
  for (const point of SMALL_ORDER_POINTS) weak = constantTimeEqual(publicKey, point) || weak;
  return weak;
}

/** x in [2^255 − 19, 2^255 − 1]: ed..ff ff..ff 7f (little-endian). */
function isNonCanonical(publicKey: Uint8Array): boolean {
  if (publicKey[31] !== 0x7f || (publicKey[0] as number) < 0xed) return false;
  for (let i = 1; i < 31; i++) if (publicKey[i] !== 0xff) return false;
  return true;
}
