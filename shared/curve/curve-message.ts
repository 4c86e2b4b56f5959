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
import { type DecodeResult, type OutgoingFrame, PartFlag } from "../zmtp/mechanism.ts";
import { open, seal } from "./box.ts";
import {
  COMMAND_NAME,
  hasName,
  MAX_SHORT_NONCE,
  MESSAGE_MIN_BYTES,
  readShortNonce,
  shortNonce,
  writeShortNonce,
} from "./curve-protocol.ts";

const KNOWN_FLAGS = PartFlag.MORE | PartFlag.COMMAND;
/** name(8) + short nonce(8): what precedes the box */
const HEADER_BYTES = 16;

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

export class CurveMessageCodec {
  readonly #key: Uint8Array;
  readonly #sendNonce: Uint8Array;
  readonly #receiveNonce: Uint8Array;
  #nextSend: bigint;
  #lastReceived: bigint;

  constructor(options: CurveMessageCodecOptions) {
    this.#key = options.key;
    this.#sendNonce = shortNonce(options.sendPrefix, 0n);
    this.#receiveNonce = shortNonce(options.receivePrefix, 0n);
    this.#nextSend = options.nextSendNonce;
    this.#lastReceived = options.lastReceivedNonce;
  }

  /** The short nonce the next encode() will use (for tests and diagnostics). */
  get nextSendNonce(): bigint {
    return this.#nextSend;
  }

  /**
   * MESSAGE carrying one part. Throws ProtocolError when the nonce counter is exhausted: the
   * connection must close rather than reuse a nonce under k2.
   */
  encode(data: Uint8Array, more: boolean, command: boolean): OutgoingFrame {
    const counter = this.#nextSend;
    if (counter > MAX_SHORT_NONCE) {
      throw new ProtocolError(
        "curve: MESSAGE short nonce counter is exhausted; close the connection",
      );
    }
    this.#nextSend = counter + 1n;
    const plaintext = new Uint8Array(1 + data.length);
    plaintext[0] = (more ? PartFlag.MORE : 0) | (command ? PartFlag.COMMAND : 0);
    plaintext.set(data, 1);
    writeShortNonce(this.#sendNonce, 16, counter);

    // Box[flags + payload](C'→S' | S'→C'), sealed with 16 bytes of headroom for the header
    const body = seal(plaintext, this.#sendNonce, this.#key, HEADER_BYTES);
    body.set(COMMAND_NAME.MESSAGE, 0);
    writeShortNonce(body, 8, counter);

    // Outer flags 0: the session adds LONG for bodies over 255 bytes, never COMMAND or MORE
    return { flags: 0, body };
  }

  /**
   * Recover one part from a MESSAGE. Outer flags are ignored (libzmq accepts MESSAGE in either
   * kind of frame); MORE and COMMAND come only from the authenticated inner byte.
   */
  decode(body: Uint8Array): DecodeResult {
    if (body.length < MESSAGE_MIN_BYTES) {
      return fail(`curve: MESSAGE must be at least ${MESSAGE_MIN_BYTES} bytes, was ${body.length}`);
    }
    if (!hasName(body, COMMAND_NAME.MESSAGE)) return fail("curve: expected a MESSAGE command");
    const counter = readShortNonce(body, 8);
    if (counter <= this.#lastReceived) {
      return fail(
        `curve: MESSAGE short nonce must exceed ${this.#lastReceived}, was ${counter} (replay or reorder)`,
      );
    }
    writeShortNonce(this.#receiveNonce, 16, counter);
    const plaintext = open(body.subarray(HEADER_BYTES), this.#receiveNonce, this.#key);
    if (plaintext === null) return fail("curve: MESSAGE box did not open");
    const flags = plaintext[0] as number;
    if ((flags & ~KNOWN_FLAGS) !== 0) {
      return fail(`curve: MESSAGE flags have reserved bits set, was 0x${hex(flags)}`);
    }

    // Advance only after the box authenticated: forged frames must not move the window
    this.#lastReceived = counter;
    return {
      ok: true,
      data: plaintext.subarray(1),
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
