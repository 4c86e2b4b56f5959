/**
 * Why a gateway cannot be reached, in words an operator can act on, from the connection's typed
 * status events (events.ts). The four that cover nearly every first deployment:
 * - the gateway refused this host's key: it answers the CURVE handshake with ERROR "400" (RFC 26
 *   §2.6; the ZAP status a refusing handler returns), so the client key is not in its list;
 * - wrong server key: our HELLO is sealed to a key the gateway does not hold, so it cannot open
 *   it and closes the connection without a word (a CURVE server never answers a bad HELLO);
 * - nothing listens on the port (ECONNREFUSED), or nothing answers at all (timeout: a firewall or
 *   security group that drops);
 * - the host name does not resolve (ENOTFOUND, EAI_AGAIN).
 */
import type { GatewayStatus } from "./events.ts";

export type Failure = Exclude<GatewayStatus, { type: "connected" } | { type: "disconnected" }>;

export interface FailureCause {
  /** A short cause, stable for tests and metrics labels. */
  readonly cause:
    | "client_key_not_authorized"
    | "wrong_server_key"
    | "port_refused"
    | "no_answer"
    | "name_not_resolved"
    | "handshake_failed"
    | "connect_failed";
  /** One sentence: what is wrong and what to do. */
  readonly hint: string;
}

export function failureCause(failure: Failure, endpoint: string): FailureCause {
  if (failure.type === "connect_failed") {
    switch (failure.code) {
      case "ECONNREFUSED":
        return {
          cause: "port_refused",
          hint: `nothing accepts connections at ${endpoint}: is agent-gtw running, is that its endpoint, and does the firewall let the port through?`,
        };
      case "ENOTFOUND":
      case "EAI_AGAIN":
      case "EAI_NONAME":
        return {
          cause: "name_not_resolved",
          hint: `the host name in ${endpoint} does not resolve: check gateways[].endpoint and this host's DNS`,
        };
      case "ETIMEDOUT":
      case "EHOSTUNREACH":
      case "ENETUNREACH":
        return {
          cause: "no_answer",
          hint: `no answer from ${endpoint}: the host is down or unreachable, or a firewall or cloud security group drops the port`,
        };
      default:
        return {
          cause: "connect_failed",
          hint: `cannot connect to ${endpoint}: ${failure.reason}`,
        };
    }
  }
  if (failure.code === "ERROR_RECEIVED")
    return {
      cause: "client_key_not_authorized",
      hint: `the gateway refused this host's key (${failure.reason}): copy this host's public <name>.key into the gateway's keys/clients/ folder (authorized_clients_dir) and restart it`,
    };
  if (failure.code === "CLOSED" || failure.code === "TIMEOUT")
    return {
      cause: "wrong_server_key",
      hint: `the gateway ${failure.code === "CLOSED" ? "closed the connection" : "did not answer"} during the CURVE handshake: most likely gateways[].server_key_file is not that gateway's public key (copy its agent-gtw.key again), or something other than agent-gtw listens at ${endpoint}`,
    };
  return {
    cause: "handshake_failed",
    hint: `the CURVE handshake with ${endpoint} failed (${failure.code}): ${failure.reason}`,
  };
}
