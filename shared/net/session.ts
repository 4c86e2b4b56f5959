/**
 * One ZMTP session over one TCP connection: greeting → mechanism handshake → traffic
 * (RFC 23 §2, RFC 37). It owns the handshake timer (ZMQ_HANDSHAKE_IVL), the ZMTP heartbeats
 * (RFC 37 §2.6, libzmq HEARTBEAT_IVL/TTL/TIMEOUT semantics) and multipart assembly, and hands
 * complete messages to its owner only after the handshake is done (CVE-2020-15166).
 */
import type { Clock, TimerHandle } from "../clock.ts";
import { ProtocolError } from "../errors.ts";
import {
  encodePing,
  encodePong,
  isCommand,
  parseCommand,
  parseErrorReason,
  parsePing,
} from "../zmtp/command.ts";
import { encodeFrameHeader, FrameDecoder, frameHeaderSize } from "../zmtp/frame.ts";
import { encodeGreeting, GreetingReader } from "../zmtp/greeting.ts";
import {
  FrameFlag,
  type HandshakeFailure,
  type HandshakeResult,
  type Mechanism,
  type OutgoingFrame,
  type PeerInfo,
} from "../zmtp/mechanism.ts";
import type { Connection } from "./connection.ts";
import { MAX_HANDSHAKE_FRAME_BYTES, type ResolvedOptions } from "./options.ts";

/** Room for the CURVE MESSAGE envelope (33 bytes) on top of maxMessageSize. */
const MECHANISM_OVERHEAD_BYTES = 64;

export type SessionPhase = "greeting" | "handshake" | "ready" | "closed";

export interface SessionCloseInfo {
  /** Phase the session was in when it ended. */
  readonly phase: SessionPhase;
  readonly reason: string;
  /** How the handshake failed, when it did. */
  readonly failure?: HandshakeFailure;
  /** A timer (handshake or heartbeat) ended it. */
  readonly timedOut?: boolean;
  /**
   * We ended it because the peer broke ZMTP framing (bad flags, a frame over the size cap, a
   * message frame during the handshake). Without this a handshake-phase violation was reported
   * as "CLOSED", as if the peer had hung up. Found by test/robustness/preauth-parsing.test.ts.
   */
  readonly protocolError?: boolean;
  /** The socket closed it to make room for a newer connection (pre-auth eviction). */
  readonly evicted?: boolean;
}

export interface SessionOwner {
  /** Handshake done. Return false to refuse the peer (e.g. routing id taken); the session closes. */
  sessionReady(session: Session, peer: PeerInfo): boolean;
  sessionMessage(session: Session, parts: Uint8Array[]): void;
  sessionClosed(session: Session, info: SessionCloseInfo): void;
}

export class Session {
  readonly connection: Connection;
  readonly #mechanism: Mechanism;
  readonly #options: ResolvedOptions;
  readonly #owner: SessionOwner;
  readonly #clock: Clock;
  #phase: SessionPhase = "greeting";
  #greeting: GreetingReader;
  #decoder = new FrameDecoder({ maxFrameSize: MAX_HANDSHAKE_FRAME_BYTES });
  #peer: PeerInfo | undefined;
  #parts: Uint8Array[] = [];
  #messageBytes = 0;
  #handshakeTimer: TimerHandle | undefined;
  /** Greeting and first handshake command (server side, helloTimeoutMs). */
  #helloTimer: TimerHandle | undefined;
  #heartbeatTimer: TimerHandle | undefined;
  #timeoutTimer: TimerHandle | undefined;
  #ttlTimer: TimerHandle | undefined;
  /** Every decoded frame counts as proof of life for the heartbeat timers. */
  #framesReceived = 0;

  /** `helloTimeoutMs`: the peer's greeting and first command must arrive this soon; 0 = no such limit. */
  constructor(
    connection: Connection,
    mechanism: Mechanism,
    options: ResolvedOptions,
    owner: SessionOwner,
    helloTimeoutMs = 0,
  ) {
    this.connection = connection;
    this.#mechanism = mechanism;
    this.#options = options;
    this.#owner = owner;
    this.#clock = options.clock;
    this.#greeting = new GreetingReader(mechanism.name);
    connection.setHandlers({
      data: (chunk) => this.#onData(chunk),
      closed: (reason) => this.#finish({ phase: this.#phase, reason }),
    });
    this.#handshakeTimer = this.#clock.setTimeout(() => {
      this.#handshakeTimer = undefined;
      this.close(`handshake not finished within ${options.handshakeTimeoutMs} ms`, {
        timedOut: true,
      });
    }, options.handshakeTimeoutMs);
    if (helloTimeoutMs > 0 && helloTimeoutMs < options.handshakeTimeoutMs) {
      this.#helloTimer = this.#clock.setTimeout(() => {
        this.#helloTimer = undefined;
        this.close(
          `greeting and first handshake command not received within ${helloTimeoutMs} ms`,
          {
            timedOut: true,
          },
        );
      }, helloTimeoutMs);
    }
    // Send all 64 bytes at once (research §2.1): waiting for the peer first would deadlock with
    // libzmq, which releases its greeting in stages as ours arrives.
    connection.write(encodeGreeting(mechanism.name, mechanism.asServer));
  }

  get phase(): SessionPhase {
    return this.#phase;
  }

  get peer(): PeerInfo | undefined {
    return this.#peer;
  }

  /** Messages queued in user space; compared with the send high-water mark. */
  get queuedMessages(): number {
    return this.connection.queuedMessages;
  }

  /**
   * Send one multipart message. Returns false (message not queued) when the session is not
   * ready or its queue is at the high-water mark.
   */
  send(parts: readonly Uint8Array[]): boolean {
    if (
      this.#phase !== "ready" ||
      this.connection.queuedMessages >= this.#options.sendHighWaterMark
    )
      return false;
    const last = parts.length - 1;
    try {
      for (let i = 0; i <= last; i++) {
        this.#writeFrame(this.#mechanism.encode(parts[i] as Uint8Array, i < last, false));
      }
    } catch (error) {
      // Only a CURVE nonce counter about to wrap throws here: the connection must end.
      this.close(`could not encode a message: ${(error as Error).message}`);
      return false;
    }
    this.connection.messageQueued();
    return true;
  }

  /** Close the session (FIN after queued bytes), once. */
  close(
    reason: string,
    extra: {
      failure?: HandshakeFailure;
      timedOut?: boolean;
      protocolError?: boolean;
      evicted?: boolean;
    } = {},
  ): void {
    if (this.#phase === "closed") return;
    const phase = this.#phase;
    // Finish first, then end the socket. Bun runs the socket's close callback synchronously
    // inside end() when nothing is queued, and that path reports "closed by peer" with no
    // failure: finishing second lost the reason, the handshake failure (so a received ERROR
    // was not fatal and the client kept reconnecting, and a 300 refusal emitted no
    // refused_key) and the timeout flag. Found by test/interop/heartbeat.test.ts.
    this.#finish({ phase, reason, ...extra });
    this.connection.end();
  }

  #finish(info: SessionCloseInfo): void {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    this.#handshakeTimer?.cancel();
    this.#helloTimer?.cancel();
    this.#heartbeatTimer?.cancel();
    this.#timeoutTimer?.cancel();
    this.#ttlTimer?.cancel();
    this.#parts = [];
    this.#owner.sessionClosed(this, info);
  }

  /** A method, not a field read, so the compiler does not narrow across calls that close. */
  #isClosed(): boolean {
    return this.#phase === "closed";
  }

  #onData(chunk: Uint8Array): void {
    if (this.#phase === "closed") return;
    let bytes = chunk;
    if (this.#phase === "greeting") {
      const result = this.#greeting.push(chunk);
      if (result.status === "need-more") return;
      if (result.status === "error") {
        this.close(result.message);
        return;
      }
      this.#phase = "handshake";
      this.#apply(this.#mechanism.start());
      if (this.#isClosed() || result.rest.length === 0) return;
      bytes = result.rest;
    }
    try {
      this.#decoder.push(bytes, this.#onFrame);
    } catch (error) {
      const message = error instanceof ProtocolError ? error.message : `zmtp: ${String(error)}`;
      this.close(message, { protocolError: true });
    }
  }

  readonly #onFrame = (flags: number, body: Uint8Array): boolean => {
    this.#framesReceived += 1;
    if (this.#phase === "ready") {
      this.#onTrafficFrame(flags, body);
    } else if (this.#phase === "handshake") {
      if ((flags & FrameFlag.COMMAND) === 0) {
        this.close("zmtp: message frame received before the handshake completed", {
          protocolError: true,
        });
      } else {
        this.#helloTimer?.cancel();
        this.#helloTimer = undefined;
        this.#apply(this.#mechanism.processHandshake(body));
      }
    }
    return this.#phase !== "closed";
  };

  #apply(result: HandshakeResult): void {
    for (const command of result.send)
      this.#writeFrame({ flags: FrameFlag.COMMAND, body: command });
    if (result.status === "continue") return;
    if (result.status === "failed") {
      this.close(result.failure.message, { failure: result.failure });
      return;
    }
    this.#handshakeTimer?.cancel();
    this.#handshakeTimer = undefined;
    this.#decoder.setMaxFrameSize(this.#options.maxMessageSize + MECHANISM_OVERHEAD_BYTES);
    this.#phase = "ready";
    this.#peer = result.peer;
    if (!this.#owner.sessionReady(this, result.peer)) {
      this.close("peer refused by the socket");
      return;
    }
    this.#startHeartbeat();
  }

  #onTrafficFrame(flags: number, body: Uint8Array): void {
    const part = this.#mechanism.decode(flags, body);
    if (!part.ok) {
      this.close(part.message);
      return;
    }
    if (part.command) {
      this.#onCommand(part.data);
      return;
    }
    this.#messageBytes += part.data.length;
    if (
      this.#parts.length >= this.#options.maxMessageParts ||
      this.#messageBytes > this.#options.maxMessageSize
    ) {
      this.close(
        `zmtp: message exceeds ${this.#options.maxMessageParts} parts or ${this.#options.maxMessageSize} bytes`,
      );
      return;
    }
    // Parts may be views into the received chunk: safe to keep, because Bun hands every `data`
    // callback a freshly allocated buffer (checked on 1.4.5) and the decoder copies frames that
    // span chunks.
    this.#parts.push(part.data);
    if (part.more) return;
    const parts = this.#parts;
    this.#parts = [];
    this.#messageBytes = 0;
    this.#owner.sessionMessage(this, parts);
  }

  /** ZMTP commands after the handshake (RFC 37 §2.6–2.7). */
  #onCommand(body: Uint8Array): void {
    try {
      if (isCommand(body, "PING")) {
        const ping = parsePing(parseCommand(body).data);
        this.#writeFrame(this.#mechanism.encode(encodePong(ping.context), false, true));
        if (ping.ttlDeciseconds > 0) this.#armTtl(ping.ttlDeciseconds * 100);
      } else if (isCommand(body, "ERROR")) {
        const reason = parseErrorReason(parseCommand(body).data);
        this.close(`zmtp: peer sent ERROR after the handshake: ${JSON.stringify(reason)}`);
      }
      // PONG only proves life (already counted); SUBSCRIBE/CANCEL mean nothing to DEALER/ROUTER.
    } catch (error) {
      this.close(error instanceof Error ? error.message : String(error));
    }
  }

  #startHeartbeat(): void {
    const interval = this.#options.heartbeatIntervalMs;
    if (interval <= 0) return;
    const ttlDeciseconds = Math.floor(this.#options.heartbeatTtlMs / 100);
    this.#heartbeatTimer = this.#clock.setInterval(() => {
      if (this.#phase !== "ready") return;
      try {
        this.#writeFrame(this.#mechanism.encode(encodePing(ttlDeciseconds), false, true));
      } catch (error) {
        this.close(`could not encode PING: ${(error as Error).message}`);
        return;
      }
      // libzmq: after a PING, if no frame of any kind arrives within TIMEOUT, the peer is dead.
      if (this.#timeoutTimer === undefined) {
        const seen = this.#framesReceived;
        this.#timeoutTimer = this.#clock.setTimeout(() => {
          this.#timeoutTimer = undefined;
          if (this.#framesReceived === seen) {
            this.close(
              `heartbeat: nothing received within ${this.#options.heartbeatTimeoutMs} ms of a PING`,
              {
                timedOut: true,
              },
            );
          }
        }, this.#options.heartbeatTimeoutMs);
      }
    }, interval);
  }

  /** The peer's PING TTL: if nothing at all arrives within it, the peer is gone. */
  #armTtl(ttlMs: number): void {
    this.#ttlTimer?.cancel();
    const seen = this.#framesReceived;
    this.#ttlTimer = this.#clock.setTimeout(() => {
      this.#ttlTimer = undefined;
      if (this.#framesReceived === seen) {
        this.close(`heartbeat: peer's PING TTL of ${ttlMs} ms expired`, { timedOut: true });
      }
    }, ttlMs);
  }

  #writeFrame(frame: OutgoingFrame): void {
    if (frame.wire !== undefined) {
      this.connection.writeFrame(frame.wire);
      return;
    }
    const header = new Uint8Array(frameHeaderSize(frame.body.length));
    encodeFrameHeader(frame.flags, frame.body.length, header, 0);
    this.connection.write(header);
    if (frame.body.length > 0) this.connection.write(frame.body);
  }
}
