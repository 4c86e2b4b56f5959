/**
 * The contract between a ZMTP session (shared/net) and a security mechanism (NULL here, CURVE in
 * shared/curve). RFC 23 §2.4 / RFC 37: after the greeting, the mechanism owns the handshake
 * commands and, once ready, how each message part is framed on the wire.
 *
 * Mechanisms are pure state machines: no sockets, no timers, no clock. Randomness and keys are
 * injected. Every input is untrusted; a bad input yields a `failed` result, never a throw.
 */

export type MechanismName = "NULL" | "CURVE";

/** ZMTP socket types we speak (RFC 37 §2.3; compatibility in socket-type.ts). */
export type SocketType = "REQ" | "REP" | "DEALER" | "ROUTER";

/** Why a handshake ended badly; stable codes for events, logs and tests. */
export const HandshakeFailureCode = {
  /** A command was not the one expected in this state (e.g. READY before WELCOME). */
  UNEXPECTED_COMMAND: "UNEXPECTED_COMMAND",
  /** Wrong length, wrong version, bad name, trailing bytes. */
  MALFORMED_COMMAND: "MALFORMED_COMMAND",
  /** A box did not open, a cookie did not verify, the vouch did not match. */
  CRYPTOGRAPHIC: "CRYPTOGRAPHIC",
  /** Metadata could not be parsed or breaks a rule (duplicate Socket-Type, bad Identity). */
  INVALID_METADATA: "INVALID_METADATA",
  /** Peer's Socket-Type is not compatible with ours (RFC 37 §2.3). */
  SOCKET_TYPE_MISMATCH: "SOCKET_TYPE_MISMATCH",
  /** Server side: the authorizer refused the client's long-term key. */
  AUTH_REFUSED: "AUTH_REFUSED",
  /** Client side: the server sent ERROR (e.g. "400" after a refused key). Do not reconnect. */
  ERROR_RECEIVED: "ERROR_RECEIVED",
} as const;
export type HandshakeFailureCode = (typeof HandshakeFailureCode)[keyof typeof HandshakeFailureCode];

export interface HandshakeFailure {
  readonly code: HandshakeFailureCode;
  /** Lower-case, prefixed, says what was wrong: "curve: HELLO box did not open". */
  readonly message: string;
  /** The reason text of an ERROR command we received (client) or sent (server). */
  readonly errorReason?: string;
  /**
   * True when retrying with the same keys cannot help: we received ERROR (libzmq stops
   * reconnecting on ERROR, and so do we) or we refused the peer's key.
   */
  readonly fatal: boolean;
  /** Server side, AUTH_REFUSED: the client's long-term public key (C), for the log. */
  readonly clientPublicKey?: Uint8Array;
}

/** What we learnt about the peer once the handshake completed. */
export interface PeerInfo {
  readonly socketType: SocketType;
  /** The peer's Identity property (RFC 37 §2.4); empty when it sent none or an empty one. */
  readonly identity: Uint8Array;
  /**
   * CURVE only. On the server: the client's authenticated long-term key (C). On the client: the
   * server's key (S) the handshake proved.
   */
  readonly publicKey?: Uint8Array;
  /** Every property the peer sent, keyed by lower-cased name (names are case-insensitive). */
  readonly metadata: ReadonlyMap<string, Uint8Array>;
  /** Server side: what the authorizer attached (e.g. the client's configured name). */
  readonly userId?: string;
}

export type HandshakeResult =
  /** Send these command bodies (each in its own command frame), then wait for more input. */
  | { readonly status: "continue"; readonly send: readonly Uint8Array[] }
  /** Send these, then the connection carries messages. */
  | { readonly status: "ready"; readonly send: readonly Uint8Array[]; readonly peer: PeerInfo }
  /** Send these (an ERROR command at most), then close. */
  | {
      readonly status: "failed";
      readonly send: readonly Uint8Array[];
      readonly failure: HandshakeFailure;
    };

/** Flags of one message part as the application sees it (inner CURVE flags use the same bits). */
export const PartFlag = {
  MORE: 0x01,
  COMMAND: 0x02,
} as const;

/** Outer ZMTP frame flags (RFC 23 §2.3 / RFC 37). */
export const FrameFlag = {
  MORE: 0x01,
  LONG: 0x02,
  COMMAND: 0x04,
} as const;

/** One wire frame to write: outer flags (MORE/COMMAND only; the encoder adds LONG) and body. */
export interface OutgoingFrame {
  readonly flags: number;
  readonly body: Uint8Array;
  /**
   * The whole frame, header ‖ body, when the mechanism laid it out in one buffer (`body` is then
   * its tail), a view of an ArrayBuffer (frame-slab.ts): the session writes it as is, saving a
   * header allocation, and adjacent frames go out without a copy (Connection.writeFrame).
   */
  readonly wire?: Uint8Array;
}

/** One message part recovered from a wire frame after the handshake. */
export type DecodeResult =
  | {
      readonly ok: true;
      readonly data: Uint8Array;
      readonly more: boolean;
      readonly command: boolean;
    }
  | { readonly ok: false; readonly message: string };

/**
 * Server-side authorisation of a CURVE client's long-term key (our ZAP, RFC 27 semantics):
 * 200 → READY, 300 → silent close, 400/500 → ERROR "400"/"500" then close.
 * Synchronous on purpose: the gateway's allow-list is in memory.
 */
export interface AuthRequest {
  readonly mechanism: MechanismName;
  readonly publicKey: Uint8Array;
  readonly address: string;
}
export type AuthResult =
  | { readonly status: 200; readonly userId?: string }
  | { readonly status: 300 | 400 | 500; readonly reason?: string };
export type Authorizer = (request: AuthRequest) => AuthResult;

export interface Mechanism {
  readonly name: MechanismName;
  /** True for the CURVE server side (and NULL's as-server bit, which nobody checks). */
  readonly asServer: boolean;
  /** Commands to send once the peer's greeting has been accepted (HELLO; NULL READY). */
  start(): HandshakeResult;
  /** Feed the body of one command frame received during the handshake. */
  processHandshake(body: Uint8Array): HandshakeResult;
  /**
   * Turn one outgoing message part into a wire frame. `command` marks ZMTP commands after the
   * handshake (PING, PONG, SUBSCRIBE, CANCEL). Throws only when the connection must close
   * (CURVE nonce counter exhausted).
   */
  encode(data: Uint8Array, more: boolean, command: boolean): OutgoingFrame;
  /**
   * Recover a message part from a received frame (outer flags and body). The body is the
   * mechanism's to use: CURVE decrypts it in place and returns the part as a view of it.
   */
  decode(flags: number, body: Uint8Array): DecodeResult;
}
