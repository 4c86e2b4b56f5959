/**
 * Every refusal the gateway's network face makes, counted by reason and logged within bounds
 * (issue 12 §3). A refused key, a malformed request or an undeliverable reply is worth a line
 * when it is rare; from a flood (anyone holding the gateway's public key can make refused-key
 * handshakes, an authorized but hostile client can send malformed requests) one line each was
 * 1,950 lines in 11 s. So each group of reasons goes through a LogThrottle like the handshake
 * failures always did: the first lines of a window are logged as they come, the rest are counted
 * and reported by reason in one line when the window ends.
 *
 * The counters are the one source of the refusal figures: `counts()` is a snapshot by reason
 * (monotonic since start), read by the status file and, at scrape time, by /metrics
 * (`agent_gtw_refusals_total{stage,reason}`, operator/metrics.ts).
 */
import type { Logger } from "../../shared/log.ts";
import { LogThrottle } from "./log-throttle.ts";

/** Refusals before authentication: by anyone who can reach the port. */
export const PRE_AUTH_REFUSALS = [
  /** Outside transport.allowed_networks. */
  "not_allowed_network",
  /** The overall connection limit, with nothing to evict. */
  "connection_limit",
  /** The accept rate, overall or for the address. */
  "accept_rate_limit",
  "address_rate_limit",
  /** Closed to make room for a newer connection (pre-auth slots full). */
  "preauth_evicted",
  /** The greeting, HELLO or whole handshake not done in time. */
  "handshake_timeout",
  /** Broken framing, or a CURVE handshake that does not verify. */
  "handshake_protocol",
  /** A client key that is not authorized. */
  "refused_key",
  /** The peer hung up mid-handshake. */
  "handshake_closed",
] as const;

/** Refusals of authenticated clients. */
export const CLIENT_REFUSALS = [
  /** A routing id held by a connection with another key. */
  "routing_id_taken",
  /** A client's oldest connection closed for its newest (transport.max_connections_per_client). */
  "client_connection_limit",
  /** A session closed because its key was revoked (removed from the authorized keys). */
  "revoked_session",
  /** A request that does not parse or validate. */
  "malformed_request",
  /** A signed action refused by the signature checks (SIG_FAIL: unknown or unbound key, expired, replayed, bad signature). */
  "signature_refused",
  /** More requests in flight than transport.max_in_flight_per_client. */
  "in_flight_limit",
  /** A reply the client was gone for, or whose queue was full. */
  "reply_undeliverable",
] as const;

export type RefusalReason = (typeof PRE_AUTH_REFUSALS)[number] | (typeof CLIENT_REFUSALS)[number];

export const REFUSAL_REASONS: readonly RefusalReason[] = [...PRE_AUTH_REFUSALS, ...CLIENT_REFUSALS];

export type RefusalCounts = Readonly<Record<RefusalReason, number>>;

/** Before authentication (anyone who reaches the port) or of an authenticated client. */
export type RefusalStage = "pre_auth" | "client";

export function refusalStage(reason: RefusalReason): RefusalStage {
  return (PRE_AUTH_REFUSALS as readonly string[]).includes(reason) ? "pre_auth" : "client";
}

export interface RefusalsOptions {
  readonly logger: Logger;
  /** LogThrottle settings (tests shorten the window). */
  readonly windowMs?: number;
  readonly perWindow?: number;
  readonly now?: () => number;
  readonly setTimer?: (fn: () => void, ms: number) => { cancel(): void };
}

export class Refusals {
  readonly #counts: Record<RefusalReason, number>;
  readonly #logger: Logger;
  readonly #throttles: Record<RefusalStage, LogThrottle>;
  /** Left out of the log in the current window, by reason, for the summary line. */
  readonly #suppressed: Record<RefusalStage, Map<RefusalReason, number>> = {
    pre_auth: new Map(),
    client: new Map(),
  };

  constructor(options: RefusalsOptions) {
    this.#logger = options.logger;
    this.#counts = Object.fromEntries(REFUSAL_REASONS.map((reason) => [reason, 0])) as Record<
      RefusalReason,
      number
    >;
    const throttle = (group: RefusalStage, what: string) =>
      new LogThrottle({
        report: (count, windowMs) => {
          const byReason = [...this.#suppressed[group]]
            .map(([reason, n]) => `${reason}=${n}`)
            .join(" ");
          this.#suppressed[group].clear();
          this.#logger.warn(`${what} not logged one by one`, {
            count,
            window_s: windowMs / 1000,
            by_reason: byReason,
          });
        },
        ...(options.windowMs === undefined ? {} : { windowMs: options.windowMs }),
        ...(options.perWindow === undefined ? {} : { perWindow: options.perWindow }),
        ...(options.now === undefined ? {} : { now: options.now }),
        ...(options.setTimer === undefined ? {} : { setTimer: options.setTimer }),
      });
    this.#throttles = {
      pre_auth: throttle("pre_auth", "Handshake failures and refusals"),
      client: throttle("client", "Refusals of authenticated clients"),
    };
  }

  /** Count one refusal; `log` writes its line if the window has room for it. */
  record(reason: RefusalReason, log: () => void): void {
    this.#counts[reason] += 1;
    const group = refusalStage(reason);
    if (this.#throttles[group].admit()) log();
    else this.#suppressed[group].set(reason, (this.#suppressed[group].get(reason) ?? 0) + 1);
  }

  /** Refusals by reason since start. */
  counts(): RefusalCounts {
    return { ...this.#counts };
  }

  /** Report what is counted and not yet logged (shutdown). */
  stop(): void {
    this.#throttles.pre_auth.stop();
    this.#throttles.client.stop();
  }
}
