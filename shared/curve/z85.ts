/**
 * Z85 (ZeroMQ RFC 32): the base-85 text form of CURVE keys in key files, config and logs.
 *
 * Pure. Encoding takes a multiple of 4 bytes, decoding a multiple of 5 characters; the decoder
 * refuses what libzmq's `zmq_z85_decode` refuses (bad length, characters outside the alphabet,
 * 5-character groups whose value exceeds 0xFFFFFFFF), so a key libzmq rejects is rejected here.
 */
import { AgentError, FaultCode } from "../errors.ts";

/** RFC 32 §3: the 85 characters, in digit order. */
const ALPHABET =
  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/** A 32-byte CURVE key is 40 Z85 characters. */
export const Z85_KEY_LENGTH = 40;

const ASCII = new TextDecoder();
const ENCODE = new Uint8Array(85);
const DECODE = new Int8Array(128).fill(-1);
for (let digit = 0; digit < ALPHABET.length; digit++) {
  const code = ALPHABET.charCodeAt(digit);
  ENCODE[digit] = code;
  DECODE[code] = digit;
}

/** RFC 32 §3: each 4 bytes, read big-endian, become 5 digits, most significant first. */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) {
    throw new AgentError(
      FaultCode.INTERNAL,
      `curve: z85 input length must be a multiple of 4, was ${bytes.length}`,
    );
  }
  const out = new Uint8Array((bytes.length / 4) * 5);
  let o = 0;
  for (let i = 0; i < bytes.length; i += 4) {
    // Unsigned 32-bit value; `>>> 0` keeps it positive when the top bit is set
    let value =
      (((bytes[i] as number) << 24) |
        ((bytes[i + 1] as number) << 16) |
        ((bytes[i + 2] as number) << 8) |
        (bytes[i + 3] as number)) >>>
      0;
    for (let d = 4; d >= 0; d--) {
      out[o + d] = ENCODE[value % 85] as number;
      value = Math.floor(value / 85);
    }
    o += 5;
  }
  return ASCII.decode(out);
}

/** Decode Z85 text; throws AgentError KEY_FILE_INVALID saying what is wrong with the text. */
export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0) {
    throw new AgentError(
      FaultCode.KEY_FILE_INVALID,
      `curve: z85 text length must be a multiple of 5, was ${text.length}`,
    );
  }
  const out = new Uint8Array((text.length / 5) * 4);
  let o = 0;
  for (let i = 0; i < text.length; i += 5) {
    let value = 0;
    for (let j = i; j < i + 5; j++) {
      const code = text.charCodeAt(j);
      const digit = code < 128 ? (DECODE[code] as number) : -1;
      if (digit < 0) {
        throw new AgentError(
          FaultCode.KEY_FILE_INVALID,
          `curve: z85 text has a character outside the alphabet at position ${j}, was ${JSON.stringify(text[j])}`,
        );
      }
      value = value * 85 + digit;
    }
    // 85^5 > 2^32: "%%%%%" and friends do not fit a 32-bit group (libzmq rejects them too)
    if (value > 0xffffffff) {
      throw new AgentError(
        FaultCode.KEY_FILE_INVALID,
        `curve: z85 group at position ${i} exceeds 32 bits, was ${JSON.stringify(text.slice(i, i + 5))}`,
      );
    }
    out[o] = value >>> 24;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
    o += 4;
  }
  return out;
}

/** Decode a 40-character Z85 CURVE key into its 32 bytes. */
export function z85DecodeKey(text: string): Uint8Array {
  if (text.length !== Z85_KEY_LENGTH) {
    throw new AgentError(
      FaultCode.KEY_FILE_INVALID,
      `curve: a z85 key must be ${Z85_KEY_LENGTH} characters, was ${text.length}`,
    );
  }
  return z85Decode(text);
}

/** Z85 characters in a fingerprint. */
export const FINGERPRINT_LENGTH = 8;

/**
 * A short, log-safe name for a public key: its first 8 Z85 characters. Chosen over a hash so
 * an operator can find the key in a `*.key` file or an allow-list with plain grep; 8 characters
 * carry about 51 bits, enough to tell a handful of keys apart (it is not a security check).
 */
export function fingerprint(publicKey: Uint8Array): string {
  if (publicKey.length % 4 !== 0 || publicKey.length === 0) return `<${publicKey.length}-byte key>`;
  return z85Encode(publicKey).slice(0, FINGERPRINT_LENGTH);
}
