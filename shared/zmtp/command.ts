/**
 * ZMTP command bodies (RFC 23 §2.4, RFC 37 §2.4–2.7): `[name_len:1][name][data]`.
 * READY, ERROR, PING, PONG, SUBSCRIBE and CANCEL here; the CURVE commands (HELLO, WELCOME,
 * INITIATE, MESSAGE) are laid out in shared/curve. Pure; bad bytes throw ProtocolError.
 */
import { ProtocolError } from "../errors.ts";

export interface Command {
  readonly name: string;
  readonly data: Uint8Array;
}

/** RFC 37 §2.6: PING context is at most 16 bytes. */
export const MAX_PING_CONTEXT_BYTES = 16;

const NAME_PATTERN = /^[A-Za-z]{1,255}$/;

export function encodeCommand(name: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (!NAME_PATTERN.test(name))
    throw new ProtocolError(`zmtp: invalid command name ${JSON.stringify(name)}`);
  const body = new Uint8Array(1 + name.length + data.length);
  body[0] = name.length;
  for (let i = 0; i < name.length; i++) body[1 + i] = name.charCodeAt(i);
  body.set(data, 1 + name.length);
  return body;
}

export function parseCommand(body: Uint8Array): Command {
  if (body.length === 0) throw new ProtocolError("zmtp: empty command frame");
  const nameLength = body[0] as number;
  if (nameLength === 0) throw new ProtocolError("zmtp: command name is empty");
  if (1 + nameLength > body.length) {
    throw new ProtocolError(
      `zmtp: command name overruns the frame (length was ${nameLength}, frame ${body.length})`,
    );
  }
  let name = "";
  for (let i = 1; i <= nameLength; i++) {
    const c = body[i] as number;
    const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!letter) throw new ProtocolError("zmtp: command name has a byte that is not a letter");
    name += String.fromCharCode(c);
  }
  return { name, data: body.subarray(1 + nameLength) };
}

/** True when `body` is the command `name` (exact match, no allocation). */
export function isCommand(body: Uint8Array, name: string): boolean {
  if (body.length < 1 + name.length || body[0] !== name.length) return false;
  for (let i = 0; i < name.length; i++) {
    if (body[1 + i] !== name.charCodeAt(i)) return false;
  }
  return true;
}

export function encodeReady(metadata: Uint8Array): Uint8Array {
  return encodeCommand("READY", metadata);
}

/** ERROR (RFC 23 §2.4.3): `[reason_len:1][reason]`, reason at most 255 bytes. */
export function encodeError(reason: string): Uint8Array {
  // Reasons are status codes ("400") in practice; keep them ASCII so a cut at 255 bytes can
  // never split a character.
  const ascii = reason.replace(/[^\x20-\x7e]/g, "?").slice(0, 255);
  const bytes = new TextEncoder().encode(ascii);
  const data = new Uint8Array(1 + bytes.length);
  data[0] = bytes.length;
  data.set(bytes, 1);
  return encodeCommand("ERROR", data);
}

export function parseErrorReason(data: Uint8Array): string {
  if (data.length < 1) throw new ProtocolError("zmtp: ERROR command has no reason length");
  const length = data[0] as number;
  if (1 + length !== data.length) {
    throw new ProtocolError(
      `zmtp: ERROR reason length was ${length}, but ${data.length - 1} bytes follow`,
    );
  }
  return new TextDecoder().decode(data.subarray(1));
}

export interface Ping {
  /** Time-to-live the sender advertises, in deciseconds (0: none). */
  readonly ttlDeciseconds: number;
  readonly context: Uint8Array;
}

/** PING (RFC 37 §2.6): `[ttl:2 BE deciseconds][context: 0..16]`. */
export function encodePing(
  ttlDeciseconds: number,
  context: Uint8Array = new Uint8Array(0),
): Uint8Array {
  if (context.length > MAX_PING_CONTEXT_BYTES)
    throw new ProtocolError("zmtp: PING context is longer than 16 bytes");
  const ttl = Math.max(0, Math.min(0xffff, Math.floor(ttlDeciseconds)));
  const data = new Uint8Array(2 + context.length);
  data[0] = ttl >> 8;
  data[1] = ttl & 0xff;
  data.set(context, 2);
  return encodeCommand("PING", data);
}

export function parsePing(data: Uint8Array): Ping {
  if (data.length < 2) throw new ProtocolError("zmtp: PING has no TTL");
  // A longer context is a protocol violation; libzmq truncates when echoing, we refuse to guess.
  if (data.length > 2 + MAX_PING_CONTEXT_BYTES)
    throw new ProtocolError("zmtp: PING context is longer than 16 bytes");
  return {
    ttlDeciseconds: ((data[0] as number) << 8) | (data[1] as number),
    context: data.slice(2),
  };
}

/** PONG (RFC 37 §2.6) echoes the PING's context. */
export function encodePong(context: Uint8Array): Uint8Array {
  return encodeCommand("PONG", context.subarray(0, MAX_PING_CONTEXT_BYTES));
}

/** SUBSCRIBE / CANCEL (RFC 37 §2.7): the rest of the body is the topic. */
export function encodeSubscribe(topic: Uint8Array): Uint8Array {
  return encodeCommand("SUBSCRIBE", topic);
}

export function encodeCancel(topic: Uint8Array): Uint8Array {
  return encodeCommand("CANCEL", topic);
}
