/** Z85 (RFC 32): the RFC vector, the zmq_curve(7) keys, and what libzmq's decoder refuses. */
import { describe, expect, test } from "bun:test";
import { AgentError } from "../errors.ts";
import { generateKeyPair, randomBytes } from "./box.ts";
import { CLIENT_KEYS, hex, TEST_KEYS_Z85 } from "./testing/fixtures.ts";
import { fingerprint, z85Decode, z85DecodeKey, z85Encode } from "./z85.ts";

const RFC_BYTES = Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);

describe("z85", () => {
  test("RFC 32 test vector: 86 4F D2 6F B5 59 F7 5B ↔ HelloWorld", () => {
    expect(z85Encode(RFC_BYTES)).toBe("HelloWorld");
    expect(z85Decode("HelloWorld")).toEqual(RFC_BYTES);
  });

  test("the zmq_curve(7) test keys round-trip as 32 bytes", () => {
    for (const text of Object.values(TEST_KEYS_Z85)) {
      const bytes = z85DecodeKey(text);
      expect(bytes.length).toBe(32);
      expect(z85Encode(bytes)).toBe(text);
    }
    expect(hex(z85Decode(TEST_KEYS_Z85.serverPublic))).toBe(
      "54fcba24e93249969316fb617c872bb0c1d1ff14800427c594cbfacf1bc2d652",
    );
    expect(hex(z85Decode(TEST_KEYS_Z85.clientPublic))).toBe(
      "bb88471d65e2659b30c55a5321cebb5aab2b70a398645c26dca2b2fcb43fc518",
    );
  });

  test("extremes and random data round-trip", () => {
    expect(z85Encode(new Uint8Array(4))).toBe("00000");
    expect(z85Encode(new Uint8Array(4).fill(0xff))).toBe("%nSc0");
    expect(z85Decode("%nSc0")).toEqual(new Uint8Array(4).fill(0xff));
    expect(z85Encode(new Uint8Array(0))).toBe("");
    for (let i = 0; i < 20; i++) {
      const bytes = randomBytes(4 * (i + 1));
      expect(z85Decode(z85Encode(bytes))).toEqual(bytes);
    }
  });

  test.each([1, 2, 3, 5, 31, 33])("encode refuses %i bytes (not a multiple of 4)", (length) => {
    expect(() => z85Encode(new Uint8Array(length))).toThrow(`multiple of 4, was ${length}`);
  });

  test.each(["Hell", "HelloWorld!", "x"])(
    "decode refuses %p (length not a multiple of 5)",
    (text) => {
      expect(() => z85Decode(text)).toThrow(`multiple of 5, was ${text.length}`);
    },
  );

  test.each([
    ["space", "Hel o"],
    ["double quote", 'Hel"o'],
    ["backslash", "Hel\\o"],
    ["comma", "Hel,o"],
    ["tilde", "Hel~o"],
    ["non-ASCII", "Hellé"],
    ["NUL", "Hel\u0000o"],
  ])("decode refuses a %s", (_name, text) => {
    expect(text.length).toBe(5);
    const attempt = () => z85Decode(text);
    expect(attempt).toThrow(AgentError);
    expect(attempt).toThrow(/outside the alphabet at position \d/);
  });

  test("decode refuses 5-character groups above 0xFFFFFFFF, as libzmq does", () => {
    expect(() => z85Decode("%nSc1")).toThrow(/exceeds 32 bits/);
    expect(() => z85Decode("#####")).toThrow(/exceeds 32 bits/);
    expect(() => z85Decode(`00000${"%%%%%"}`)).toThrow(/group at position 5/);
  });

  test("z85DecodeKey requires exactly 40 characters", () => {
    expect(() => z85DecodeKey(TEST_KEYS_Z85.clientPublic.slice(0, 35))).toThrow(
      "curve: a z85 key must be 40 characters, was 35",
    );
    expect(() => z85DecodeKey(`${TEST_KEYS_Z85.clientPublic}00000`)).toThrow(/was 45/);
  });
});

describe("fingerprint", () => {
  test("is the first 8 Z85 characters of the public key", () => {
    expect(fingerprint(CLIENT_KEYS.publicKey)).toBe("Yne@$w-v");
    const keys = generateKeyPair();
    expect(z85Encode(keys.publicKey)).toStartWith(fingerprint(keys.publicKey));
    expect(fingerprint(new Uint8Array(3))).toBe("<3-byte key>");
  });
});
