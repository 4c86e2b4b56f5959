/**
 * What a socket reports about its connections: one discriminated union on `type`, consumed by
 * the agents' loggers and health views (house style §2: status events as a union).
 */
import type { HandshakeFailureCode, PeerInfo } from "../zmtp/mechanism.ts";

export type SocketEvent =
  | { readonly type: "listening"; readonly endpoint: string }
  | { readonly type: "connected"; readonly endpoint: string; readonly address: string }
  | {
      readonly type: "handshake_succeeded";
      readonly endpoint: string;
      readonly address: string;
      readonly peer: PeerInfo;
    }
  | {
      readonly type: "handshake_failed";
      readonly endpoint: string;
      readonly address: string;
      readonly code: HandshakeFailureCode | "TIMEOUT" | "CLOSED" | "PROTOCOL" | "EVICTED";
      readonly message: string;
      /** Reconnecting with the same keys cannot help; a connecting socket stops retrying. */
      readonly fatal: boolean;
    }
  /** A CURVE client whose long-term key the authorizer refused (server side). */
  | {
      readonly type: "refused_key";
      readonly address: string;
      readonly publicKey: Uint8Array;
      readonly reason: string;
    }
  /** A TCP connection closed before any handshake work, to protect the server. */
  | {
      readonly type: "accept_rejected";
      readonly address: string;
      readonly reason: string;
      readonly code: AcceptRefusal;
    }
  /**
   * An established peer closed by the socket: its routing id was claimed by another key, a newer
   * connection of the same user replaced it, or the owner revoked it (disconnectWhere).
   */
  | {
      readonly type: "peer_closed";
      readonly address: string;
      readonly code: "ROUTING_ID_TAKEN" | "USER_LIMIT" | "REVOKED";
      readonly reason: string;
      readonly userId?: string;
    }
  | {
      readonly type: "disconnected";
      readonly endpoint: string;
      readonly address: string;
      readonly reason: string;
    }
  | {
      readonly type: "reconnecting";
      readonly endpoint: string;
      readonly delayMs: number;
      readonly attempt: number;
    }
  | {
      readonly type: "connect_failed";
      readonly endpoint: string;
      readonly reason: string;
      /** The system's error code when there is one (ECONNREFUSED, ENOTFOUND, ...). */
      readonly code?: string;
    }
  /** An outgoing message was dropped: no such peer (ROUTER) or the high-water mark was reached. */
  | {
      readonly type: "dropped";
      readonly reason: "no_peer" | "high_water_mark";
      readonly address?: string;
    }
  | { readonly type: "closed" };

export type SocketEventListener = (event: SocketEvent) => void;

/** Why a connection was refused before any handshake work. */
export type AcceptRefusal =
  | "SOCKET_CLOSED"
  | "NOT_ALLOWED"
  | "CONNECTION_LIMIT"
  | "ADDRESS_RATE_LIMIT"
  | "RATE_LIMIT";
