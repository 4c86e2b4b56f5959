/**
 * EA-link framing (docs/EA-LINK.md §3, §4): a 4-byte big-endian length, then that many bytes of
 * UTF-8 JSON. The decoder is for what the EA sends us (untrusted: the length is checked before
 * anything is buffered for it); the encoder writes commands the EA's tiny reader accepts (one flat
 * object, integers without a decimal point, no exponents, bounded sizes). Pure: no sockets.
 */

/** EA → gateway payload limit (§3): a longer frame is a bug in the EA and closes the link. */
export const MAX_INBOUND_FRAME_BYTES = 1_048_576;
/** Gateway → EA payload limit (§3): the EA closes the link on a longer one. */
export const MAX_OUTBOUND_FRAME_BYTES = 65_536;
/** Limits of the EA's reader (§4, BridgeJson.mqh). */
export const MAX_OUTBOUND_KEYS = 64;
export const MAX_OUTBOUND_STRING_CHARS = 8192;
const MAX_INTEGER_CHARS = 18;
const HEADER_BYTES = 4;

/** The integer fields of §4: written without a decimal point, at most 18 characters. */
const INTEGER_KEYS: ReadonlySet<string> = new Set([
  "id",
  "ticket",
  "ticket_by",
  "magic",
  "deviation",
  "from",
  "to",
  "expiration",
  "offset",
  "limit",
  "throttle_ms",
  "heartbeat_ms",
  "timeframe",
  "start",
  "count",
  "skip",
  "position",
]);

export type WireValue = string | number | boolean | null;
export type WireObject = Readonly<Record<string, WireValue>>;

/** A frame or payload that breaks §3/§4; the link is closed on it. */
export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FramingError";
  }
}

/**
 * Splits a byte stream into frame payloads. Chunks may cut frames anywhere (inside the header
 * too); a length of 0 or above `maxPayloadBytes` throws before any byte of it is kept.
 */
export class FrameDecoder {
  #pending: Uint8Array = new Uint8Array(0);
  #maxPayloadBytes: number;

  constructor(maxPayloadBytes: number = MAX_INBOUND_FRAME_BYTES) {
    this.#maxPayloadBytes = maxPayloadBytes;
  }

  /** Lower before HELLO, raise after: an unauthenticated peer gets a small budget. */
  set maxPayloadBytes(bytes: number) {
    this.#maxPayloadBytes = bytes;
  }

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.#pending.length;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    let data = chunk;
    if (this.#pending.length > 0) {
      data = new Uint8Array(this.#pending.length + chunk.length);
      data.set(this.#pending, 0);
      data.set(chunk, this.#pending.length);
    }
    const frames: Uint8Array[] = [];
    let offset = 0;
    while (data.length - offset >= HEADER_BYTES) {
      const view = new DataView(data.buffer, data.byteOffset + offset, HEADER_BYTES);
      const length = view.getUint32(0, false);
      if (length === 0) throw new FramingError("terminal: frame length was 0");
      if (length > this.#maxPayloadBytes) {
        throw new FramingError(
          `terminal: frame length was ${length} bytes, limit ${this.#maxPayloadBytes}`,
        );
      }
      if (data.length - offset - HEADER_BYTES < length) break;
      const start = offset + HEADER_BYTES;
      frames.push(data.slice(start, start + length));
      offset = start + length;
    }
    // Copy the tail so a large chunk is not kept alive by a few leftover bytes
    this.#pending = offset === data.length ? new Uint8Array(0) : data.slice(offset);
    return frames;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

/** Payload → one JSON object (§3: valid UTF-8, no 0 byte, exactly one object). */
export function decodePayload(payload: Uint8Array): Record<string, unknown> {
  if (payload.includes(0)) throw new FramingError("terminal: payload contains a 0 byte");
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    throw new FramingError("terminal: payload is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new FramingError(`terminal: payload is not JSON (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FramingError("terminal: payload is not a JSON object");
  }
  return value as Record<string, unknown>;
}

/** Frame the bytes: header + payload. */
export function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length, false);
  out.set(payload, HEADER_BYTES);
  return out;
}

/**
 * One gateway → EA frame. Throws RangeError (nothing is sent) when the object breaks the EA
 * reader's rules, so a bad value is caught here rather than killing the link.
 */
export function encodeOutbound(message: WireObject): Uint8Array {
  const keys = Object.keys(message);
  if (keys.length > MAX_OUTBOUND_KEYS) {
    throw new RangeError(`terminal: ${keys.length} fields, the EA reads at most 64`);
  }
  const parts: string[] = [];
  for (const key of keys) {
    parts.push(`${JSON.stringify(key)}:${encodeValue(key, message[key] as WireValue)}`);
  }
  const payload = utf8Encoder.encode(`{${parts.join(",")}}`);
  if (payload.length > MAX_OUTBOUND_FRAME_BYTES) {
    throw new RangeError(
      `terminal: frame would be ${payload.length} bytes, the EA reads at most ${MAX_OUTBOUND_FRAME_BYTES}`,
    );
  }
  return frame(payload);
}

function encodeValue(key: string, value: WireValue): string {
  if (value === null || typeof value === "boolean") return String(value);
  if (typeof value === "string") {
    if (value.length > MAX_OUTBOUND_STRING_CHARS) {
      throw new RangeError(`terminal: field ${key} is longer than 8192 characters`);
    }
    // JSON.stringify escapes control characters and lone surrogates as \uXXXX, which the EA reads
    return JSON.stringify(value);
  }
  if (INTEGER_KEYS.has(key)) {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(`terminal: field ${key} must be an integer (was ${value})`);
    }
    const text = String(value);
    if (text.length > MAX_INTEGER_CHARS) {
      throw new RangeError(`terminal: field ${key} has more than 18 characters (was ${text})`);
    }
    return text;
  }
  return plainDecimal(key, value);
}

/**
 * Fixed point without exponent (§4: the EA refuses `1e-7`). Ten decimals cover every price and
 * volume MT5 uses (at most 8); trailing zeros are trimmed.
 */
export function plainDecimal(key: string, value: number): string {
  if (!Number.isFinite(value) || Math.abs(value) >= 1e15) {
    throw new RangeError(`terminal: field ${key} is not a plain decimal (was ${value})`);
  }
  if (Number.isInteger(value)) return value === 0 ? "0" : String(value);
  let text = value.toFixed(10);
  text = text.replace(/0+$/, "").replace(/\.$/, "");
  return text === "-0" ? "0" : text;
}
