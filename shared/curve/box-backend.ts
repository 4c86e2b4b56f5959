/**
 * What a secretbox backend provides to box.ts: XSalsa20-Poly1305 (NaCl `crypto_secretbox`) on the
 * buffer layout of NaCl's C API. Two implementations: tweetnacl in pure JS (box-tweetnacl.ts,
 * the default) and libsodium through the sodium-native addon (shared/sodium/loader.ts, which
 * loads it outside this pure folder and hands it to box.ts's useSecretbox). Both must produce
 * the same bytes; shared/sodium/install.test.ts checks them against each other and against known
 * answers.
 */

/**
 * The plaintext starts after 32 bytes of scratch (crypto_secretbox_ZEROBYTES) and the box (MAC ‖
 * ciphertext) after 16 (crypto_secretbox_BOXZEROBYTES). Building the box where it will be sent
 * avoids copying it into a command afterwards.
 */
export const SEAL_PLAINTEXT_OFFSET = 32;
/** Where the box starts in a buffer sealed by sealInPlace (and read by openFramed). */
export const SEAL_BOX_OFFSET = 16;

export const SECRETBOX_BACKEND_NAMES = ["sodium-native", "tweetnacl"] as const;
export type SecretboxBackendName = (typeof SECRETBOX_BACKEND_NAMES)[number];

/** Which secretbox backend a process uses, and why (for logs, status and benchmarks). */
export interface CryptoBackendInfo {
  readonly secretbox: SecretboxBackendName;
  /** Where the library came from, or why the addon was not used. */
  readonly detail: string;
  /** True when libsodium was wanted (`auto`) but did not load, so tweetnacl stands in. */
  readonly fallback: boolean;
}

export interface SecretboxBackend {
  readonly name: SecretboxBackendName;
  /**
   * `buffer[32..]` holds the plaintext; on return `buffer[16..]` is MAC(16) ‖ ciphertext and
   * `buffer[0..16]` is zero. Arguments are already checked by box.ts.
   */
  sealInPlace(buffer: Uint8Array, nonce: Uint8Array, key: Uint8Array): void;
  /**
   * Opens the box at `framed[16..]` (`framed.length >= 32`, checked by box.ts) where it lies: on
   * success `framed[32..]` holds the plaintext and `framed[0..32)` is as it was (header and MAC,
   * never keystream); on failure (the MAC does not verify) returns false and `framed` is
   * unchanged, so no unauthenticated plaintext is ever produced. Arguments are already checked.
   */
  openInPlace(framed: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean;
}
