/**
 * The crypto backend: NaCl known answers, native X25519 against tweetnacl, secretbox behaviour
 * (on whichever backend the test preload installed), the weak-key filter, and the wrapper's
 * routing of every box through the installed backend (with backends made here, no library).
 */
import { afterEach, describe, expect, test } from "bun:test";
import nacl from "tweetnacl";
import { ProtocolError } from "../errors.ts";
import {
  constantTimeEqual,
  cryptoBackend,
  generateKeyPair,
  installedSecretbox,
  isAllZero,
  isWeakPublicKey,
  open,
  openFramed,
  openInPlace,
  precompute,
  precomputeWith,
  publicFromSecret,
  randomBytes,
  resetSecretbox,
  seal,
  sealInPlace,
  useSecretbox,
  x25519Backends,
} from "./box.ts";
import type { SecretboxBackend } from "./box-backend.ts";
import { tweetnaclBackend } from "./box-tweetnacl.ts";
import { CLIENT_KEYS, hex, range, SERVER_KEYS } from "./testing/fixtures.ts";

const fromHex = (value: string): Uint8Array => Uint8Array.from(Buffer.from(value, "hex"));

/** "Cryptography in NaCl" (Bernstein), section 5: Alice's secret, Bob's public, their box key. */
const NACL = {
  aliceSecret: fromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
  alicePublic: fromHex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"),
  bobPublic: fromHex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"),
  sharedSecret: "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
  boxKey: "1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389",
};

const SMALL_ORDER = [
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0100000000000000000000000000000000000000000000000000000000000000",
  "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
  "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
];

describe("X25519 and crypto_box_beforenm", () => {
  test("NaCl known answers: public key, X25519 shared secret and box key", () => {
    expect(hex(publicFromSecret(NACL.aliceSecret))).toBe(hex(NACL.alicePublic));
    for (const backend of Object.values(x25519Backends)) {
      expect(hex(backend.sharedSecret(NACL.bobPublic, NACL.aliceSecret))).toBe(NACL.sharedSecret);
      expect(hex(precomputeWith(backend, NACL.bobPublic, NACL.aliceSecret))).toBe(NACL.boxKey);
    }
    expect(hex(precompute(NACL.bobPublic, NACL.aliceSecret))).toBe(NACL.boxKey);
  });

  test("native and tweetnacl agree on random keys, and both sides derive one key", () => {
    for (let i = 0; i < 5; i++) {
      const a = generateKeyPair();
      const b = x25519Backends.tweetnacl.keyPair();
      expect(hex(x25519Backends.tweetnacl.publicFromSecret(a.secretKey))).toBe(hex(a.publicKey));
      expect(hex(publicFromSecret(b.secretKey))).toBe(hex(b.publicKey));
      const native = precomputeWith(x25519Backends.native, b.publicKey, a.secretKey);
      const nacl = precomputeWith(x25519Backends.tweetnacl, b.publicKey, a.secretKey);
      expect(hex(native)).toBe(hex(nacl));
      expect(hex(precompute(a.publicKey, b.secretKey))).toBe(hex(native));
    }
  });

  test("generateKeyPair returns raw 32-byte keys that belong together, fresh each time", () => {
    const first = generateKeyPair();
    const second = generateKeyPair();
    expect(first.publicKey.length).toBe(32);
    expect(first.secretKey.length).toBe(32);
    expect(hex(publicFromSecret(first.secretKey))).toBe(hex(first.publicKey));
    expect(hex(first.secretKey)).not.toBe(hex(second.secretKey));
  });

  test("keys of the wrong length are refused", () => {
    expect(() => publicFromSecret(new Uint8Array(31))).toThrow(
      /secret key must be 32 bytes, was 31/,
    );
    expect(() => precompute(new Uint8Array(33), CLIENT_KEYS.secretKey)).toThrow(/was 33/);
  });

  test("a low-order public key makes precompute throw on either backend", () => {
    for (const point of SMALL_ORDER) {
      for (const backend of Object.values(x25519Backends)) {
        expect(() => precomputeWith(backend, fromHex(point), SERVER_KEYS.secretKey)).toThrow(
          ProtocolError,
        );
      }
    }
  });
});

describe("isWeakPublicKey", () => {
  test("flags every small-order point, each of which really yields an all-zero secret", () => {
    for (const point of SMALL_ORDER) {
      const key = fromHex(point);
      expect(isWeakPublicKey(key)).toBe(true);
      const shared = x25519Backends.tweetnacl.sharedSecret(key, generateKeyPair().secretKey);
      expect(isAllZero(shared)).toBe(true);
    }
  });

  test("flags non-canonical encodings: top bit set, or x ≥ 2^255 − 19", () => {
    const topBit = CLIENT_KEYS.publicKey.slice();
    topBit[31] = (topBit[31] as number) | 0x80;
    expect(isWeakPublicKey(topBit)).toBe(true);
    for (const low of [0xed, 0xee, 0xff]) {
      const key = new Uint8Array(32).fill(0xff);
      key[0] = low;
      key[31] = 0x7f;
      expect(isWeakPublicKey(key)).toBe(true);
    }
    expect(isWeakPublicKey(new Uint8Array(31))).toBe(true);
  });

  test("accepts real keys", () => {
    expect(isWeakPublicKey(CLIENT_KEYS.publicKey)).toBe(false);
    expect(isWeakPublicKey(SERVER_KEYS.publicKey)).toBe(false);
    for (let i = 0; i < 20; i++) expect(isWeakPublicKey(generateKeyPair().publicKey)).toBe(false);
    const belowP = new Uint8Array(32).fill(0xff);
    belowP[0] = 0xeb; // p − 2, canonical and not small-order
    belowP[31] = 0x7f;
    expect(isWeakPublicKey(belowP)).toBe(false);
  });
});

describe("secretbox", () => {
  const key = range(0x41, 32);
  const nonce = range(0x01, 24);
  const message = new TextEncoder().encode("CurveZMQ");

  test("seal adds 16 bytes and open recovers the message", () => {
    const box = seal(message, nonce, key);
    expect(box.length).toBe(message.length + 16);
    expect(open(box, nonce, key)).toEqual(message);
    expect(open(seal(new Uint8Array(0), nonce, key), nonce, key)).toEqual(new Uint8Array(0));
  });

  test("headroom leaves zero bytes before an identical box", () => {
    const plain = seal(message, nonce, key);
    for (const headroom of [0, 5, 16]) {
      const roomy = seal(message, nonce, key, headroom);
      expect(roomy.length).toBe(headroom + plain.length);
      expect(isAllZero(roomy.subarray(0, headroom))).toBe(true);
      expect(hex(roomy.subarray(headroom))).toBe(hex(plain));
    }
    expect(() => seal(message, nonce, key, 17)).toThrow(/headroom/);
  });

  test("a flipped bit, another nonce, another key or a short box does not open", () => {
    const box = seal(message, nonce, key);
    for (let i = 0; i < box.length; i++) {
      const tampered = box.slice();
      tampered[i] = (tampered[i] as number) ^ 0x80;
      expect(open(tampered, nonce, key)).toBeNull();
    }
    expect(open(box, range(0x02, 24), key)).toBeNull();
    expect(open(box, nonce, range(0x42, 32))).toBeNull();
    expect(open(box.subarray(0, 15), nonce, key)).toBeNull();
  });

  test("nonces and keys of the wrong length are programming errors", () => {
    expect(() => seal(message, new Uint8Array(23), key)).toThrow(/nonce must be 24 bytes, was 23/);
    expect(() => open(message, nonce, new Uint8Array(16))).toThrow(/box key must be 32 bytes/);
  });
});

describe("in-place secretbox (the MESSAGE hot path)", () => {
  const key = range(0x41, 32);
  const nonce = range(0x01, 24);
  const SIZES = [0, 1, 15, 16, 31, 32, 33, 63, 64, 65, 100, 255, 1024, 4097];

  /** header(16) ‖ nacl.secretbox(message): the layout sealInPlace leaves once a header is added */
  function framedReference(message: Uint8Array, header: Uint8Array): Uint8Array {
    const box = nacl.secretbox(message, nonce, key);
    const framed = new Uint8Array(16 + box.length);
    framed.set(header, 0);
    framed.set(box, 16);
    return framed;
  }

  test("sealInPlace leaves 16 zero bytes then exactly nacl.secretbox's box, whatever the scratch held", () => {
    for (const size of SIZES) {
      const message = randomBytes(size);
      const buffer = new Uint8Array(32 + size).fill(0xee);
      buffer.set(message, 32);
      sealInPlace(buffer, nonce, key);
      expect(isAllZero(buffer.subarray(0, 16))).toBe(true);
      expect(hex(buffer.subarray(16))).toBe(hex(nacl.secretbox(message, nonce, key)));
    }
    expect(() => sealInPlace(new Uint8Array(31), nonce, key)).toThrow(/at least 32 bytes/);
  });

  test("openFramed recovers nacl.secretbox's plaintext after 32 zeros, ignores the header, keeps its input", () => {
    for (const size of SIZES) {
      const message = randomBytes(size);
      const framed = framedReference(message, randomBytes(16));
      const before = hex(framed);
      const opened = openFramed(framed, nonce, key) as Uint8Array;
      expect(opened.length).toBe(framed.length);
      expect(isAllZero(opened.subarray(0, 32))).toBe(true);
      expect(hex(opened.subarray(32))).toBe(hex(message));
      expect(hex(framed)).toBe(before);
    }
  });

  test("openFramed refuses a flipped bit anywhere in the box, another nonce or key, or a short input", () => {
    const framed = framedReference(randomBytes(100), new Uint8Array(16));
    for (let i = 16; i < framed.length; i++) {
      const tampered = framed.slice();
      tampered[i] = (tampered[i] as number) ^ 0x01;
      expect(openFramed(tampered, nonce, key)).toBeNull();
    }
    expect(openFramed(framed, range(0x02, 24), key)).toBeNull();
    expect(openFramed(framed, nonce, range(0x42, 32))).toBeNull();
    expect(openFramed(framed.subarray(0, 31), nonce, key)).toBeNull();
  });

  test("what sealInPlace seals, openFramed opens (random sizes)", () => {
    for (let round = 0; round < 50; round++) {
      const message = randomBytes(Math.floor(Math.random() * 2048));
      const buffer = new Uint8Array(32 + message.length);
      buffer.set(message, 32);
      sealInPlace(buffer, nonce, key);
      buffer.set(randomBytes(16), 0);
      expect(hex((openFramed(buffer, nonce, key) as Uint8Array).subarray(32))).toBe(hex(message));
    }
  });
});

describe("helpers", () => {
  test("constantTimeEqual and isAllZero", () => {
    expect(constantTimeEqual(range(1, 8), range(1, 8))).toBe(true);
    expect(constantTimeEqual(range(1, 8), range(2, 8))).toBe(false);
    expect(constantTimeEqual(range(1, 8), range(1, 7))).toBe(false);
    expect(isAllZero(new Uint8Array(64))).toBe(true);
    const almost = new Uint8Array(64);
    almost[63] = 1;
    expect(isAllZero(almost)).toBe(false);
  });

  test("randomBytes returns the requested length, different each time", () => {
    expect(randomBytes(0).length).toBe(0);
    expect(randomBytes(100_000).length).toBe(100_000);
    expect(hex(randomBytes(32))).not.toBe(hex(randomBytes(32)));
  });
});

describe("the installed secretbox backend", () => {
  // Put back what the preload installed, so later files box as before
  const installed = installedSecretbox();
  afterEach(() => {
    useSecretbox(installed.backend, installed.info.detail, installed.info.fallback);
  });

  /** tweetnacl, counting the calls that reach it. */
  function counting() {
    const calls = { seal: 0, open: 0 };
    const backend: SecretboxBackend = {
      name: "tweetnacl",
      sealInPlace(buffer, nonce, key) {
        calls.seal++;
        tweetnaclBackend.sealInPlace(buffer, nonce, key);
      },
      openInPlace(framed, nonce, key) {
        calls.open++;
        return tweetnaclBackend.openInPlace(framed, nonce, key);
      },
    };
    return { backend, calls };
  }

  test("every seal and open goes through the backend installed last", () => {
    const key = range(0x41, 32);
    const nonce = range(0x01, 24);
    const { backend, calls } = counting();
    expect(useSecretbox(backend, "counting")).toEqual({
      secretbox: "tweetnacl",
      detail: "counting",
      fallback: false,
    });
    expect(cryptoBackend().detail).toBe("counting");
    const box = seal(range(7, 40), nonce, key);
    expect(open(box, nonce, key)).toEqual(range(7, 40));
    const buffer = new Uint8Array(32 + 5);
    sealInPlace(buffer, nonce, key);
    expect(openInPlace(buffer, nonce, key)).toBe(true);
    expect(openFramed(buffer, nonce, key)).toBeNull(); // already opened: no longer a box
    expect(calls).toEqual({ seal: 2, open: 3 });
  });

  test("argument checks come before the backend: a bad nonce, key or buffer never reaches it", () => {
    const { backend, calls } = counting();
    useSecretbox(backend, "counting");
    expect(() => seal(new Uint8Array(1), new Uint8Array(23), range(1, 32))).toThrow(/nonce/);
    expect(() => sealInPlace(new Uint8Array(31), range(1, 24), range(1, 32))).toThrow(/32 bytes/);
    expect(open(new Uint8Array(15), range(1, 24), range(1, 32))).toBeNull();
    expect(openInPlace(new Uint8Array(31), range(1, 24), range(1, 32))).toBe(false);
    expect(calls).toEqual({ seal: 0, open: 0 });
  });

  test("with nothing installed, tweetnacl boxes and says so", () => {
    resetSecretbox();
    expect(cryptoBackend()).toEqual({
      secretbox: "tweetnacl",
      detail: "default: no backend installed",
      fallback: false,
    });
    const key = range(0x41, 32);
    const nonce = range(0x01, 24);
    expect(hex(seal(range(3, 10), nonce, key))).toBe(hex(nacl.secretbox(range(3, 10), nonce, key)));
  });
});
