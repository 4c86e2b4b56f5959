/**
 * ZMTP frames (RFC 23 §2.3 "Framing"): `[flags:1][size:1][body]` for bodies up to 255 bytes,
 * `[flags|LONG:1][size:8 big-endian][body]` above. A header encoder and an incremental decoder
 * that accepts input split at any byte. Pure: no sockets, no timers.
 *
 * This is on the path of every message, so the decoder hands out views instead of copies, keeps
 * one small header buffer, and allocates only for a body that spans chunks, after checking its
 * size (research §0.5, CVE-2019-6250).
 */
import { ProtocolError } from "../errors.ts";
import {
  LONG_FRAME_HEADER_SIZE,
  MAX_SHORT_FRAME_BODY,
  SHORT_FRAME_HEADER_SIZE,
} from "./constants.ts";
import { allocateOwnBytes } from "./frame-slab.ts";
import { FrameFlag } from "./mechanism.ts";

const MORE = FrameFlag.MORE;
const LONG = FrameFlag.LONG;
const COMMAND = FrameFlag.COMMAND;
/** Bits 3–7 are reserved and MUST be zero (RFC 23 §2.3). */
const RESERVED = 0xf8;
const TWO_POW_32 = 0x1_0000_0000;
/** Largest high 32-bit half of a size that stays ≤ Number.MAX_SAFE_INTEGER (2^53 − 1). */
const MAX_SAFE_HIGH = 0x1f_ffff;
const MIN_RFC_INVALID_HIGH = 0x8000_0000;

/** Header bytes for a body of `bodyLength`: long exactly when the body exceeds 255 (libzmq). */
export function frameHeaderSize(bodyLength: number): number {
  return bodyLength > MAX_SHORT_FRAME_BODY ? LONG_FRAME_HEADER_SIZE : SHORT_FRAME_HEADER_SIZE;
}

/**
 * Write a frame header at `out[offset]` and return its size (2 or 9). `flags` is MORE and/or
 * COMMAND; LONG is added here. Throws ProtocolError for MORE on a command (RFC 23 §2.3: "SHALL
 * be zero on command frames") or other bits, RangeError for a bad length or a too-small `out`.
 */
export function encodeFrameHeader(
  flags: number,
  bodyLength: number,
  out: Uint8Array,
  offset: number,
): number {
  if ((flags & (MORE | COMMAND)) !== flags) {
    throw new ProtocolError(`zmtp: frame flags may only hold MORE and COMMAND, was ${flags}`);
  }
  if (flags === (MORE | COMMAND)) {
    throw new ProtocolError("zmtp: MORE set on a command frame");
  }
  if (!Number.isSafeInteger(bodyLength) || bodyLength < 0) {
    throw new RangeError(`zmtp: frame body length was ${bodyLength}`);
  }
  if (bodyLength <= MAX_SHORT_FRAME_BODY) {
    if (offset < 0 || offset + SHORT_FRAME_HEADER_SIZE > out.length) {
      throw new RangeError(`zmtp: no room for a frame header at offset ${offset}`);
    }
    out[offset] = flags;
    out[offset + 1] = bodyLength;
    return SHORT_FRAME_HEADER_SIZE;
  }
  if (offset < 0 || offset + LONG_FRAME_HEADER_SIZE > out.length) {
    throw new RangeError(`zmtp: no room for a frame header at offset ${offset}`);
  }
  // Two uint32 halves: bitwise operators work on 32 bits, the length may need 53
  const high = Math.floor(bodyLength / TWO_POW_32);
  const low = bodyLength >>> 0;
  out[offset] = flags | LONG;
  out[offset + 1] = high >>> 24;
  out[offset + 2] = (high >>> 16) & 0xff;
  out[offset + 3] = (high >>> 8) & 0xff;
  out[offset + 4] = high & 0xff;
  out[offset + 5] = low >>> 24;
  out[offset + 6] = (low >>> 16) & 0xff;
  out[offset + 7] = (low >>> 8) & 0xff;
  out[offset + 8] = low & 0xff;
  return LONG_FRAME_HEADER_SIZE;
}

/** One frame in a fresh buffer (header + copy of body). Batching writers use encodeFrameHeader. */
export function encodeFrame(flags: number, body: Uint8Array): Uint8Array {
  const headerSize = frameHeaderSize(body.length);
  const out = new Uint8Array(headerSize + body.length);
  encodeFrameHeader(flags, body.length, out, 0);
  out.set(body, headerSize);
  return out;
}

/**
 * Receives one frame. `flags` holds MORE and/or COMMAND (LONG is a wire detail and is removed).
 * Return false to pause the decoder.
 *
 * Treat `body` as valid only during the call and copy what you keep. Precisely: it is a view of
 * the chunk passed to push (zero-copy), or of a buffer the decoder allocated for a frame that
 * spanned chunks or was kept over a pause; the decoder never writes to either again, so a
 * caller that never reuses its chunks' memory may keep views.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: lets any `(…) => void` handler be passed; only `false` pauses
export type FrameHandler = (flags: number, body: Uint8Array) => boolean | void;

export interface FrameDecoderOptions {
  /** Largest body accepted; a bigger size is refused before anything is allocated. */
  readonly maxFrameSize: number;
}

function checkMaxFrameSize(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`zmtp: maxFrameSize must be a non-negative safe integer, was ${n}`);
  }
  return n;
}

/**
 * Incremental frame decoder. Feed it chunks as they arrive; it calls the handler for each
 * complete frame. A handler that returns false pauses it: the rest of the chunk is kept (copied,
 * as the caller may reuse its buffer) and delivered by `resume` or by the next `push`; `buffered`
 * tells the caller how much is kept so it can stop reading. A pause at the very end of a chunk
 * keeps nothing, and the next push simply continues.
 *
 * Any protocol violation throws ProtocolError from push/resume, and the decoder then refuses all
 * further input. So does an exception thrown by the handler (it propagates unchanged), because the
 * stream position is no longer known. Handlers must not push into the decoder that called them.
 */
export class FrameDecoder {
  private maxSize: number;
  /** A header split across chunks: its bytes so far and its full size once the flags are known. */
  private readonly header = new Uint8Array(LONG_FRAME_HEADER_SIZE);
  private headerFilled = 0;
  private headerSize = 0;
  /** A body split across chunks, allocated once at its checked size. */
  private body: Uint8Array | undefined;
  private bodyFilled = 0;
  private bodyFlags = 0;
  /** Input kept after a pause, as owned copies, oldest first. */
  private readonly held: Uint8Array[] = [];
  private heldBytes = 0;
  private failure: Error | undefined;

  constructor(options: FrameDecoderOptions) {
    this.maxSize = checkMaxFrameSize(options.maxFrameSize);
  }

  get maxFrameSize(): number {
    return this.maxSize;
  }

  /** Applies to every frame whose header has not been read yet (handshake cap → maxMsgSize). */
  setMaxFrameSize(n: number): void {
    this.maxSize = checkMaxFrameSize(n);
  }

  /** Bytes held: a partial header or body, plus input kept after a pause. */
  get buffered(): number {
    return this.headerFilled + this.bodyFilled + this.heldBytes;
  }

  /** True when input kept after a pause is waiting for `resume` or the next `push`. */
  get paused(): boolean {
    return this.held.length > 0;
  }

  push(chunk: Uint8Array, onFrame: FrameHandler): void {
    if (this.failure !== undefined) throw this.failure;
    try {
      if (this.held.length > 0 && !this.drainHeld(onFrame)) {
        this.hold(chunk.slice());
        return;
      }
      const stop = this.run(chunk, onFrame);
      if (stop < chunk.length) this.hold(chunk.slice(stop));
    } catch (error) {
      this.failure ??= new ProtocolError("zmtp: frame decoder stopped after a handler threw", {
        cause: error,
      });
      throw error;
    }
  }

  /** Deliver input kept after a pause; does nothing when none is kept. */
  resume(onFrame: FrameHandler): void {
    if (this.failure !== undefined) throw this.failure;
    try {
      this.drainHeld(onFrame);
    } catch (error) {
      this.failure ??= new ProtocolError("zmtp: frame decoder stopped after a handler threw", {
        cause: error,
      });
      throw error;
    }
  }

  private hold(bytes: Uint8Array): void {
    this.held.push(bytes);
    this.heldBytes += bytes.length;
  }

  /** Returns false when the handler paused again. */
  private drainHeld(onFrame: FrameHandler): boolean {
    while (this.held.length > 0) {
      const chunk = this.held[0] as Uint8Array;
      const stop = this.run(chunk, onFrame);
      if (stop < chunk.length) {
        this.held[0] = chunk.subarray(stop);
        this.heldBytes -= stop;
        return false;
      }
      this.held.shift();
      this.heldBytes -= chunk.length;
    }
    return true;
  }

  /** Decode `chunk`; returns where the handler paused, or chunk.length. */
  private run(chunk: Uint8Array, onFrame: FrameHandler): number {
    const length = chunk.length;
    let i = 0;
    while (i < length) {
      if (this.body !== undefined) {
        const body = this.body;
        const n = Math.min(body.length - this.bodyFilled, length - i);
        body.set(chunk.subarray(i, i + n), this.bodyFilled);
        this.bodyFilled += n;
        i += n;
        if (this.bodyFilled < body.length) return length;
        this.body = undefined;
        this.bodyFilled = 0;
        if (onFrame(this.bodyFlags, body) === false) return i;
        continue;
      }

      let flags: number;
      let size: number;
      if (this.headerFilled === 0) {
        flags = chunk[i] as number;
        this.checkFlags(flags);
        const headerSize = (flags & LONG) === 0 ? SHORT_FRAME_HEADER_SIZE : LONG_FRAME_HEADER_SIZE;
        if (length - i < headerSize) {
          // At most 8 bytes: keep them in the header buffer rather than the chunk
          for (let k = i; k < length; k++) this.header[k - i] = chunk[k] as number;
          this.headerFilled = length - i;
          this.headerSize = headerSize;
          return length;
        }
        size =
          headerSize === SHORT_FRAME_HEADER_SIZE
            ? (chunk[i + 1] as number)
            : this.longSize(chunk, i + 1);
        i += headerSize;
      } else {
        const n = Math.min(this.headerSize - this.headerFilled, length - i);
        for (let k = 0; k < n; k++) this.header[this.headerFilled + k] = chunk[i + k] as number;
        this.headerFilled += n;
        i += n;
        if (this.headerFilled < this.headerSize) return length;
        flags = this.header[0] as number;
        size =
          this.headerSize === SHORT_FRAME_HEADER_SIZE
            ? (this.header[1] as number)
            : this.longSize(this.header, 1);
        this.headerFilled = 0;
      }

      if (size > this.maxSize) {
        this.fail(`zmtp: frame size was ${size}, the limit is ${this.maxSize}`);
      }
      flags &= ~LONG;
      if (length - i >= size) {
        const body = chunk.subarray(i, i + size);
        i += size;
        if (onFrame(flags, body) === false) return i;
      } else {
        // Spans chunks: one allocation at the size just checked, filled as bytes arrive, of a
        // kind views can be taken of without a copy (CURVE takes views of every body)
        const body = allocateOwnBytes(size);
        body.set(chunk.subarray(i), 0);
        this.body = body;
        this.bodyFilled = length - i;
        this.bodyFlags = flags;
        return length;
      }
    }
    return length;
  }

  private checkFlags(flags: number): void {
    if ((flags & RESERVED) !== 0) {
      this.fail(
        `zmtp: frame flags had reserved bits set, was 0x${flags.toString(16).padStart(2, "0")}`,
      );
    }
    // RFC 23 §2.3: MORE "SHALL be zero on command frames"; libzmq ignores it but never sends it
    if ((flags & (MORE | COMMAND)) === (MORE | COMMAND)) {
      this.fail(
        `zmtp: MORE set on a command frame, flags were 0x${flags.toString(16).padStart(2, "0")}`,
      );
    }
  }

  /**
   * The 8-byte big-endian size at `bytes[offset]`, as two uint32 halves so nothing is rounded:
   * ≥ 2^63 breaks RFC 23 §2.3, above 2^53 − 1 a JS number cannot hold it exactly.
   */
  private longSize(bytes: Uint8Array, offset: number): number {
    const high =
      (((bytes[offset] as number) << 24) |
        ((bytes[offset + 1] as number) << 16) |
        ((bytes[offset + 2] as number) << 8) |
        (bytes[offset + 3] as number)) >>>
      0;
    const low =
      (((bytes[offset + 4] as number) << 24) |
        ((bytes[offset + 5] as number) << 16) |
        ((bytes[offset + 6] as number) << 8) |
        (bytes[offset + 7] as number)) >>>
      0;
    if (high > MAX_SAFE_HIGH) {
      const exact = ((BigInt(high) << 32n) | BigInt(low)).toString();
      this.fail(
        high >= MIN_RFC_INVALID_HIGH
          ? `zmtp: frame size was ${exact}, must be below 2^63`
          : `zmtp: frame size was ${exact}, above 2^53 - 1`,
      );
    }
    return high * TWO_POW_32 + low;
  }

  private fail(message: string): never {
    this.failure = new ProtocolError(message);
    throw this.failure;
  }
}
