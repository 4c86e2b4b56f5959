/**
 * Ed25519 order signatures (DESIGN §5): agent-inf signs the exact request bytes, agent-gtw checks
 * signature, key, gateway name, freshness and replay before anything executes.
 *
 * Native node:crypto (sign ≈ 14 µs, verify ≈ 50 µs here; tweetnacl is 100× slower). Keys are raw
 * 32-byte values on the outside and KeyObjects built once on the inside. Not the CURVE transport
 * keys: those live in shared/curve and are separate key pairs.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import type { Clock } from "../clock.ts";
import { AgentError, FaultCode } from "../errors.ts";
import { checkKeyId, describeValue } from "./checks.ts";
import { ReplayCache } from "./replay-cache.ts";
import { SIGNATURE_BYTES, type SignatureWindowInfo, type SignedRequest } from "./types.ts";

export const SIGNING_KEY_BYTES = 32;
/** How long a signed request stays valid after its ts (DESIGN §5). */
export const DEFAULT_SIGNATURE_TTL_MS = 2000;
/** Clock difference tolerated between the hosts, both ways. */
export const DEFAULT_CLOCK_SKEW_MS = 500;
/** The largest TTL and skew a gateway may be configured with (agent-gtw's `signatures`). */
export const MAX_SIGNATURE_TTL_MS = 60_000;
export const MAX_CLOCK_SKEW_MS = 60_000;
/**
 * No gateway accepts a signed request older than this, whatever its config: an order whose
 * outcome is unknown and that the gateway has not seen this long after it was last signed can
 * never execute (agent-inf's exposure ledger releases it then).
 */
export const MAX_SIGNED_REQUEST_AGE_MS = MAX_SIGNATURE_TTL_MS + MAX_CLOCK_SKEW_MS;
/** Far above 2,000 orders/s × the ~3 s window; about 10 MB when full. */
export const DEFAULT_MAX_REPLAY_ENTRIES = 100_000;

// DER wrappers that turn a raw Ed25519 key into PKCS#8 / SPKI (RFC 8410): fixed prefixes.
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export interface SigningKeyPair {
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Raw 32-byte Ed25519 seed (RFC 8032 private key). Keep it secret. */
  readonly secretKey: Uint8Array;
}

function keyFault(message: string): AgentError {
  return new AgentError(FaultCode.KEY_FILE_INVALID, `signing: ${message}`);
}

function privateKeyObject(secretKey: Uint8Array): KeyObject {
  if (secretKey.length !== SIGNING_KEY_BYTES) {
    throw keyFault(`secret key must be ${SIGNING_KEY_BYTES} bytes, was ${secretKey.length}`);
  }
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, secretKey]),
    format: "der",
    type: "pkcs8",
  });
}

function publicKeyObject(publicKey: Uint8Array, keyId: string): KeyObject {
  if (publicKey.length !== SIGNING_KEY_BYTES) {
    throw keyFault(
      `public key ${keyId} must be ${SIGNING_KEY_BYTES} bytes, was ${publicKey.length}`,
    );
  }
  try {
    return createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, publicKey]),
      format: "der",
      type: "spki",
    });
  } catch (cause) {
    throw new AgentError(FaultCode.KEY_FILE_INVALID, `signing: public key ${keyId} is invalid`, {
      cause,
    });
  }
}

function rawPublicKey(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: "jwk" });
  if (typeof jwk.x !== "string") throw keyFault("could not export the public key");
  return new Uint8Array(Buffer.from(jwk.x, "base64url"));
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  if (typeof jwk.d !== "string") throw keyFault("could not export the generated secret key");
  return {
    publicKey: rawPublicKey(publicKey),
    secretKey: new Uint8Array(Buffer.from(jwk.d, "base64url")),
  };
}

/** The public key that belongs to a 32-byte secret key. */
export function signingPublicKey(secretKey: Uint8Array): Uint8Array {
  return rawPublicKey(createPublicKey(privateKeyObject(secretKey)));
}

export interface Signer {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  /** The 64-byte Ed25519 signature over exactly `bytes` (the encoded request frame). */
  sign(bytes: Uint8Array): Uint8Array;
}

export interface SignerOptions {
  readonly keyId: string;
  readonly secretKey: Uint8Array;
}

export function createSigner(options: SignerOptions): Signer {
  const problem = checkKeyId(options.keyId);
  if (problem !== undefined) {
    throw keyFault(`key id ${problem}, was ${describeValue(options.keyId)}`);
  }
  const key = privateKeyObject(options.secretKey);
  const publicKey = rawPublicKey(createPublicKey(key));
  return {
    keyId: options.keyId,
    publicKey,
    sign: (bytes) => sign(null, bytes, key),
  };
}

export type VerifyFailureCode =
  | "MISSING_SIGNATURE"
  | "BAD_SIGNATURE"
  | "UNKNOWN_KEY"
  | "EXPIRED"
  | "REPLAYED"
  | "WRONG_GATEWAY"
  /** The replay cache is full: refusing is safe, forgetting ids would not be. */
  | "RATE_LIMITED";

export type VerifyResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: VerifyFailureCode; readonly message: string };

export interface SignatureVerifierOptions {
  /** This gateway's name; requests naming another gateway are refused. */
  readonly gatewayName: string;
  /** key_id → raw 32-byte Ed25519 public key. */
  readonly trustedKeys: ReadonlyMap<string, Uint8Array>;
  readonly clock: Clock;
  readonly ttlMs?: number;
  readonly skewMs?: number;
  readonly maxReplayEntries?: number;
}

const OK: VerifyResult = { ok: true };

function refuse(code: VerifyFailureCode, message: string): VerifyResult {
  return { ok: false, code, message };
}

/**
 * Gateway-side check of a signed request. Order of checks: cheap and stateless first (signature
 * present and 64 bytes, key known, gateway name, freshness), then the signature (≈ 50 µs), then
 * the replay cache. An id enters the cache only after its signature verified, so nobody without a
 * trusted key can fill the cache or block a legitimate request id.
 */
export class SignatureVerifier {
  readonly #gatewayName: string;
  readonly #keys: ReadonlyMap<string, KeyObject>;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #skewMs: number;
  readonly #replay: ReplayCache;

  /** The freshness window in force, as PING states it to clients (docs/PROTOCOL.md, PING). */
  get window(): SignatureWindowInfo {
    return { ttl_ms: this.#ttlMs, max_skew_ms: this.#skewMs };
  }

  constructor(options: SignatureVerifierOptions) {
    const ttlMs = options.ttlMs ?? DEFAULT_SIGNATURE_TTL_MS;
    const skewMs = options.skewMs ?? DEFAULT_CLOCK_SKEW_MS;
    const maxReplayEntries = options.maxReplayEntries ?? DEFAULT_MAX_REPLAY_ENTRIES;
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
      throw new AgentError(FaultCode.CONFIG_INVALID, `signing: ttlMs must be > 0, was ${ttlMs}`);
    }
    if (!Number.isSafeInteger(skewMs) || skewMs < 0) {
      throw new AgentError(FaultCode.CONFIG_INVALID, `signing: skewMs must be ≥ 0, was ${skewMs}`);
    }
    if (!Number.isSafeInteger(maxReplayEntries) || maxReplayEntries < 1) {
      throw new AgentError(
        FaultCode.CONFIG_INVALID,
        `signing: maxReplayEntries must be ≥ 1, was ${maxReplayEntries}`,
      );
    }
    const keys = new Map<string, KeyObject>();
    for (const [keyId, publicKey] of options.trustedKeys) {
      keys.set(keyId, publicKeyObject(publicKey, keyId));
    }
    this.#gatewayName = options.gatewayName;
    this.#keys = keys;
    this.#clock = options.clock;
    this.#ttlMs = ttlMs;
    this.#skewMs = skewMs;
    this.#replay = new ReplayCache(maxReplayEntries);
  }

  /** Ids currently remembered (for health output and tests). */
  get replayEntries(): number {
    return this.#replay.size;
  }

  /**
   * `requestBytes` are the exact bytes of the request frame and `request` what parseRequest made
   * of those same bytes; `signature` is the second frame, if any. Never throws.
   */
  verify(
    requestBytes: Uint8Array,
    signature: Uint8Array | undefined,
    request: SignedRequest,
  ): VerifyResult {
    if (signature === undefined) {
      return refuse(
        "MISSING_SIGNATURE",
        `${request.action} needs a second frame with the ${SIGNATURE_BYTES}-byte Ed25519 signature`,
      );
    }
    if (signature.length !== SIGNATURE_BYTES) {
      return refuse(
        "BAD_SIGNATURE",
        `signature must be ${SIGNATURE_BYTES} bytes, was ${signature.length}`,
      );
    }
    const key = this.#keys.get(request.key_id);
    if (key === undefined) {
      return refuse(
        "UNKNOWN_KEY",
        `key_id ${describeValue(request.key_id)} is not a trusted signing key`,
      );
    }
    if (request.gateway !== this.#gatewayName) {
      return refuse(
        "WRONG_GATEWAY",
        `request is for gateway ${describeValue(request.gateway)}, this is ${describeValue(this.#gatewayName)}`,
      );
    }

    const now = this.#clock.now();
    const maxAgeMs = this.#ttlMs + this.#skewMs;
    const ageMs = now - request.ts;
    if (ageMs > maxAgeMs) {
      return refuse(
        "EXPIRED",
        `request is ${ageMs} ms old, limit is ${maxAgeMs} ms (ttl ${this.#ttlMs} + skew ${this.#skewMs})`,
      );
    }
    if (-ageMs > this.#skewMs) {
      return refuse(
        "EXPIRED",
        `request ts is ${-ageMs} ms in the future, limit is ${this.#skewMs} ms (clock skew)`,
      );
    }

    let valid: boolean;
    try {
      valid = verify(null, requestBytes, key, signature);
    } catch {
      valid = false;
    }
    if (!valid) {
      return refuse(
        "BAD_SIGNATURE",
        `signature does not verify over the request bytes with key_id ${describeValue(request.key_id)}`,
      );
    }

    this.#replay.prune(now);
    if (this.#replay.has(request.id)) {
      return refuse(
        "REPLAYED",
        `request id ${describeValue(request.id)} was already accepted within the last ${maxAgeMs} ms`,
      );
    }
    // Remembered until the request can no longer pass the freshness check above.
    if (!this.#replay.add(request.id, request.ts + maxAgeMs)) {
      return refuse(
        "RATE_LIMITED",
        `replay cache is full (${this.#replay.maxEntries} request ids within ${maxAgeMs} ms); slow down`,
      );
    }
    return OK;
  }
}
