/**
 * CurveZMQ wire constants shared by the client and server state machines (RFC 25 §2, RFC 26 §2
 * as libzmq 4.3 implements them; research zmtp-curve.md §3.2–3.3): command names and sizes,
 * nonce prefixes, nonce builders, and the result helpers both mechanisms return.
 *
 * Pure: no keys are held here.
 */
import { AgentError, describeError, FaultCode } from "../errors.ts";
import type { HandshakeFailure, HandshakeFailureCode, HandshakeResult } from "../zmtp/mechanism.ts";
import { isWeakPublicKey, KEY_BYTES, NONCE_BYTES } from "./box.ts";

/** HELLO: name(6) version(2) padding(72) C'(32) short nonce(8) signature box(80). */
export const HELLO_BYTES = 200;
/** WELCOME: name(8) nonce tail(16) Box[S' + cookie](144). */
export const WELCOME_BYTES = 168;
/** INITIATE without metadata: name(9) cookie(96) short nonce(8) Box[C + vouch](144 + 0). */
export const INITIATE_MIN_BYTES = 257;
/** READY without metadata: name(6) short nonce(8) Box[](16). */
export const READY_MIN_BYTES = 30;
/** MESSAGE with an empty part: name(8) short nonce(8) Box[flags](17). */
export const MESSAGE_MIN_BYTES = 33;
/** Cookie: nonce tail(16) + secretbox(C' + s')(80). */
export const COOKIE_BYTES = 96;
/** Vouch box: Box[C' + S](80). */
export const VOUCH_BOX_BYTES = 80;

/**
 * Largest handshake command we accept (INITIATE or READY with metadata). libzmq allocates
 * whatever a pre-auth peer announces (CVE-2019-13132 lived here); real metadata is ~35 bytes.
 */
export const MAX_HANDSHAKE_COMMAND_BYTES = 64 * 1024;

/** HELLO version (RFC 26 §2.6): major 1, minor 0; anything else is refused, as libzmq does. */
export const HELLO_VERSION_MAJOR = 1;
export const HELLO_VERSION_MINOR = 0;

/** The largest short nonce; the counter must never wrap (RFC 26 §2.3). */
export const MAX_SHORT_NONCE = 0xffff_ffff_ffff_ffffn;

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Command names with their length prefix, as they start each command body (RFC 25 §2). */
export const COMMAND_NAME = {
  HELLO: ascii("\x05HELLO"),
  WELCOME: ascii("\x07WELCOME"),
  INITIATE: ascii("\x08INITIATE"),
  READY: ascii("\x05READY"),
  MESSAGE: ascii("\x07MESSAGE"),
} as const;

/**
 * Nonce prefixes (RFC 26 §2.3). The 16-byte ones take an 8-byte short nonce; the 8-byte ones a
 * 16-byte random tail. MESSAGE has one prefix per direction because both directions share the
 * key C'↔S': the suffix C/S is all that keeps their nonces apart (and defeats reflection).
 */
export const NONCE_PREFIX = {
  HELLO: ascii("CurveZMQHELLO---"),
  INITIATE: ascii("CurveZMQINITIATE"),
  READY: ascii("CurveZMQREADY---"),
  MESSAGE_FROM_CLIENT: ascii("CurveZMQMESSAGEC"),
  MESSAGE_FROM_SERVER: ascii("CurveZMQMESSAGES"),
  WELCOME: ascii("WELCOME-"),
  COOKIE: ascii("COOKIE--"),
  VOUCH: ascii("VOUCH---"),
} as const;

/** A 24-byte nonce: 16-byte prefix ‖ 8-byte big-endian short nonce. */
export function shortNonce(prefix: Uint8Array, counter: bigint): Uint8Array {
  const nonce = new Uint8Array(NONCE_BYTES);
  nonce.set(prefix, 0);
  new DataView(nonce.buffer).setBigUint64(16, counter);
  return nonce;
}

/** A 24-byte nonce: 8-byte prefix ‖ 16-byte tail (random, sent alongside the box). */
export function longNonce(prefix: Uint8Array, tail: Uint8Array): Uint8Array {
  const nonce = new Uint8Array(NONCE_BYTES);
  nonce.set(prefix, 0);
  nonce.set(tail.subarray(0, 16), 8);
  return nonce;
}

/** The 8-byte big-endian short nonce at `offset` of a command body. */
export function readShortNonce(body: Uint8Array, offset: number): bigint {
  return new DataView(body.buffer, body.byteOffset, body.byteLength).getBigUint64(offset);
}

export function writeShortNonce(body: Uint8Array, offset: number, counter: bigint): void {
  new DataView(body.buffer, body.byteOffset, body.byteLength).setBigUint64(offset, counter);
}

/** True when `body` starts with the length-prefixed command name `name`. */
export function hasName(body: Uint8Array, name: Uint8Array): boolean {
  if (body.length < name.length) return false;
  for (let i = 0; i < name.length; i++) if (body[i] !== name[i]) return false;
  return true;
}

/** Best-effort wipe of secrets (JS gives no guarantee the bytes were not copied elsewhere). */
export function wipe(...secrets: readonly (Uint8Array | undefined)[]): void {
  for (const secret of secrets) secret?.fill(0);
}

export function proceed(send: readonly Uint8Array[]): HandshakeResult {
  return { status: "continue", send };
}

export function failed(
  code: HandshakeFailureCode,
  message: string,
  extra: Partial<Omit<HandshakeFailure, "code" | "message">> = {},
  send: readonly Uint8Array[] = [],
): HandshakeResult {
  return { status: "failed", send, failure: { fatal: false, ...extra, code, message } };
}

/** A throw that escaped a handshake step; turned into a silent failure, never propagated. */
export function failedUnexpectedly(step: string, error: unknown): HandshakeResult {
  return failed("MALFORMED_COMMAND", `curve: ${step} failed: ${describeError(error)}`);
}

/**
 * Constructor-time key check, so a misconfigured key fails before connecting (house style §3):
 * 32 bytes, and for a peer's key one we would not refuse on the wire anyway.
 */
export function checkKeyOption(
  key: Uint8Array,
  what: string,
  options: { peer?: boolean } = {},
): void {
  if (key.length !== KEY_BYTES) {
    throw new AgentError(
      FaultCode.CURVE_HANDSHAKE,
      `curve: ${what} must be 32 bytes, was ${key.length}`,
    );
  }
  if (options.peer === true && isWeakPublicKey(key)) {
    throw new AgentError(
      FaultCode.CURVE_HANDSHAKE,
      `curve: ${what} is a low-order or non-canonical point and cannot be used`,
    );
  }
}
