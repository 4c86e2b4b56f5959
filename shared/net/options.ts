/**
 * Socket options and their defaults. Names follow zmq_setsockopt(3) where a libzmq equivalent
 * exists, with the unit in the name; defaults follow libzmq unless a safer value is noted.
 */
import { type Clock, systemClock } from "../clock.ts";
import type { Authorizer } from "../zmtp/mechanism.ts";

/** How connections are secured. CURVE always in production; NULL exists for codec tests. */
export type Security =
  | { readonly mechanism: "NULL" }
  | {
      readonly mechanism: "CURVE";
      readonly role: "server";
      readonly publicKey: Uint8Array;
      readonly secretKey: Uint8Array;
      readonly authorize: Authorizer;
    }
  | {
      readonly mechanism: "CURVE";
      readonly role: "client";
      readonly publicKey: Uint8Array;
      readonly secretKey: Uint8Array;
      readonly serverKey: Uint8Array;
    };

export interface SocketOptions {
  readonly security: Security;
  /** Identity property we announce (ZMQ_ROUTING_ID); empty by default. */
  readonly identity?: Uint8Array;
  /** ZMQ_HANDSHAKE_IVL: the whole greeting + handshake must finish within this. libzmq: 30 s. */
  readonly handshakeTimeoutMs?: number;
  /**
   * Server: an accepted peer's greeting and first handshake command (CURVE HELLO) must arrive
   * within this, far sooner than the whole handshake: a legitimate client sends both at once,
   * a connection that only holds a pre-auth slot is closed early. 0 = only handshakeTimeoutMs.
   */
  readonly helloTimeoutMs?: number;
  /** ZMQ_HEARTBEAT_IVL: send a ZMTP PING this often once connected; 0 = off. */
  readonly heartbeatIntervalMs?: number;
  /** ZMQ_HEARTBEAT_TIMEOUT: drop the peer if nothing arrives this long after our PING. */
  readonly heartbeatTimeoutMs?: number;
  /** ZMQ_HEARTBEAT_TTL: advertised in our PINGs; ≤ 65 000 ms because of libzmq issue #4226. */
  readonly heartbeatTtlMs?: number;
  /** ZMQ_MAXMSGSIZE for one message part. libzmq: unlimited; we always bound it. */
  readonly maxMessageSize?: number;
  /** Parts per multipart message. */
  readonly maxMessageParts?: number;
  /** ZMQ_SNDHWM: messages queued per peer (or before any peer exists) before send refuses. */
  readonly sendHighWaterMark?: number;
  /** ZMQ_RECONNECT_IVL and ZMQ_RECONNECT_IVL_MAX. */
  readonly reconnectIntervalMs?: number;
  readonly reconnectIntervalMaxMs?: number;
  /** ZMQ_CONNECT_TIMEOUT: give up on one TCP connect attempt after this. */
  readonly connectTimeoutMs?: number;
  /** libzmq stops reconnecting after receiving ERROR; set true to keep retrying at the max delay. */
  readonly reconnectAfterAuthFailure?: boolean;
  /**
   * Server: connections allowed to be handshaking at once, overall and per source address (an
   * IPv6 /64 counts as one address). When either is full a new connection does not wait: the
   * oldest handshaking connection of the address holding the most is closed to make room, so
   * strangers holding slots cannot keep anyone else out (networks.ts addressGroup).
   */
  readonly maxHandshakingConnections?: number;
  readonly maxHandshakingPerAddress?: number;
  /** Server: new connections accepted per second (token bucket) and burst, overall... */
  readonly acceptRatePerSecond?: number;
  readonly acceptBurst?: number;
  /** ...and per source address, so one address cannot spend the whole overall rate. */
  readonly acceptRatePerAddress?: number;
  readonly acceptBurstPerAddress?: number;
  /** Server: only peers inside these networks are accepted; undefined = any (networks.ts). */
  readonly allowedNetworks?: readonly string[];
  /** Server: established connections allowed at once. */
  readonly maxConnections?: number;
  /**
   * Established connections per authenticated user (the authorizer's userId); a new one closes
   * that user's oldest. 0 = no limit.
   */
  readonly maxConnectionsPerUser?: number;
  /**
   * ZMQ_ROUTER_HANDOVER: a new peer with an existing identity takes over its routing id, if it
   * authenticated with the same CURVE key as the peer it replaces (libzmq hands over to anyone).
   */
  readonly routerHandover?: boolean;
  readonly clock?: Clock;
  /** Uniform [0, 1) source for reconnect jitter. */
  readonly random?: () => number;
}

export type ResolvedOptions = Required<Omit<SocketOptions, "identity" | "allowedNetworks">> & {
  readonly identity: Uint8Array;
  readonly allowedNetworks: readonly string[] | undefined;
};

export const DEFAULTS = {
  handshakeTimeoutMs: 10_000,
  helloTimeoutMs: 2000,
  heartbeatIntervalMs: 0,
  heartbeatTtlMs: 0,
  maxMessageSize: 8 * 1024 * 1024,
  maxMessageParts: 64,
  sendHighWaterMark: 1000,
  reconnectIntervalMs: 100,
  reconnectIntervalMaxMs: 2000,
  connectTimeoutMs: 5000,
  maxHandshakingConnections: 64,
  maxHandshakingPerAddress: 16,
  acceptRatePerSecond: 200,
  acceptBurst: 100,
  acceptRatePerAddress: 20,
  acceptBurstPerAddress: 20,
  maxConnections: 1024,
  maxConnectionsPerUser: 0,
} as const;

/** libzmq computes TTL × 100 in 16 bits on receive (issue #4226): never advertise more. */
export const MAX_HEARTBEAT_TTL_MS = 65_000;

/** Frames before READY are capped far below maxMessageSize (pre-auth memory, CVE-2019-13132). */
export const MAX_HANDSHAKE_FRAME_BYTES = 64 * 1024;

export function resolveOptions(options: SocketOptions): ResolvedOptions {
  const interval = options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs;
  return {
    security: options.security,
    identity: options.identity ?? new Uint8Array(0),
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
    helloTimeoutMs: options.helloTimeoutMs ?? DEFAULTS.helloTimeoutMs,
    heartbeatIntervalMs: interval,
    heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? interval,
    heartbeatTtlMs: Math.min(
      MAX_HEARTBEAT_TTL_MS,
      options.heartbeatTtlMs ?? DEFAULTS.heartbeatTtlMs,
    ),
    maxMessageSize: options.maxMessageSize ?? DEFAULTS.maxMessageSize,
    maxMessageParts: options.maxMessageParts ?? DEFAULTS.maxMessageParts,
    sendHighWaterMark: options.sendHighWaterMark ?? DEFAULTS.sendHighWaterMark,
    reconnectIntervalMs: options.reconnectIntervalMs ?? DEFAULTS.reconnectIntervalMs,
    reconnectIntervalMaxMs: options.reconnectIntervalMaxMs ?? DEFAULTS.reconnectIntervalMaxMs,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
    reconnectAfterAuthFailure: options.reconnectAfterAuthFailure ?? false,
    maxHandshakingConnections:
      options.maxHandshakingConnections ?? DEFAULTS.maxHandshakingConnections,
    maxHandshakingPerAddress: options.maxHandshakingPerAddress ?? DEFAULTS.maxHandshakingPerAddress,
    acceptRatePerSecond: options.acceptRatePerSecond ?? DEFAULTS.acceptRatePerSecond,
    acceptBurst: options.acceptBurst ?? DEFAULTS.acceptBurst,
    acceptRatePerAddress: options.acceptRatePerAddress ?? DEFAULTS.acceptRatePerAddress,
    acceptBurstPerAddress: options.acceptBurstPerAddress ?? DEFAULTS.acceptBurstPerAddress,
    allowedNetworks: options.allowedNetworks,
    maxConnections: options.maxConnections ?? DEFAULTS.maxConnections,
    maxConnectionsPerUser: options.maxConnectionsPerUser ?? DEFAULTS.maxConnectionsPerUser,
    routerHandover: options.routerHandover ?? false,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
  };
}
