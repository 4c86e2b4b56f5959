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
import type { AcceptRefusal, SocketEvent, SocketEventListener } from "./events.ts";
import { addressGroup, networkMatcher, parseNetwork } from "./networks.ts";
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
  /**
   * Accepted sessions still handshaking, per address group, oldest first (pre-auth limits and
   * eviction). Sessions we dialled are not counted: they are ours.
   */
  readonly #handshaking = new Map<string, Set<Session>>();
  #handshakingTotal = 0;
  readonly #handshakingGroup = new WeakMap<Session, string>();
  readonly #acceptBucket: TokenBucket;
  /** Per address group; dropped once full again, so the map holds only recent addresses. */
  readonly #addressBuckets = new Map<string, TokenBucket>();
  readonly #allowed: ((address: string) => boolean) | undefined;
  /** Ready sessions per authenticated user, oldest first (maxConnectionsPerUser). */
  readonly #byUser = new Map<string, Set<Session>>();
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
    const networks = this.options.allowedNetworks;
    if (networks !== undefined) {
      this.#allowed = networkMatcher(
        networks.map((text) => {
          const parsed = parseNetwork(text);
          if (!parsed.ok)
            throw new AgentError(
              FaultCode.ENDPOINT_INVALID,
              `net: allowed network ${parsed.reason}`,
            );
          return parsed.value;
        }),
      );
    }
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
    this.#countUser(session, peer);
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
    this.#forgetUser(session);
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
          (info.evicted === true
            ? "EVICTED"
            : info.timedOut === true
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
      this.emit({
        type: "accept_rejected",
        address: connection.address,
        reason: refusal.reason,
        code: refusal.code,
      });
      connection.destroy();
      return;
    }
    this.#startSession(connection, endpoint, false);
  }

  /**
   * Checks before any handshake work, cheapest first: they bound what an unauthenticated peer
   * can make us spend (CVE-2020-15166 class, handshake floods). The handshaking limits do not
   * refuse: they make room (#makeRoom), so a full table never keeps a newcomer out.
   */
  #acceptRefusal(host: string): { code: AcceptRefusal; reason: string } | undefined {
    if (this.#closed) return { code: "SOCKET_CLOSED", reason: "socket closed" };
    if (this.#allowed !== undefined && !this.#allowed(host))
      return { code: "NOT_ALLOWED", reason: "address not in the allowed networks" };
    if (this.#sessions.size >= this.options.maxConnections && !this.#evictOldest(undefined)) {
      return { code: "CONNECTION_LIMIT", reason: "connection limit reached" };
    }
    const group = addressGroup(host);
    if (!this.#addressBucket(group).tryTake())
      return { code: "ADDRESS_RATE_LIMIT", reason: "accept rate limit for this address" };
    if (!this.#acceptBucket.tryTake()) return { code: "RATE_LIMIT", reason: "accept rate limit" };
    this.#makeRoom(group);
    return undefined;
  }

  #addressBucket(group: string): TokenBucket {
    let bucket = this.#addressBuckets.get(group);
    if (bucket === undefined) {
      // Bounded: forget buckets that have refilled (they hold nothing a new one would not)
      if (this.#addressBuckets.size >= 4096) {
        for (const [key, old] of this.#addressBuckets)
          if (old.full) this.#addressBuckets.delete(key);
      }
      bucket = new TokenBucket(
        this.options.acceptRatePerAddress,
        this.options.acceptBurstPerAddress,
        this.options.clock,
      );
      if (this.#addressBuckets.size < 4096) this.#addressBuckets.set(group, bucket);
    }
    return bucket;
  }

  /**
   * Make room for one more handshaking connection from `group`: at the per-address limit its own
   * oldest goes; at the overall limit the oldest of the address holding the most goes (the new
   * one's own address only when it holds the most), so an address within its fair share is never
   * pushed out by one beyond it.
   */
  #makeRoom(group: string): void {
    const own = this.#handshaking.get(group);
    if (own !== undefined && own.size >= this.options.maxHandshakingPerAddress) {
      this.#evict(
        own.values().next().value as Session,
        "too many connections handshaking from this address",
      );
      return;
    }
    if (this.#handshakingTotal < this.options.maxHandshakingConnections) return;
    this.#evictOldest(group);
  }

  /** Close the oldest handshaking session of the heaviest address group; false if none. */
  #evictOldest(newcomer: string | undefined): boolean {
    let heaviest: Set<Session> | undefined;
    for (const [group, sessions] of this.#handshaking) {
      const size = sessions.size + (group === newcomer ? 1 : 0);
      if (heaviest === undefined || size > heaviest.size) heaviest = sessions;
    }
    const oldest = heaviest?.values().next().value;
    if (oldest === undefined) return false;
    this.#evict(oldest, "too many connections handshaking");
    return true;
  }

  #evict(session: Session, why: string): void {
    session.close(`evicted for a newer connection: ${why}`, { evicted: true });
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
        if (isSelfConnection(socket)) {
          socket.terminate();
          this.emit({
            type: "connect_failed",
            endpoint: connecter.endpoint,
            reason:
              "connected to itself: nothing listens on the port, and the kernel chose it as our own local port",
            code: "ESELFCONNECT",
          });
          this.#scheduleReconnect(connecter, false);
          return;
        }
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
    const session = new Session(
      connection,
      mechanism,
      this.options,
      this,
      isConnecter ? 0 : this.options.helloTimeoutMs,
    );
    if (!isConnecter) {
      const group = addressGroup(connection.host);
      let sessions = this.#handshaking.get(group);
      if (sessions === undefined) {
        sessions = new Set();
        this.#handshaking.set(group, sessions);
      }
      sessions.add(session);
      this.#handshakingTotal += 1;
      this.#handshakingGroup.set(session, group);
    }
    this.#sessions.add(session);
    this.#sessionEndpoint.set(session, endpoint);
    if (connecter !== undefined) this.#sessionConnecter.set(session, connecter);
    return session;
  }

  #leaveHandshaking(session: Session): void {
    const group = this.#handshakingGroup.get(session);
    if (group === undefined) return;
    this.#handshakingGroup.delete(session);
    this.#handshakingTotal -= 1;
    const sessions = this.#handshaking.get(group);
    sessions?.delete(session);
    if (sessions?.size === 0) this.#handshaking.delete(group);
  }

  // ----- per-user connections ------------------------------------------------------------------

  readonly #sessionUser = new WeakMap<Session, string>();

  /** A user past its share of connections loses its oldest one to the new one. */
  #countUser(session: Session, peer: PeerInfo): void {
    const user = peer.userId;
    if (user === undefined) return;
    let sessions = this.#byUser.get(user);
    if (sessions === undefined) {
      sessions = new Set();
      this.#byUser.set(user, sessions);
    }
    sessions.add(session);
    this.#sessionUser.set(session, user);
    const limit = this.options.maxConnectionsPerUser;
    while (limit > 0 && sessions.size > limit) {
      const oldest = sessions.values().next().value as Session;
      const reason = `${user} opened more than ${limit} connections; its oldest was closed`;
      this.emit({
        type: "peer_closed",
        address: oldest.connection.address,
        code: "USER_LIMIT",
        reason,
        userId: user,
      });
      oldest.close(reason);
    }
  }

  #forgetUser(session: Session): void {
    const user = this.#sessionUser.get(session);
    if (user === undefined) return;
    const sessions = this.#byUser.get(user);
    sessions?.delete(session);
    if (sessions?.size === 0) this.#byUser.delete(user);
  }

  /**
   * Close every established session whose peer matches (revoked keys); returns how many. Each
   * is reported as a peer_closed event with code REVOKED.
   */
  disconnectWhere(matches: (peer: PeerInfo) => boolean, reason: string): number {
    let closed = 0;
    for (const session of [...this.#sessions]) {
      const peer = session.peer;
      if (session.phase !== "ready" || peer === undefined || !matches(peer)) continue;
      this.emit({
        type: "peer_closed",
        address: session.connection.address,
        code: "REVOKED",
        reason,
        ...(peer.userId === undefined ? {} : { userId: peer.userId }),
      });
      session.close(reason);
      closed += 1;
    }
    return closed;
  }

  #assertOpen(): void {
    if (this.#closed) throw new AgentError(FaultCode.SOCKET_CLOSED, "net: socket is closed");
  }
}

/**
 * A TCP self-connection (RFC 793 §3.4 simultaneous open): dialling a loopback port that nothing
 * listens on, the kernel may pick that same port as the local one, and the SYN meets itself. The
 * socket then talks to itself, and holds the port: a gateway restarting on it fails to bind
 * (EADDRINUSE). Only where both ends share an address, as in tests on 127.0.0.1, can it happen.
 */
export function isSelfConnection(socket: {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}): boolean {
  return socket.localPort === socket.remotePort && socket.localAddress === socket.remoteAddress;
}
