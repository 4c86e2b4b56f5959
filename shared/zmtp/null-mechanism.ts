/**
 * The NULL security mechanism (RFC 23 §2.5 "The NULL Security Mechanism", research §2.4 and
 * §4.3): each side sends READY with its metadata straight after the greeting, without waiting for
 * the peer, and the connection is up once READY has gone both ways. No authentication, no
 * confidentiality; in this project it exists for codec tests and interop checks only (DESIGN §4).
 *
 * Pure state machine: never throws out of processHandshake; a bad input yields `failed`.
 */
import { describeError, ProtocolError } from "../errors.ts";
import { type Command, encodeReady, parseCommand, parseErrorReason } from "./command.ts";
import {
  type DecodeResult,
  FrameFlag,
  type HandshakeFailure,
  type HandshakeFailureCode,
  type HandshakeResult,
  type Mechanism,
  type OutgoingFrame,
  type PeerInfo,
  type SocketType,
} from "./mechanism.ts";
import { type Metadata, parseMetadata, socketMetadata } from "./metadata.ts";
import { checkPeerMetadata } from "./socket-type.ts";

export interface NullMechanismOptions {
  readonly socketType: SocketType;
  /** Our Identity property (sent by REQ, DEALER and ROUTER only, as libzmq does). */
  readonly identity?: Uint8Array;
  /** The greeting's as-server bit; NULL gives it no meaning (RFC 23 §2.2 "Topology"). */
  readonly asServer?: boolean;
}

type State = "initial" | "sent-ready" | "ready" | "failed";

const NOTHING: readonly Uint8Array[] = [];

/** Bits the outer frame may carry once LONG is ignored (RFC 23 §2.3). */
const PART_BITS = FrameFlag.MORE | FrameFlag.COMMAND | FrameFlag.LONG;

export class NullMechanism implements Mechanism {
  readonly name = "NULL" as const;
  readonly asServer: boolean;
  private readonly socketType: SocketType;
  private readonly readyBody: Uint8Array;
  private state: State = "initial";
  private peer: PeerInfo | undefined;
  private failure: HandshakeFailure | undefined;

  constructor(options: NullMechanismOptions) {
    const identity = options.identity;
    // Fail before connecting: the peer would refuse it anyway (RFC 37 §2.4, checkPeerMetadata)
    if (identity !== undefined && (identity.length > 255 || identity[0] === 0)) {
      throw new RangeError(
        `zmtp: identity must be at most 255 bytes and not start with 0x00, was ${identity.length} bytes`,
      );
    }
    this.socketType = options.socketType;
    this.asServer = options.asServer ?? false;
    this.readyBody = encodeReady(socketMetadata(options.socketType, options.identity));
  }

  /**
   * READY with our metadata. Idempotent: a second call sends nothing and reports the current
   * state, so READY is never sent twice.
   */
  start(): HandshakeResult {
    if (this.state === "initial") {
      this.state = "sent-ready";
      return { status: "continue", send: [this.readyBody] };
    }
    return this.current();
  }

  processHandshake(body: Uint8Array): HandshakeResult {
    if (this.state === "failed") return this.current();
    if (this.state === "ready") {
      // Commands after the handshake belong to decode(); getting one here is a session bug
      return this.fail("UNEXPECTED_COMMAND", "zmtp: handshake command after NULL READY");
    }
    let command: Command;
    try {
      command = parseCommand(body);
    } catch (error) {
      return this.fail("MALFORMED_COMMAND", describeError(error));
    }
    // Names match exactly (research §2.3): "ready" is not READY
    if (command.name === "READY") return this.onReady(command.data);
    if (command.name === "ERROR") return this.onError(command.data);
    return this.fail(
      "UNEXPECTED_COMMAND",
      `zmtp: unexpected command during the NULL handshake, was ${JSON.stringify(command.name)}`,
    );
  }

  /**
   * Outer frame flags for a part (NULL sends data in clear). Throws ProtocolError before the
   * handshake completes (no data may precede READY, research §0.5) and for a command with MORE.
   */
  encode(data: Uint8Array, more: boolean, command: boolean): OutgoingFrame {
    if (this.state !== "ready") {
      throw new ProtocolError("zmtp: NULL encode before the handshake completed");
    }
    if (more && command) throw new ProtocolError("zmtp: MORE set on a command frame");
    const flags = (more ? FrameFlag.MORE : 0) | (command ? FrameFlag.COMMAND : 0);
    return { flags, body: data };
  }

  /** The part is the frame: MORE from bit 0, COMMAND from bit 2; `data` is the body itself. */
  decode(flags: number, body: Uint8Array): DecodeResult {
    if (this.state !== "ready") {
      return { ok: false, message: "zmtp: NULL frame received before the handshake completed" };
    }
    const more = (flags & FrameFlag.MORE) !== 0;
    const command = (flags & FrameFlag.COMMAND) !== 0;
    if ((flags & PART_BITS) !== flags || (more && command)) {
      return { ok: false, message: `zmtp: invalid frame flags, was ${flags}` };
    }
    return { ok: true, data: body, more, command };
  }

  private onReady(data: Uint8Array): HandshakeResult {
    let metadata: Metadata;
    try {
      metadata = parseMetadata(data);
    } catch (error) {
      return this.fail("INVALID_METADATA", describeError(error));
    }
    const check = checkPeerMetadata(this.socketType, metadata);
    // libzmq closes silently on bad metadata or a socket-type mismatch (research §2.4)
    if (!check.ok) return this.fail(check.code, check.message);

    // The peer's READY may arrive before start(); ours must still go out exactly once
    const send = this.state === "initial" ? [this.readyBody] : NOTHING;
    this.state = "ready";
    this.peer = { socketType: check.socketType, identity: check.identity, metadata };
    return { status: "ready", send, peer: this.peer };
  }

  private onError(data: Uint8Array): HandshakeResult {
    let reason: string;
    try {
      reason = parseErrorReason(data);
    } catch (error) {
      return this.fail("MALFORMED_COMMAND", describeError(error));
    }
    // RFC 23 "Error Handling": ERROR is fatal, do not reconnect with the same credentials
    return this.fail("ERROR_RECEIVED", `zmtp: peer sent ERROR ${JSON.stringify(reason)}`, reason);
  }

  private fail(code: HandshakeFailureCode, message: string, errorReason?: string): HandshakeResult {
    this.state = "failed";
    this.failure =
      errorReason === undefined
        ? { code, message, fatal: false }
        : { code, message, errorReason, fatal: true };
    return { status: "failed", send: NOTHING, failure: this.failure };
  }

  /** The outcome so far, with nothing (more) to send. */
  private current(): HandshakeResult {
    if (this.state === "ready" && this.peer !== undefined) {
      return { status: "ready", send: NOTHING, peer: this.peer };
    }
    if (this.state === "failed" && this.failure !== undefined) {
      return { status: "failed", send: NOTHING, failure: this.failure };
    }
    return { status: "continue", send: NOTHING };
  }
}
