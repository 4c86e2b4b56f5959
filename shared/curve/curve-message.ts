/**
 * CurveZMQ MESSAGE (RFC 26 §2.9, as libzmq 4.3 frames it): the per-connection codec both
 * mechanisms switch to once the handshake is done.
 *
 *   MESSAGE = %x07 "MESSAGE" short-nonce(8) Box[flags(1) ‖ payload](C'→S' or S'→C')
 *
 * Rules that matter for libzmq interop (research §0, §3.3):
 * - The outer ZMTP frame of a MESSAGE carries neither COMMAND nor MORE. libzmq ≥ 4.3.3 with
 *   libsodium silently drops data that arrives in a command-flagged frame.
 * - MORE and COMMAND travel in the inner flags byte (0x01, 0x02); PING/PONG/SUBSCRIBE/CANCEL
 *   after the handshake are MESSAGEs with inner 0x02. Other inner bits are refused.
 * - Each side counts its own short nonces and never wraps; the receiver requires every MESSAGE
 *   nonce to be strictly greater than the last one it accepted (CVE-2014-7203).
 */
import { AgentError, FaultCode, ProtocolError } from "../errors.ts";
import { encodeFrameHeader, frameHeaderSize } from "../zmtp/frame.ts";
import { allocateFrameBytes } from "../zmtp/frame-slab.ts";
import { type DecodeResult, type OutgoingFrame, PartFlag } from "../zmtp/mechanism.ts";
import { openInPlace, SEAL_PLAINTEXT_OFFSET, sealInPlace } from "./box.ts";
import { COMMAND_NAME, hasName, MESSAGE_MIN_BYTES, shortNonce } from "./curve-protocol.ts";

const KNOWN_FLAGS = PartFlag.MORE | PartFlag.COMMAND;
/** Where the short nonce sits in the body, after the name "\x07MESSAGE" */
const NONCE_OFFSET = 8;
/** Where the 8-byte counter sits in a 24-byte nonce, after the 16-byte prefix */
const COUNTER_OFFSET = 16;

/**
 * Every message part goes through encode on one side and decode on the other. Encode allocates
 * one buffer (from the frame slab) for the whole ZMTP frame and copies the payload into it once;
 * decode allocates nothing and copies nothing. The MESSAGE body is laid out to match NaCl's
 * in-place secretbox:
 *
 *   body offset      0         8          16        32          33
 *   on the wire      name(8)   nonce(8)   MAC(16)   Box[flags(1) payload(N)]
 *   to sealInPlace   scratch ───────────────────────  flags(1)    payload(N)
 *   after openInPlace                                 flags(1)    payload(N)  ← the part, a view
 *
 * so the box is sealed where it is sent (behind the frame header) and opened where it arrived
 * (the 16 header bytes are not part of it). Nonce buffers are reused with a DataView made once:
 * on Bun a DataView over a fresh array forces its backing store to be created, which cost more
 * than the header itself.
 */

export interface CurveMessageCodecOptions {
  /** k2 = C'↔S' precomputed: Box[...](C'→S') and Box[...](S'→C') both use it. */
  readonly key: Uint8Array;
  /** Our direction's 16-byte prefix (…MESSAGEC for the client, …MESSAGES for the server). */
  readonly sendPrefix: Uint8Array;
  /** The peer's direction's prefix. */
  readonly receivePrefix: Uint8Array;
  /** The short nonce our next MESSAGE carries (client 3, server 2 after a libzmq handshake). */
  readonly nextSendNonce: bigint;
  /** The last short nonce accepted from the peer (INITIATE on the server, READY on the client). */
  readonly lastReceivedNonce: bigint;
}

const TWO_POW_32 = 0x1_0000_0000;

/**
 * The 64-bit short nonces are kept as two uint32 halves, high and low: comparing and counting
 * them allocates nothing, where a BigInt per message did. The send side's high half reaching
 * 2^32 means every nonce has been used.
 */
export class CurveMessageCodec {
  readonly #key: Uint8Array;
  readonly #sendNonce: Uint8Array;
  readonly #sendNonceView: DataView;
  readonly #receiveNonce: Uint8Array;
  readonly #receiveNonceView: DataView;
  #sendHigh: number;
  #sendLow: number;
  #lastHigh: number;
  #lastLow: number;

  constructor(options: CurveMessageCodecOptions) {
    this.#key = options.key;
    this.#sendNonce = shortNonce(options.sendPrefix, 0n);
    this.#sendNonceView = new DataView(this.#sendNonce.buffer);
    this.#receiveNonce = shortNonce(options.receivePrefix, 0n);
    this.#receiveNonceView = new DataView(this.#receiveNonce.buffer);
    this.#sendHigh = Number(options.nextSendNonce >> 32n);
    this.#sendLow = Number(options.nextSendNonce & 0xffff_ffffn);
    this.#lastHigh = Number(options.lastReceivedNonce >> 32n);
    this.#lastLow = Number(options.lastReceivedNonce & 0xffff_ffffn);
  }

  /** The short nonce the next encode() will use (for tests and diagnostics). */
  get nextSendNonce(): bigint {
    return (BigInt(this.#sendHigh) << 32n) | BigInt(this.#sendLow);
  }

  /**
   * MESSAGE carrying one part. Throws ProtocolError when the nonce counter is exhausted: the
   * connection must close rather than reuse a nonce under k2.
   */
  encode(data: Uint8Array, more: boolean, command: boolean): OutgoingFrame {
    const high = this.#sendHigh;
    const low = this.#sendLow;
    if (high >= TWO_POW_32) {
      throw new ProtocolError(
        "curve: MESSAGE short nonce counter is exhausted; close the connection",
      );
    }
    if (low === 0xffff_ffff) {
      this.#sendHigh = high + 1;
      this.#sendLow = 0;
    } else {
      this.#sendLow = low + 1;
    }
    const nonce = this.#sendNonce;
    this.#sendNonceView.setUint32(COUNTER_OFFSET, high);
    this.#sendNonceView.setUint32(COUNTER_OFFSET + 4, low);

    // The ZMTP frame header, then Box[flags + payload](C'→S' | S'→C') sealed in the body, then
    // the command header over the scratch. Outer flags 0: LONG for bodies over 255 bytes, never
    // COMMAND or MORE.
    const bodyLength = SEAL_PLAINTEXT_OFFSET + 1 + data.length;
    const headerSize = frameHeaderSize(bodyLength);
    const wire = allocateFrameBytes(headerSize + bodyLength);
    encodeFrameHeader(0, bodyLength, wire, 0);
    const body = wire.subarray(headerSize);
    body[SEAL_PLAINTEXT_OFFSET] = (more ? PartFlag.MORE : 0) | (command ? PartFlag.COMMAND : 0);
    body.set(data, SEAL_PLAINTEXT_OFFSET + 1);
    sealInPlace(body, nonce, this.#key);
    body.set(COMMAND_NAME.MESSAGE, 0);
    for (let i = 0; i < 8; i++) body[NONCE_OFFSET + i] = nonce[COUNTER_OFFSET + i] as number;
    return { flags: 0, body, wire };
  }

  /**
   * Recover one part from a MESSAGE, decrypting `body` in place: the part is a view of it. Outer
   * flags are ignored (libzmq accepts MESSAGE in either kind of frame); MORE and COMMAND come
   * only from the authenticated inner byte. A box that does not open leaves `body` unchanged.
   */
  decode(body: Uint8Array): DecodeResult {
    if (body.length < MESSAGE_MIN_BYTES) {
      return fail(`curve: MESSAGE must be at least ${MESSAGE_MIN_BYTES} bytes, was ${body.length}`);
    }
    if (!hasName(body, COMMAND_NAME.MESSAGE)) return fail("curve: expected a MESSAGE command");
    const nonce = this.#receiveNonce;
    for (let i = 0; i < 8; i++) nonce[COUNTER_OFFSET + i] = body[NONCE_OFFSET + i] as number;
    const high = this.#receiveNonceView.getUint32(COUNTER_OFFSET);
    const low = this.#receiveNonceView.getUint32(COUNTER_OFFSET + 4);
    if (high < this.#lastHigh || (high === this.#lastHigh && low <= this.#lastLow)) {
      const last = (BigInt(this.#lastHigh) << 32n) | BigInt(this.#lastLow);
      const counter = (BigInt(high) << 32n) | BigInt(low);
      return fail(
        `curve: MESSAGE short nonce must exceed ${last}, was ${counter} (replay or reorder)`,
      );
    }
    // The box starts at body[16]; the name and nonce in front of it are not part of it
    if (!openInPlace(body, nonce, this.#key)) return fail("curve: MESSAGE box did not open");
    const flags = body[SEAL_PLAINTEXT_OFFSET] as number;
    if ((flags & ~KNOWN_FLAGS) !== 0) {
      return fail(`curve: MESSAGE flags have reserved bits set, was 0x${hex(flags)}`);
    }

    // Advance only after the box authenticated: forged frames must not move the window
    this.#lastHigh = high;
    this.#lastLow = low;
    return {
      ok: true,
      // A view, as NULL hands out: the received chunk is not reused (see the session)
      data: body.subarray(SEAL_PLAINTEXT_OFFSET + 1),
      more: (flags & PartFlag.MORE) !== 0,
      command: (flags & PartFlag.COMMAND) !== 0,
    };
  }
}

function fail(message: string): DecodeResult {
  return { ok: false, message };
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}

/** Used by both mechanisms before the handshake completes. */
export function notReady(role: "client" | "server"): never {
  throw new AgentError(
    FaultCode.CURVE_HANDSHAKE,
    `curve: ${role} cannot encode a message before the handshake completed`,
  );
}
