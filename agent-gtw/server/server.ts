/**
 * The gateway's network face: a CURVE ROUTER that accepts only pinned client keys, hands each
 * request to the Gateway and routes the reply back. It also bounds work per client (in-flight
 * requests, connections), keeps strangers from starving clients (the socket's pre-auth limits
 * and allow-list), closes the sessions of revoked keys, and counts every refusal by reason,
 * logging within bounds (refusals.ts), refused keys with their Z85 form.
 */

import { fingerprint, z85Encode } from "../../shared/curve/z85.ts";
import type { Logger } from "../../shared/log.ts";
import { RouterSocket, type SocketEvent } from "../../shared/net/index.ts";
import { ErrorCode, encodeReply, errorReply } from "../../shared/protocol/index.ts";
import type { PeerInfo } from "../../shared/zmtp/mechanism.ts";
import type { StreamHub } from "../streaming/stream-hub.ts";
import type { Gateway } from "./gateway.ts";
import { type RefusalReason, Refusals } from "./refusals.ts";

export interface ServerOptions {
  readonly endpoint: string;
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
  /** Authorized client keys: Z85 → name. Read on every handshake, so it can be swapped. */
  readonly clients: () => ReadonlyMap<string, string>;
  readonly gateway: Gateway;
  readonly logger: Logger;
  readonly handshakeTimeoutMs: number;
  /** The greeting and HELLO must arrive this soon after the TCP connection. */
  readonly helloTimeoutMs?: number;
  readonly heartbeatIntervalMs: number;
  readonly maxRequestBytes: number;
  readonly maxInFlightPerClient: number;
  /** Connections one client may hold; a newer one closes its oldest. */
  readonly maxConnectionsPerClient?: number;
  /** CIDR blocks peers must connect from; undefined: any. */
  readonly allowedNetworks?: readonly string[];
  /** The event stream; it sends through this server's ROUTER. */
  readonly streaming?: StreamHub;
  /** Where refusals are counted and logged; one is made when not given. */
  readonly refusals?: Refusals;
}

export class GatewayServer {
  readonly #options: ServerOptions;
  readonly #router: RouterSocket;
  readonly #inFlight = new Map<string, number>();
  // Fix (issue 7 flood test, issue 12 §3): one warning per refused or failed handshake, refused
  // key, malformed request or undeliverable reply let a flood write a line per event (hundreds a
  // second, synchronous with log.file); counted by reason and bounded now
  readonly refusals: Refusals;
  #endpoint = "";

  constructor(options: ServerOptions) {
    this.#options = options;
    this.#router = new RouterSocket({
      security: {
        mechanism: "CURVE",
        role: "server",
        publicKey: options.publicKey,
        secretKey: options.secretKey,
        authorize: ({ publicKey }) => {
          const name = options.clients().get(z85Encode(publicKey));
          // 400, like a ZAP handler refusing: libzmq clients stop reconnecting on it.
          return name === undefined
            ? { status: 400, reason: "client key not authorized" }
            : { status: 200, userId: name };
        },
      },
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      ...(options.helloTimeoutMs === undefined ? {} : { helloTimeoutMs: options.helloTimeoutMs }),
      ...(options.allowedNetworks === undefined
        ? {}
        : { allowedNetworks: options.allowedNetworks }),
      ...(options.maxConnectionsPerClient === undefined
        ? {}
        : { maxConnectionsPerUser: options.maxConnectionsPerClient }),
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      heartbeatTimeoutMs: options.heartbeatIntervalMs * 3,
      heartbeatTtlMs: Math.min(65_000, options.heartbeatIntervalMs * 3),
      // A request is one JSON frame and a signature; the cap bounds what one peer can make us hold.
      maxMessageSize: options.maxRequestBytes,
      maxMessageParts: 4,
      routerHandover: true,
    });
    this.refusals = options.refusals ?? new Refusals({ logger: options.logger });
    this.#router.on((event) => this.#logEvent(event));
    this.#router.onMessage(({ routingId, parts, peer }) => {
      const client = peer.userId ?? "unknown";
      void this.#serve(routingId, parts, client, peer);
    });
    const router = this.#router;
    options.streaming?.attach({
      send: (routingId, frames) => router.send(routingId, frames),
      peerState: (routingId) => router.peerState(routingId),
    });
  }

  get endpoint(): string {
    return this.#endpoint;
  }

  get connectedClients(): number {
    return this.#router.connectedPeers;
  }

  /** The ROUTER's connection events (handshakes, refusals, drops), for the metrics. */
  onSocketEvent(listener: (event: SocketEvent) => void): () => void {
    return this.#router.on(listener);
  }

  async start(): Promise<string> {
    this.#endpoint = await this.#router.bind(this.#options.endpoint);
    this.#options.logger.info("Listening", {
      endpoint: this.#endpoint,
      server_key: fingerprint(this.#options.publicKey),
    });
    return this.#endpoint;
  }

  async stop(): Promise<void> {
    this.refusals.stop();
    await this.#router.close();
  }

  /**
   * Close the sessions of clients whose key is no longer authorized, or is authorized under
   * another name now (after the keys were re-read). Returns how many were closed.
   */
  revokeSessions(): number {
    const clients = this.#options.clients();
    return this.#router.disconnectWhere((peer: PeerInfo) => {
      if (peer.publicKey === undefined) return false;
      return clients.get(z85Encode(peer.publicKey)) !== peer.userId;
    }, "client key no longer authorized");
  }

  async #serve(
    routingId: Uint8Array,
    parts: Uint8Array[],
    client: string,
    peer: object,
  ): Promise<void> {
    const { gateway, maxInFlightPerClient, logger } = this.#options;
    const running = this.#inFlight.get(client) ?? 0;
    let reply: Uint8Array;
    if (running >= maxInFlightPerClient) {
      // Bounded work per client: a flood from one inference host cannot starve the others.
      this.#refuse("in_flight_limit", () =>
        logger.warn("Request refused: too many in flight", { client, limit: maxInFlightPerClient }),
      );
      reply = encodeReply(
        errorReply(
          "",
          ErrorCode.RATE_LIMITED,
          `more than ${maxInFlightPerClient} requests in flight from ${client}`,
        ),
      );
    } else {
      this.#inFlight.set(client, running + 1);
      try {
        reply = encodeReply(await gateway.handle(parts, client, { routingId, peer }));
      } finally {
        const left = (this.#inFlight.get(client) ?? 1) - 1;
        if (left <= 0) this.#inFlight.delete(client);
        else this.#inFlight.set(client, left);
      }
    }
    if (!this.#router.send(routingId, [reply])) {
      this.#refuse("reply_undeliverable", () =>
        logger.warn("Reply not delivered: client gone or its queue is full", { client }),
      );
    }
  }

  #refuse(reason: RefusalReason, log: () => void): void {
    this.refusals.record(reason, log);
  }

  #logEvent(event: SocketEvent): void {
    const log = this.#options.logger;
    switch (event.type) {
      case "handshake_succeeded":
        log.info("Client connected", { client: event.peer.userId, address: event.address });
        break;
      case "refused_key":
        this.#refuse("refused_key", () =>
          log.warn("Refused client key", {
            key: z85Encode(event.publicKey),
            address: event.address,
          }),
        );
        break;
      case "handshake_failed": {
        // A refused key was counted as such (refused_key) just before this event
        if (event.code === "AUTH_REFUSED") break;
        this.#refuse(handshakeReason(event.code), () =>
          log.warn("Handshake failed", {
            address: event.address,
            code: event.code,
            reason: event.message,
          }),
        );
        break;
      }
      case "accept_rejected":
        this.#refuse(ACCEPT_REASONS[event.code], () =>
          log.warn("Connection refused before handshake", {
            address: event.address,
            reason: event.reason,
          }),
        );
        break;
      case "peer_closed":
        this.#refuse(PEER_CLOSED_REASONS[event.code], () =>
          log.warn("Client connection closed by the gateway", {
            client: event.userId,
            address: event.address,
            reason: event.reason,
          }),
        );
        break;
      case "disconnected":
        log.info("Client disconnected", { address: event.address, reason: event.reason });
        // Its stream subscription (if any) goes with it
        this.#options.streaming?.sweep();
        break;
      default:
        break;
    }
  }
}

const ACCEPT_REASONS = {
  SOCKET_CLOSED: "connection_limit",
  NOT_ALLOWED: "not_allowed_network",
  CONNECTION_LIMIT: "connection_limit",
  ADDRESS_RATE_LIMIT: "address_rate_limit",
  RATE_LIMIT: "accept_rate_limit",
} as const satisfies Record<string, RefusalReason>;

const PEER_CLOSED_REASONS = {
  ROUTING_ID_TAKEN: "routing_id_taken",
  USER_LIMIT: "client_connection_limit",
  REVOKED: "revoked_session",
} as const satisfies Record<string, RefusalReason>;

function handshakeReason(code: string): RefusalReason {
  if (code === "EVICTED") return "preauth_evicted";
  if (code === "TIMEOUT") return "handshake_timeout";
  if (code === "CLOSED") return "handshake_closed";
  return "handshake_protocol";
}
