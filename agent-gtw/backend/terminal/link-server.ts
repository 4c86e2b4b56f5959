/**
 * The gateway end of the EA link before a session exists (docs/EA-LINK.md §1, §6): listens on
 * 127.0.0.1 only, runs each new connection's handshake (link-handshake.ts) within one deadline
 * and a small frame budget, and hands an authenticated connection (with its HELLO) to the
 * backend, which turns it into the session.
 *
 * A local process can open connections at will, so what it can hold is bounded (§6.2): a few
 * pre-HELLO slots, where a newcomer evicts the oldest connection once that one had its chance
 * (a holder of stale slots cannot keep a restarted EA out), and log lines about unauthenticated
 * peers go through a throttle, as the CURVE server's do.
 */
import type { TCPSocketListener } from "bun";
import type { Clock, TimerHandle } from "../../../shared/clock.ts";
import { AgentError, FaultCode } from "../../../shared/errors.ts";
import type { LogFields, Logger } from "../../../shared/log.ts";
import { LogThrottle } from "../../server/log-throttle.ts";
import { encodeOutbound } from "./framing.ts";
import type { EaHello } from "./hello.ts";
import type { RandomBytes } from "./link-auth.ts";
import { GatewayHandshake } from "./link-handshake.ts";
import { type LinkSlot, LinkSocket, linkSocketHandlers } from "./link-socket.ts";

/** §1: never 0.0.0.0; the EA dials 127.0.0.1. */
export const LINK_HOST = "127.0.0.1";
/**
 * §6.2: from accept to a valid HELLO. The EA answers the CHALLENGE on its next 10 ms timer
 * tick, so a healthy handshake takes tens of milliseconds; the rest is slack for a busy terminal.
 */
export const DEFAULT_HELLO_TIMEOUT_MS = 3000;
/** A HELLO is under 1 KiB; an unauthenticated peer gets no more than this per frame. */
export const MAX_HELLO_FRAME_BYTES = 16_384;
/** Connections still owing their HELLO. */
export const DEFAULT_MAX_PENDING_CONNECTIONS = 8;
/**
 * A pre-HELLO connection younger than this is not evicted: far longer than the EA's handshake,
 * so a holder that reopens each evicted connection at once cannot push the EA out in turn.
 */
export const DEFAULT_PENDING_GRACE_MS = 250;
/** Pre-HELLO log lines: the first few per window, then one line with the count. */
const LOG_WINDOW_MS = 10_000;
const LOG_PER_WINDOW = 20;

export interface LinkServerOptions {
  readonly port: number;
  readonly secret: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly helloTimeoutMs: number;
  readonly maxPendingConnections: number;
  readonly pendingGraceMs: number;
  /** When set, a HELLO from another login is refused with WRONG_ACCOUNT (§6.2). */
  readonly expectedLogin: number | undefined;
  /** The gateway's nonces; the OS CSPRNG unless a test injects its own. */
  readonly random?: RandomBytes;
  /** An authenticated EA: the callee sends HELLO_ACK ok:true and owns the socket from now on. */
  readonly accepted: (socket: LinkSocket, hello: EaHello) => void;
}

interface Pending {
  readonly socket: LinkSocket;
  readonly acceptedAt: number;
  readonly handshake: GatewayHandshake;
  timer: TimerHandle | undefined;
}

export class LinkServer {
  readonly #options: LinkServerOptions;
  #listener: TCPSocketListener<LinkSlot> | undefined;
  /** Insertion order is accept order: the first entry is the oldest. */
  readonly #pending = new Map<LinkSocket, Pending>();
  readonly #log: LogThrottle;
  #lastFailure: string | undefined;

  constructor(options: LinkServerOptions) {
    this.#options = options;
    const { clock, logger } = options;
    this.#log = new LogThrottle({
      windowMs: LOG_WINDOW_MS,
      perWindow: LOG_PER_WINDOW,
      now: () => clock.monotonic(),
      setTimer: (fn, ms) => clock.setTimeout(fn, ms),
      report: (count, windowMs) =>
        logger.warn("EA link: unauthenticated connections not logged one by one", {
          count,
          window_s: windowMs / 1000,
        }),
    });
  }

  /** The bound port (resolved when 0 was asked for). */
  get port(): number | undefined {
    return this.#listener?.port;
  }

  /** Connections still in their handshake. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Why the last handshake failed (for the link detail while no EA is connected). */
  get lastFailure(): string | undefined {
    return this.#lastFailure;
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
    for (const entry of [...this.#pending.values()]) entry.socket.destroy("gateway stopping");
    this.#pending.clear();
    this.#log.stop();
  }

  #accept(raw: Parameters<typeof linkSocketHandlers.data>[0]): void {
    const { clock, secret, expectedLogin, random } = this.#options;
    const socket = new LinkSocket(raw, MAX_HELLO_FRAME_BYTES);
    if (!this.#makeRoom(socket)) return;
    const entry: Pending = {
      socket,
      acceptedAt: clock.monotonic(),
      handshake: new GatewayHandshake({ secret, expectedLogin, ...(random ? { random } : {}) }),
      timer: undefined,
    };
    this.#pending.set(socket, entry);
    entry.timer = clock.setTimeout(() => {
      entry.timer = undefined;
      this.#release(entry);
      this.#failed(entry, "no HELLO in time", {
        stage: entry.handshake.stage,
        timeout_ms: this.#options.helloTimeoutMs,
      });
      socket.destroy("no HELLO in time");
    }, this.#options.helloTimeoutMs);
    socket.setHandlers({
      frame: (message) => this.#frame(entry, message),
      closed: (reason) => this.#closed(entry, reason),
    });
  }

  /** Room for one more pending connection: evict the oldest if it had its chance, else refuse. */
  #makeRoom(socket: LinkSocket): boolean {
    if (this.#pending.size < this.#options.maxPendingConnections) return true;
    const oldest = this.#pending.values().next().value as Pending;
    const age = this.#options.clock.monotonic() - oldest.acceptedAt;
    if (age >= this.#options.pendingGraceMs) {
      this.#failed(oldest, "evicted: the pre-HELLO slots are full", { age_ms: Math.round(age) });
      this.#release(oldest);
      oldest.socket.destroy("evicted to make room");
      return true;
    }
    this.#note("warn", "EA connection refused: the pre-HELLO slots are full of new connections", {
      address: socket.address,
    });
    socket.destroy("too many pending connections");
    return false;
  }

  #frame(entry: Pending, message: Record<string, unknown>): void {
    // Anything after the handshake ended and before the session took over is ignored
    if (this.#pending.get(entry.socket) !== entry) return;
    const step = entry.handshake.step(message);
    if (step.kind === "reply") {
      entry.socket.write(encodeOutbound(step.frame));
      return;
    }
    this.#release(entry);
    if (step.kind === "refuse") {
      // Logged with the peer's address and the reason, never with what it presented
      this.#failed(entry, `refused: ${step.reason}`, { reason: step.reason, detail: step.detail });
      entry.socket.write(encodeOutbound(GatewayHandshake.refusal(step.reason)));
      entry.socket.end(`handshake refused: ${step.reason}`);
      return;
    }
    this.#lastFailure = undefined;
    this.#options.accepted(entry.socket, step.hello);
  }

  #closed(entry: Pending, reason: string): void {
    if (this.#pending.get(entry.socket) !== entry) return;
    this.#release(entry);
    if (entry.handshake.stage === "HELLO") {
      // The EA checks our proof before it says HELLO: it hung up because the proof was wrong
      this.#failed(
        entry,
        "closed after CHALLENGE: the EA's secret differs from backend.terminal.secret_file, or the peer is not the EA",
        { reason },
      );
      return;
    }
    this.#note("debug", "EA connection closed before its handshake", {
      address: entry.socket.address,
      reason,
    });
  }

  #release(entry: Pending): void {
    entry.timer?.cancel();
    entry.timer = undefined;
    this.#pending.delete(entry.socket);
  }

  #failed(entry: Pending, what: string, fields: LogFields): void {
    this.#lastFailure = `last handshake from ${entry.socket.address} failed: ${what}`;
    this.#note("warn", `EA handshake failed: ${what}`, {
      address: entry.socket.address,
      ...fields,
    });
  }

  #note(level: "warn" | "debug", message: string, fields: LogFields): void {
    if (this.#log.admit()) this.#options.logger[level](message, fields);
  }
}
