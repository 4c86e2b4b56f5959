/**
 * Test-only: BridgeAuth.mqh line by line, the executable model of the EA's half of the link
 * authentication (EA-LINK §6.1). HMAC-SHA256 is built by hand on a plain SHA-256 (node:crypto's
 * createHash standing in for CryptEncode(CRYPT_HASH_SHA256)), as the EA builds it, rather than
 * taken from createHmac as the gateway does, so the RFC 4231 known-answer tests check the EA's
 * construction and the link tests check the two against each other.
 */
import { createHash } from "node:crypto";

export const AUTH_BLOCK_BYTES = 64;
export const AUTH_HASH_BYTES = 32;
export const AUTH_PROTO = 2;
export const AUTH_GW_LABEL = "mt5-bridge ea-link v2 gateway";
export const AUTH_EA_LABEL = "mt5-bridge ea-link v2 ea";
export const AUTH_NONCE_LABEL = "mt5-bridge ea-link v2 nonce";
export const SECRET_MIN_CHARS = 32;
export const SECRET_MAX_CHARS = 256;

/** AuthAscii: one byte per character (callers pass ASCII only). */
export function authAscii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** AuthHex: lowercase, two digits a byte. */
export function authHex(bytes: Uint8Array): string {
  const digits = "0123456789abcdef";
  let out = "";
  for (const b of bytes) out += digits[b >> 4] + (digits[b & 15] as string);
  return out;
}

/** AuthSha256: CryptEncode(CRYPT_HASH_SHA256, data, <empty key>, digest). */
export function authSha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(data).digest());
}

/** AuthHmac: RFC 2104 with a 64-byte block; a longer key is hashed first. */
export function authHmac(key: Uint8Array, msg: Uint8Array): Uint8Array {
  const block = new Uint8Array(AUTH_BLOCK_BYTES);
  if (key.length > AUTH_BLOCK_BYTES) block.set(authSha256(key));
  else block.set(key);
  const inner = new Uint8Array(AUTH_BLOCK_BYTES + msg.length);
  for (let i = 0; i < AUTH_BLOCK_BYTES; i++) inner[i] = (block[i] as number) ^ 0x36;
  inner.set(msg, AUTH_BLOCK_BYTES);
  const innerHash = authSha256(inner);
  const outer = new Uint8Array(AUTH_BLOCK_BYTES + AUTH_HASH_BYTES);
  for (let i = 0; i < AUTH_BLOCK_BYTES; i++) outer[i] = (block[i] as number) ^ 0x5c;
  outer.set(innerHash, AUTH_BLOCK_BYTES);
  return authSha256(outer);
}

export function authHmacHex(secret: string, message: string): string {
  return authHex(authHmac(authAscii(secret), authAscii(message)));
}

/** AuthSelfTest: RFC 4231 test cases 2 and 6, as OnInit runs them. */
export function authSelfTest(): boolean {
  const case2 = authHmac(authAscii("Jefe"), authAscii("what do ya want for nothing?"));
  if (authHex(case2) !== "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") {
    return false;
  }
  const case6 = authHmac(
    new Uint8Array(131).fill(0xaa),
    authAscii("Test Using Larger Than Block-Size Key - Hash Key First"),
  );
  return authHex(case6) === "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
}

/** AuthSecretValid: 32–256 printable ASCII characters, no spaces. */
export function authSecretValid(s: string): boolean {
  if (s.length < SECRET_MIN_CHARS || s.length > SECRET_MAX_CHARS) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

/** What AuthNewNonce reads from the terminal: wall clock, uptime, program microseconds, MathRand. */
export interface NonceInputs {
  readonly timeLocalS: number;
  readonly tickCountMs: number;
  readonly microseconds: number;
  readonly rand: number;
}

/** AuthNewNonce's state: the counter and the previous nonce. */
export class NonceSource {
  #count = 0;
  #last = "";

  next(secret: string, inputs: NonceInputs): string {
    this.#count += 1;
    const seed = [
      AUTH_NONCE_LABEL,
      Math.floor(inputs.timeLocalS),
      Math.floor(inputs.tickCountMs),
      Math.floor(inputs.microseconds),
      this.#count,
      inputs.rand,
      this.#last,
    ].join("|");
    this.#last = authHmacHex(secret, seed);
    return this.#last;
  }
}

export function authProof(secret: string, label: string, eaNonce: string, gwNonce: string): string {
  return authHmacHex(secret, `${label}|${eaNonce}|${gwNonce}`);
}

/** AuthIsHex256: 64 lowercase hex characters. */
export function authIsHex256(s: string | undefined): s is string {
  return s !== undefined && /^[0-9a-f]{64}$/.test(s);
}

/** AuthEqual: every character compared whatever the first difference. */
export function authEqual(a: string, b: string): boolean {
  if (a.length !== b.length || a.length === 0) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
