/**
 * The gateway end of the EA link before a session exists (docs/EA-LINK.md §1, §6): listens on
 * 127.0.0.1 only, gives each new connection 5 s and a small frame budget to send a valid HELLO,
 * answers a refusal with HELLO_ACK ok:false and closes, and hands an accepted connection (with
 * its parsed HELLO) to the backend, which turns it into the session.
 */
import type { TCPSocketListener } from "bun";
import type { Clock, TimerHandle } from "../../../shared/clock.ts";
import { AgentError, FaultCode } from "../../../shared/errors.ts";
import type { Logger } from "../../../shared/log.ts";
import { encodeOutbound } from "./framing.ts";
import { checkHello, type EaHello } from "./hello.ts";
import { type LinkSlot, LinkSocket, linkSocketHandlers } from "./link-socket.ts";

/** §1: never 0.0.0.0; the EA dials 127.0.0.1. */
export const LINK_HOST = "127.0.0.1";
/** §6.2: the gateway closes a connection that sends no valid HELLO within 5 s. */
export const DEFAULT_HELLO_TIMEOUT_MS = 5000;
/** A HELLO is under 1 KiB; an unauthenticated peer gets no more than this per frame. */
export const MAX_HELLO_FRAME_BYTES = 16_384;
/** Connections still owing their HELLO; more are closed at once (a local flood). */
export const DEFAULT_MAX_PENDING_CONNECTIONS = 4;

export interface LinkServerOptions {
  readonly port: number;
  readonly token: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly helloTimeoutMs: number;
  readonly maxPendingConnections: number;
  /** When set, a HELLO from another login is refused with WRONG_ACCOUNT (§6.2). */
  readonly expectedLogin: number | undefined;
  /** An authenticated EA: the callee sends HELLO_ACK ok:true and owns the socket from now on. */
  readonly accepted: (socket: LinkSocket, hello: EaHello) => void;
}

export class LinkServer {
  readonly #options: LinkServerOptions;
  #listener: TCPSocketListener<LinkSlot> | undefined;
  readonly #pending = new Set<LinkSocket>();

  constructor(options: LinkServerOptions) {
    this.#options = options;
  }

  /** The bound port (resolved when 0 was asked for). */
  get port(): number | undefined {
    return this.#listener?.port;
  }

  start(): number {
    if (this.#listener !== undefined) return this.#listener.port;
    try {
      this.#listener = Bun.listen<LinkSlot>({
        hostname: LINK_HOST,
        port: this.#options.port,
        // Two gateways on one port would split the EA between them
        exclusive: true,
        data: { link: undefined },
        socket: {
          ...linkSocketHandlers,
          open: (socket) => this.#accept(socket),
        },
      });
    } catch (error) {
      throw new AgentError(
        FaultCode.ENDPOINT_INVALID,
        `terminal: could not listen on ${LINK_HOST}:${this.#options.port} for the EA: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return this.#listener.port;
  }

  stop(): void {
    this.#listener?.stop(true);
    this.#listener = undefined;
    for (const socket of [...this.#pending]) socket.destroy("gateway stopping");
    this.#pending.clear();
  }

  #accept(raw: Parameters<typeof linkSocketHandlers.data>[0]): void {
    const { clock, logger } = this.#options;
    const socket = new LinkSocket(raw, MAX_HELLO_FRAME_BYTES);
    if (this.#pending.size >= this.#options.maxPendingConnections) {
      logger.warn("EA connection refused: too many connections without HELLO", {
        address: socket.address,
      });
      socket.destroy("too many pending connections");
      return;
    }
    this.#pending.add(socket);
    let timer: TimerHandle | undefined = clock.setTimeout(() => {
      timer = undefined;
      logger.warn("EA connection closed: no HELLO in time", {
        address: socket.address,
        timeout_ms: this.#options.helloTimeoutMs,
      });
      socket.destroy("no HELLO in time");
    }, this.#options.helloTimeoutMs);
    let answered = false;
    socket.setHandlers({
      frame: (message) => {
        // Anything after the first frame and before the session takes over is ignored
        if (answered) return;
        answered = true;
        timer?.cancel();
        timer = undefined;
        this.#pending.delete(socket);
        this.#judge(socket, message);
      },
      closed: (reason) => {
        timer?.cancel();
        timer = undefined;
        if (this.#pending.delete(socket) && !answered) {
          logger.debug("EA connection closed before HELLO", { address: socket.address, reason });
        }
      },
    });
  }

  #judge(socket: LinkSocket, message: Record<string, unknown>): void {
    const { token, expectedLogin, logger } = this.#options;
    const verdict = checkHello(message, token, expectedLogin);
    if (!verdict.ok) {
      // Logged with the peer's address, never with the token it presented
      logger.warn("EA HELLO refused", {
        address: socket.address,
        reason: verdict.reason,
        detail: verdict.detail,
      });
      socket.write(encodeOutbound({ type: "HELLO_ACK", ok: false, reason: verdict.reason }));
      socket.end(`HELLO refused: ${verdict.reason}`);
      return;
    }
    this.#options.accepted(socket, verdict.hello);
  }
}
