/**
 * Mutual authentication of the EA link (docs/EA-LINK.md §6.1): a challenge–response in which
 * each side proves it knows the shared secret without sending it. HMAC-SHA256 (RFC 2104,
 * RFC 4231) over both sides' nonces, with a label per direction so one side's proof can never
 * be reflected as the other's. The gateway proves itself first: the EA says nothing about its
 * account until the gateway's proof checked out. Pure: no sockets, randomness injected.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** The link protocol version (AUTH and HELLO `proto`). Version 1 sent a bearer token. */
export const EA_PROTOCOL_VERSION = 2;
/** 32 random bytes, as 64 lowercase hex characters on the wire. */
export const NONCE_BYTES = 32;
/** What the gateway's proof covers: `${GATEWAY_PROOF_LABEL}|${ea_nonce}|${gw_nonce}`. */
export const GATEWAY_PROOF_LABEL = "mt5-bridge ea-link v2 gateway";
/** What the EA's proof covers: `${EA_PROOF_LABEL}|${ea_nonce}|${gw_nonce}`. */
export const EA_PROOF_LABEL = "mt5-bridge ea-link v2 ea";

const HEX_256 = /^[0-9a-f]{64}$/;

/** HMAC-SHA256 of an ASCII message under the secret's ASCII bytes, as lowercase hex. */
export function hmacSha256Hex(secret: string, message: string): string {
  return createHmac("sha256", Buffer.from(secret, "latin1"))
    .update(Buffer.from(message, "latin1"))
    .digest("hex");
}

/** The bytes a proof covers: the direction's label, then both nonces. */
export function proofMessage(label: string, eaNonce: string, gwNonce: string): string {
  return `${label}|${eaNonce}|${gwNonce}`;
}

export function gatewayProof(secret: string, eaNonce: string, gwNonce: string): string {
  return hmacSha256Hex(secret, proofMessage(GATEWAY_PROOF_LABEL, eaNonce, gwNonce));
}

export function eaProof(secret: string, eaNonce: string, gwNonce: string): string {
  return hmacSha256Hex(secret, proofMessage(EA_PROOF_LABEL, eaNonce, gwNonce));
}

/** A nonce or proof as the wire carries them: 64 lowercase hex characters. */
export function isHex256(value: unknown): value is string {
  return typeof value === "string" && HEX_256.test(value);
}

/** Constant-time comparison of a presented proof with the expected one. */
export function proofMatches(presented: unknown, expected: string): boolean {
  if (!isHex256(presented) || !isHex256(expected)) return false;
  return timingSafeEqual(Buffer.from(presented, "hex"), Buffer.from(expected, "hex"));
}

export type RandomBytes = (size: number) => Uint8Array;

/** The gateway's nonce: from the operating system's CSPRNG unless a test injects its own. */
export function newNonce(random: RandomBytes = randomBytes): string {
  return Buffer.from(random(NONCE_BYTES)).toString("hex");
}

/** Refusals before or at HELLO (HELLO_ACK `reason`, §6.2). */
export type HandshakeRefusal =
  | "PROTO_UNSUPPORTED"
  | "BAD_AUTH"
  | "BAD_PROOF"
  | "BAD_HELLO"
  | "NOT_LOGGED_IN"
  | "WRONG_ACCOUNT";

export type AuthVerdict =
  | { readonly ok: true; readonly eaNonce: string }
  | { readonly ok: false; readonly reason: HandshakeRefusal; readonly detail: string };

/**
 * Judge the first frame, which must be AUTH. The version comes first, so an EA of protocol 1
 * (whose first frame is a HELLO carrying its token) is told PROTO_UNSUPPORTED; its token is
 * neither compared nor logged.
 */
export function checkAuth(message: Readonly<Record<string, unknown>>): AuthVerdict {
  if (message["proto"] !== EA_PROTOCOL_VERSION) {
    return {
      ok: false,
      reason: "PROTO_UNSUPPORTED",
      detail: `proto was ${describe(message["proto"])}, this gateway speaks ${EA_PROTOCOL_VERSION}`,
    };
  }
  if (message["type"] !== "AUTH") {
    return {
      ok: false,
      reason: "BAD_AUTH",
      detail: `first frame was ${describe(message["type"])}, not AUTH`,
    };
  }
  const nonce = message["ea_nonce"];
  if (!isHex256(nonce)) {
    return { ok: false, reason: "BAD_AUTH", detail: "ea_nonce is not 64 lowercase hex characters" };
  }
  return { ok: true, eaNonce: nonce };
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 32));
  return value === undefined ? "missing" : String(value).slice(0, 32);
}
