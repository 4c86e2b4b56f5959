/**
 * What DEALER and ROUTER share: binding (with pre-authentication limits), connecting (with
 * reconnect and backoff), the sessions, the event stream and a clean close that leaves no timer
 * or socket behind. Subclasses decide what a ready peer and a message mean (socket pattern).
 */
import type { Socket, TCPSocketListener } from "bun";
import { AgentError, FaultCode } from "../errors.ts";
import type { PeerInfo, SocketType } from "../zmtp/mechanism.ts";
import { Backoff } from "./backoff.ts";
import { Connection, connectionSocketHandlers, type SocketSlot } from "./connection.ts";
import { type Endpoint, formatEndpoint, parseEndpoint } from "./endpoint.ts";
import type { SocketEvent, SocketEventListener } from "./events.ts";
import { type ResolvedOptions, resolveOptions, type SocketOptions } from "./options.ts";
import { TokenBucket } from "./rate-limit.ts";
import { createMechanism, validateSecurity } from "./security.ts";
import { Session, type SessionCloseInfo, type SessionOwner } from "./session.ts";

interface Binding {
  readonly endpoint: string;
  readonly listener: TCPSocketListener<SocketSlot>;
}

/** One `connect()` target: keeps one session alive, reconnecting with backoff. */
interface Connecter {
  readonly endpoint: string;
  readonly target: Endpoint;
  readonly backoff: Backoff;
  session: Session | undefined;
  timer: { cancel(): void } | undefined;
  /** The running attempt's ZMQ_CONNECT_TIMEOUT timer, so close() can cancel it too. */
  connectTimer: { cancel(): void } | undefined;
  pendingSocket: Socket<SocketSlot> | undefined;
  stopped: boolean;
}

export abstract class SocketCore implements SessionOwner {
  protected readonly options: ResolvedOptions;
  readonly #socketType: SocketType;
  readonly #listeners = new Set<SocketEventListener>();
  readonly #bindings: Binding[] = [];
  readonly #connecters = new Map<string, Connecter>();
  readonly #sessions = new Set<Session>();
  /** Sessions still handshaking, per source address (pre-auth limits). */
  readonly #handshaking = new Map<string, number>();
  #handshakingTotal = 0;
  readonly #acceptBucket: TokenBucket;
  /** Which endpoint each session belongs to, for events. */
  readonly #sessionEndpoint = new WeakMap<Session, string>();
  readonly #sessionConnecter = new WeakMap<Session, Connecter>();
  #closed = false;

  protected constructor(socketType: SocketType, options: SocketOptions) {
    this.#socketType = socketType;
    validateSecurity(options.security);
    const identity = options.identity;
    // RFC 37 §2.4: 1..255 bytes, and a leading zero is reserved for ids a ROUTER makes up.
    if (identity !== undefined && (identity.length > 255 || identity[0] === 0)) {
      throw new AgentError(
        FaultCode.ENDPOINT_INVALID,
        "net: identity must be at most 255 bytes and not start with 0x00",
      );
    }
    this.options = resolveOptions(options);
    this.#acceptBucket = new TokenBucket(
      this.options.acceptRatePerSecond,
      this.options.acceptBurst,
      this.options.clock,
    );
  }

  /** Subscribe to connection events; returns the unsubscribe function. */
  on(listener: SocketEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bind and listen. Resolves to the endpoint actually bound (port 0 / `*` resolved). */
  async bind(endpoint: string): Promise<string> {
    this.#assertOpen();
    const target = parseEndpoint(endpoint, "bind");
    let listener: TCPSocketListener<SocketSlot>;
    try {
      listener = Bun.listen<SocketSlot>({
        hostname: target.host,
        port: target.port,
        // Refuse to share the port with another process (Bun's default allows SO_REUSEPORT-like
        // sharing): two gateways on one port would split the order flow.
        exclusive: true,
        data: { connection: undefined },
        socket: {
          ...connectionSocketHandlers,
          open: (socket) => this.#accept(socket, endpoint),
        },
      });
    } catch (error) {
      throw new AgentError(
        FaultCode.ENDPOINT_INVALID,
        `net: could not bind ${endpoint}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const bound = formatEndpoint({ host: target.host, port: listener.port });
    this.#bindings.push({ endpoint: bound, listener });
    this.emit({ type: "listening", endpoint: bound });
    return bound;
  }

  /** Connect to `endpoint` and keep reconnecting until close() or a fatal handshake failure. */
  connect(endpoint: string): void {
    this.#assertOpen();
    if (this.#connecters.has(endpoint)) return;
    const connecter: Connecter = {
      endpoint,
      target: parseEndpoint(endpoint, "connect"),
      backoff: new Backoff({
        initialMs: this.options.reconnectIntervalMs,
        maxMs: this.options.reconnectIntervalMaxMs,
        random: this.options.random,
      }),
      session: undefined,
      timer: undefined,
      connectTimer: undefined,
      pendingSocket: undefined,
      stopped: false,
    };
    this.#connecters.set(endpoint, connecter);
    this.#dial(connecter);
  }

  /** Stop everything: listeners, connecters, sessions and timers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const binding of this.#bindings) binding.listener.stop(false);
    for (const connecter of this.#connecters.values()) {
      connecter.stopped = true;
      connecter.timer?.cancel();
      // A connect still in flight kept its timeout timer alive (and fired connect_failed after
      // "closed") until Bun settled the attempt. Found by test/robustness/lifecycle.test.ts.
      connecter.connectTimer?.cancel();
      connecter.connectTimer = undefined;
      connecter.pendingSocket?.terminate();
    }
    for (const session of [...this.#sessions]) session.close("socket closed");
    this.#bindings.length = 0;
    this.#connecters.clear();
    this.emit({ type: "closed" });
  }

  protected emit(event: SocketEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not break the socket; listeners log their own failures.
      }
    }
  }

  // ----- subclass hooks ------------------------------------------------------------------------

  /** A session finished its handshake. Return false to refuse it. */
  protected abstract attach(session: Session, peer: PeerInfo): boolean;
  /** A ready session went away. */
  protected abstract detach(session: Session): void;
  protected abstract deliver(session: Session, parts: Uint8Array[]): void;

  // ----- SessionOwner --------------------------------------------------------------------------

  sessionReady(session: Session, peer: PeerInfo): boolean {
    this.#leaveHandshaking(session);
    if (!this.attach(session, peer)) return false;
    const connecter = this.#sessionConnecter.get(session);
    connecter?.backoff.reset();
    this.emit({
      type: "handshake_succeeded",
      endpoint: this.#sessionEndpoint.get(session) ?? "",
      address: session.connection.address,
      peer,
    });
    return true;
  }

  sessionMessage(session: Session, parts: Uint8Array[]): void {
    this.deliver(session, parts);
  }

  sessionClosed(session: Session, info: SessionCloseInfo): void {
    this.#sessions.delete(session);
    this.#leaveHandshaking(session);
    const endpoint = this.#sessionEndpoint.get(session) ?? "";
    const address = session.connection.address;
    const handshakeFailure = info.failure;
    if (info.phase === "ready") {
      this.detach(session);
      this.emit({ type: "disconnected", endpoint, address, reason: info.reason });
    } else {
      if (
        handshakeFailure?.code === "AUTH_REFUSED" &&
        handshakeFailure.clientPublicKey !== undefined
      ) {
        this.emit({
          type: "refused_key",
          address,
          publicKey: handshakeFailure.clientPublicKey,
          reason: handshakeFailure.errorReason ?? "refused",
        });
      }
      this.emit({
        type: "handshake_failed",
        endpoint,
        address,
        code:
          handshakeFailure?.code ??
          (info.timedOut === true
            ? "TIMEOUT"
            : info.protocolError === true || info.phase === "greeting"
              ? "PROTOCOL"
              : "CLOSED"),
        message: info.reason,
        fatal: handshakeFailure?.fatal ?? false,
      });
    }
    const connecter = this.#sessionConnecter.get(session);
    if (connecter === undefined || connecter.session !== session) return;
    connecter.session = undefined;
    const refused = handshakeFailure?.code === "ERROR_RECEIVED";
    if (refused && !this.options.reconnectAfterAuthFailure) {
      // libzmq stops reconnecting after ERROR: the server refused us and will keep doing so.
      connecter.stopped = true;
      this.#connecters.delete(connecter.endpoint);
      return;
    }
    this.#scheduleReconnect(connecter, refused);
  }

  // ----- accepting -----------------------------------------------------------------------------

  #accept(socket: Socket<SocketSlot>, endpoint: string): void {
    const connection = new Connection(socket);
    const refusal = this.#acceptRefusal(connection.host);
    if (refusal !== undefined) {
      this.emit({ type: "accept_rejected", address: connection.address, reason: refusal });
      connection.destroy();
      return;
    }
    this.#startSession(connection, endpoint, false);
  }

  /**
   * Checks before any handshake work, cheapest first: they bound what an unauthenticated peer
   * can make us spend (CVE-2020-15166 class, handshake floods).
   */
  #acceptRefusal(host: string): string | undefined {
    if (this.#closed) return "socket closed";
    if (this.#sessions.size >= this.options.maxConnections) return "connection limit reached";
    if (this.#handshakingTotal >= this.options.maxHandshakingConnections) {
      return "too many connections handshaking";
    }
    if ((this.#handshaking.get(host) ?? 0) >= this.options.maxHandshakingPerAddress) {
      return "too many connections handshaking from this address";
    }
    if (!this.#acceptBucket.tryTake()) return "accept rate limit";
    return undefined;
  }

  // ----- connecting ----------------------------------------------------------------------------

  #dial(connecter: Connecter): void {
    if (connecter.stopped || this.#closed) return;
    const clock = this.options.clock;
    let settled = false;
    const connectTimer = clock.setTimeout(() => {
      connecter.connectTimer = undefined;
      if (settled) return;
      settled = true;
      connecter.pendingSocket?.terminate();
      connecter.pendingSocket = undefined;
      this.emit({
        type: "connect_failed",
        endpoint: connecter.endpoint,
        reason: "connect timed out",
        code: "ETIMEDOUT",
      });
      this.#scheduleReconnect(connecter, false);
    }, this.options.connectTimeoutMs);
    connecter.connectTimer = connectTimer;
    Bun.connect<SocketSlot>({
      hostname: connecter.target.host,
      port: connecter.target.port,
      data: { connection: undefined },
      socket: {
        ...connectionSocketHandlers,
        connectError: () => {},
      },
    }).then(
      (socket) => {
        connectTimer.cancel();
        connecter.connectTimer = undefined;
        if (settled || connecter.stopped || this.#closed) {
          socket.terminate();
          return;
        }
        settled = true;
        connecter.pendingSocket = undefined;
        const connection = new Connection(socket);
        this.emit({ type: "connected", endpoint: connecter.endpoint, address: connection.address });
        connecter.session = this.#startSession(connection, connecter.endpoint, true, connecter);
      },
      (error: unknown) => {
        connectTimer.cancel();
        connecter.connectTimer = undefined;
        if (settled) return;
        settled = true;
        if (connecter.stopped || this.#closed) return;
        // Bun says only "Failed to connect" for a refused port: the code tells the cause
        const code = (error as { code?: unknown } | null)?.code;
        this.emit({
          type: "connect_failed",
          endpoint: connecter.endpoint,
          reason: error instanceof Error ? error.message : String(error),
          ...(typeof code === "string" ? { code } : {}),
        });
        this.#scheduleReconnect(connecter, false);
      },
    );
  }

  #scheduleReconnect(connecter: Connecter, slow: boolean): void {
    if (connecter.stopped || this.#closed) return;
    const delayMs = slow ? this.options.reconnectIntervalMaxMs : connecter.backoff.next();
    this.emit({
      type: "reconnecting",
      endpoint: connecter.endpoint,
      delayMs,
      attempt: connecter.backoff.attempt,
    });
    connecter.timer = this.options.clock.setTimeout(() => {
      connecter.timer = undefined;
      this.#dial(connecter);
    }, delayMs);
  }

  // ----- sessions ------------------------------------------------------------------------------

  #startSession(
    connection: Connection,
    endpoint: string,
    isConnecter: boolean,
    connecter?: Connecter,
  ): Session {
    const mechanism = createMechanism(
      this.options.security,
      this.#socketType,
      this.options.identity,
      connection.address,
      isConnecter,
    );
    const host = connection.host;
    this.#handshaking.set(host, (this.#handshaking.get(host) ?? 0) + 1);
    this.#handshakingTotal += 1;
    const session = new Session(connection, mechanism, this.options, this);
    this.#handshakingHost.set(session, host);
    this.#sessions.add(session);
    this.#sessionEndpoint.set(session, endpoint);
    if (connecter !== undefined) this.#sessionConnecter.set(session, connecter);
    return session;
  }

  readonly #handshakingHost = new WeakMap<Session, string>();

  #leaveHandshaking(session: Session): void {
    const host = this.#handshakingHost.get(session);
    if (host === undefined) return;
    this.#handshakingHost.delete(session);
    this.#handshakingTotal -= 1;
    const count = (this.#handshaking.get(host) ?? 1) - 1;
    if (count <= 0) this.#handshaking.delete(host);
    else this.#handshaking.set(host, count);
  }

  #assertOpen(): void {
    if (this.#closed) throw new AgentError(FaultCode.SOCKET_CLOSED, "net: socket is closed");
  }
}
