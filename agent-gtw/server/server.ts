/**
 * The gateway's network face: a CURVE ROUTER that accepts only pinned client keys, hands each
 * request to the Gateway and routes the reply back. It also bounds work per client (in-flight
 * requests) and logs every connection event, including refused keys with their Z85 form.
 */

import { fingerprint, z85Encode } from "../../shared/curve/z85.ts";
import type { Logger } from "../../shared/log.ts";
import { RouterSocket, type SocketEvent } from "../../shared/net/index.ts";
import { ErrorCode, encodeReply, errorReply } from "../../shared/protocol/index.ts";
import type { StreamHub } from "../streaming/stream-hub.ts";
import type { Gateway } from "./gateway.ts";
import { LogThrottle } from "./log-throttle.ts";

export interface ServerOptions {
  readonly endpoint: string;
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
  /** Authorized client keys: Z85 → name. Read on every handshake, so it can be swapped. */
  readonly clients: () => ReadonlyMap<string, string>;
  readonly gateway: Gateway;
  readonly logger: Logger;
  readonly handshakeTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxRequestBytes: number;
  readonly maxInFlightPerClient: number;
  /** The event stream; it sends through this server's ROUTER. */
  readonly streaming?: StreamHub;
}

export class GatewayServer {
  readonly #options: ServerOptions;
  readonly #router: RouterSocket;
  readonly #inFlight = new Map<string, number>();
  // Fix (issue 7 flood test): one warning per refused or failed handshake let a HELLO flood
  // write a log line per connection (hundreds a second, synchronous with log.file); bounded now
  readonly #preAuthLog: LogThrottle;
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
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      heartbeatTimeoutMs: options.heartbeatIntervalMs * 3,
      heartbeatTtlMs: Math.min(65_000, options.heartbeatIntervalMs * 3),
      // A request is one JSON frame and a signature; the cap bounds what one peer can make us hold.
      maxMessageSize: options.maxRequestBytes,
      maxMessageParts: 4,
      routerHandover: true,
    });
    this.#preAuthLog = new LogThrottle({
      report: (count, windowMs) =>
        options.logger.warn("Handshake failures and refusals not logged one by one", {
          count,
          window_s: windowMs / 1000,
        }),
    });
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
    this.#preAuthLog.stop();
    await this.#router.close();
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
      logger.warn("Reply not delivered: client gone or its queue is full", { client });
    }
  }

  #logEvent(event: SocketEvent): void {
    const log = this.#options.logger;
    switch (event.type) {
      case "handshake_succeeded":
        log.info("Client connected", { client: event.peer.userId, address: event.address });
        break;
      case "refused_key":
        log.warn("Refused client key", { key: z85Encode(event.publicKey), address: event.address });
        break;
      case "handshake_failed":
        if (this.#preAuthLog.admit())
          log.warn("Handshake failed", {
            address: event.address,
            code: event.code,
            reason: event.message,
          });
        break;
      case "accept_rejected":
        if (this.#preAuthLog.admit())
          log.warn("Connection refused before handshake", {
            address: event.address,
            reason: event.reason,
          });
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
