/**
 * The pure-JS secretbox backend: tweetnacl 1.0.3's C-style primitives on NaCl's buffer layout.
 * box.ts's default; an agent keeps it when the libsodium addon cannot load (shared/sodium/loader.ts
 * says why) or when AGENT_CRYPTO_BACKEND=tweetnacl asks for it. About 10× slower than libsodium
 * per KiB (docs/PERFORMANCE.md), but it runs wherever Bun runs.
 */
import nacl from "tweetnacl";
import { SEAL_BOX_OFFSET, SEAL_PLAINTEXT_OFFSET, type SecretboxBackend } from "./box-backend.ts";

/** tweetnacl's C-style primitives; present at runtime but absent from its type definitions. */
interface NaclLowLevel {
  crypto_core_hsalsa20(
    out: Uint8Array,
    input: Uint8Array,
    key: Uint8Array,
    sigma: Uint8Array,
  ): void;
  crypto_secretbox(
    c: Uint8Array,
    m: Uint8Array,
    length: number,
    n: Uint8Array,
    k: Uint8Array,
  ): number;
  /** XSalsa20 keystream: c[cpos..cpos+length] = stream(n, k)[0..length]. */
  crypto_stream(c: Uint8Array, cpos: number, length: number, n: Uint8Array, k: Uint8Array): number;
  /** XSalsa20 keystream XOR: c[cpos..] = m[mpos..] ^ stream(n, k), `length` bytes. */
  crypto_stream_xor(
    c: Uint8Array,
    cpos: number,
    m: Uint8Array,
    mpos: number,
    length: number,
    n: Uint8Array,
    k: Uint8Array,
  ): number;
  /** 0 when h[hpos..hpos+16] is the Poly1305 MAC of m[mpos..mpos+length] under k[0..32]. */
  crypto_onetimeauth_verify(
    h: Uint8Array,
    hpos: number,
    m: Uint8Array,
    mpos: number,
    length: number,
    k: Uint8Array,
  ): number;
}
const lowlevel = (nacl as unknown as { readonly lowlevel: NaclLowLevel }).lowlevel;

/** "expand 32-byte k": the Salsa20 constant crypto_box_beforenm feeds HSalsa20 */
const SIGMA = new TextEncoder().encode("expand 32-byte k");
const ZERO_16 = new Uint8Array(16);

/**
 * HSalsa20(key = shared, input = 16 zero bytes, constant "expand 32-byte k"): the second half of
 * crypto_box_beforenm, once per handshake, so always from tweetnacl (sodium-native does not
 * export crypto_core_hsalsa20). Returns a new 32-byte key.
 */
export function hsalsa20(shared: Uint8Array): Uint8Array {
  const key = new Uint8Array(32);
  lowlevel.crypto_core_hsalsa20(key, ZERO_16, shared, SIGMA);
  return key;
}

export const tweetnaclBackend: SecretboxBackend = {
  name: "tweetnacl",

  sealInPlace(buffer: Uint8Array, nonce: Uint8Array, key: Uint8Array): void {
    // The first 32 bytes of the keystream become the Poly1305 key only if the plaintext in front
    // is zero, so clear the scratch. Input and output may alias: tweetnacl XORs byte by byte and
    // reads the one-time key before it writes the MAC.
    buffer.fill(0, 0, SEAL_PLAINTEXT_OFFSET);
    lowlevel.crypto_secretbox(buffer, buffer, buffer.length, nonce, key);
  },

  /**
   * Verify, then decrypt in place: the Poly1305 key is keystream bytes 0..31 (NaCl secretbox), so
   * it is computed first and the MAC checked in constant time before anything is written. Then
   * one XSalsa20 pass over the whole buffer from byte 0 (tweetnacl cannot start at block 0 byte
   * 32) turns bytes 32.. into the plaintext, and bytes 0..31 get their header and MAC back: XORed
   * with the keystream they would reveal the one-time key, and libsodium leaves them as they were.
   */
  openInPlace(framed: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean {
    const oneTimeKey = new Uint8Array(32);
    lowlevel.crypto_stream(oneTimeKey, 0, 32, nonce, key);
    const verified = lowlevel.crypto_onetimeauth_verify(
      framed,
      SEAL_BOX_OFFSET,
      framed,
      SEAL_PLAINTEXT_OFFSET,
      framed.length - SEAL_PLAINTEXT_OFFSET,
      oneTimeKey,
    );
    oneTimeKey.fill(0);
    if (verified !== 0) return false;
    const front = framed.slice(0, SEAL_PLAINTEXT_OFFSET);
    lowlevel.crypto_stream_xor(framed, 0, framed, 0, framed.length, nonce, key);
    framed.set(front, 0);
    return true;
  },
};
