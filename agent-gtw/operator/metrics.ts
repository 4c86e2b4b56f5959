/**
 * agent-gtw's metrics for GET /metrics on `metrics.listen` (the registry is shared/metrics/):
 * what they are, and how they follow the gateway. Orders, stage latencies and reconciliations
 * arrive as executor events, journal syncs from the journal, connection refusals from the
 * ROUTER's events; everything some component already counts (clients, stream figures, the link,
 * the journal's size) is read at scrape time with `registry.collect`, so a new count the server
 * exposes is one line here.
 */

import { Registry } from "../../shared/metrics/registry.ts";
import type { SocketEvent } from "../../shared/net/index.ts";
import type { OrderState, Reply, TradingState } from "../../shared/protocol/index.ts";
import { tradingStateLevel } from "../../shared/trading-state.ts";
import type { Backend } from "../backend/backend.ts";
import type { ExecutorEvents } from "../orders/executor.ts";
import type { Journal } from "../orders/journal.ts";
import {
  PRE_AUTH_REFUSALS,
  REFUSAL_REASONS,
  type RefusalCounts,
  type RefusalReason,
} from "../server/refusals.ts";
import type { StreamHub } from "../streaming/stream-hub.ts";

/** fdatasync takes ~0.1–10 ms on a healthy disk; the alert rule fires past 50 ms (p99). */
const SYNC_BUCKETS_S = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
] as const;

export function createGatewayMetrics(registry = new Registry()) {
  return {
    registry,
    orders: registry.counter(
      "agent_gtw_orders_total",
      "Signed actions answered, by action and outcome (reply status)",
    ),
    orderErrors: registry.counter(
      "agent_gtw_order_errors_total",
      "Signed actions answered with an error or a rejection, by action and error code",
    ),
    stages: registry.histogram(
      "agent_gtw_order_stage_seconds",
      "Time per stage of a signed action: verify (signature, freshness, replay), journal (one durable write), backend (last-line gate and MT5)",
    ),
    journalSync: registry.histogram(
      "agent_gtw_journal_fsync_seconds",
      "Journal group commit: write and fdatasync time",
      SYNC_BUCKETS_S,
    ),
    journalSyncBytes: registry.counter(
      "agent_gtw_journal_written_bytes_total",
      "Bytes written to the journal and synced",
    ),
    reconciled: registry.counter(
      "agent_gtw_reconciled_total",
      "Unknown outcomes settled by reconciliation with MT5, by the state they settled to",
    ),
    handshakeRefusals: registry.counter(
      "agent_gtw_handshake_refusals_total",
      "CURVE handshakes that failed or were refused, by reason (auth_refused: key not authorized)",
    ),
    acceptRefusals: registry.counter(
      "agent_gtw_connections_refused_total",
      "TCP connections closed before any handshake work (limits), by reason",
    ),
    dropped: registry.counter(
      "agent_gtw_messages_dropped_total",
      "Outgoing messages dropped (client gone, or its queue full), by reason",
    ),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

/** What the scrape-time metrics read; each is owned by its component. */
export interface GatewayParts {
  readonly version: string;
  readonly backend: Backend;
  readonly journal: Journal;
  readonly streaming: StreamHub;
  readonly clientsConnected: () => number;
  readonly tradingState: () => TradingState;
  readonly effectiveTradingState: () => TradingState;
  /** The last EA PING round trip (terminal backend only). */
  readonly eaRoundTripMs?: () => number | undefined;
  /** Refusals by reason since start (server/refusals.ts). */
  readonly refusals?: () => RefusalCounts;
}

/** Registers every metric read at scrape time. */
export function collectGatewayParts(metrics: GatewayMetrics, parts: GatewayParts): void {
  const r = metrics.registry;
  r.buildInfo("agent_gtw", parts.version);
  r.collect("agent_gtw_up", "1 while the gateway serves (always 1 when scraped)", "gauge", () => 1);
  r.collect(
    "agent_gtw_mt5_link_up",
    "1 while MT5 is reachable and trading is allowed",
    "gauge",
    () => (parts.backend.link().state === "UP" ? 1 : 0),
  );
  r.collect(
    "agent_gtw_trading_state",
    "Trading state (0 ACTIVE, 1 REDUCING, 2 HALTED): operator's choice and effective (tightened while MT5 is down)",
    "gauge",
    () => [
      [{ kind: "operator" }, tradingStateLevel(parts.tradingState())],
      [{ kind: "effective" }, tradingStateLevel(parts.effectiveTradingState())],
    ],
  );
  r.collect("agent_gtw_clients_connected", "CURVE sessions open now", "gauge", () =>
    parts.clientsConnected(),
  );
  r.collect(
    "agent_gtw_journal_bytes",
    "Journal file size in bytes",
    "gauge",
    () => parts.journal.bytes,
  );
  r.collect(
    "agent_gtw_journal_entries",
    "Orders held in the journal",
    "gauge",
    () => parts.journal.size,
  );
  r.collect(
    "agent_gtw_orders_unresolved",
    "Orders whose outcome is not known yet (PENDING after a crash, UNKNOWN): being reconciled",
    "gauge",
    () => parts.journal.unresolved().length,
  );
  r.collect(
    "agent_gtw_journal_failing",
    "1 while the journal cannot be written (orders are refused)",
    "gauge",
    () => (parts.journal.failure === undefined ? 0 : 1),
  );
  r.collect(
    "agent_gtw_stream_subscribers",
    "Peers subscribed to the event stream",
    "gauge",
    () => parts.streaming.stats().subscribers,
  );
  r.collect(
    "agent_gtw_stream_queued_events",
    "Trade events queued for slow peers",
    "gauge",
    () => parts.streaming.stats().queued_events,
  );
  r.collect(
    "agent_gtw_stream_resync_required_total",
    "Stream peers cut off with RESYNC_REQUIRED for falling behind",
    "counter",
    () => parts.streaming.stats().resync_required,
  );
  r.collect(
    "agent_gtw_stream_conflated_quotes_total",
    "Quotes replaced by a newer one before a slow peer read them",
    "counter",
    () => parts.streaming.stats().conflated_quotes,
  );
  r.collect(
    "agent_gtw_refusals_total",
    "Connections and requests the gateway refused, by stage (pre_auth: anyone who can reach the port; client: an authorized client) and reason",
    "counter",
    () => {
      const counts = parts.refusals?.();
      if (counts === undefined) return [];
      const stage = (reason: RefusalReason) =>
        (PRE_AUTH_REFUSALS as readonly string[]).includes(reason) ? "pre_auth" : "client";
      return REFUSAL_REASONS.map(
        (reason) => [{ stage: stage(reason), reason }, counts[reason]] as const,
      );
    },
  );
  r.collect(
    "agent_gtw_ea_round_trip_seconds",
    "The last PING round trip to the EA in the terminal (terminal backend, once connected)",
    "gauge",
    () => {
      const ms = parts.eaRoundTripMs?.();
      return ms === undefined ? [] : [[{}, ms / 1000] as const];
    },
  );
}

/** The executor's events, counted. */
export function executorMetrics(metrics: GatewayMetrics): ExecutorEvents {
  return {
    stage: (stage, seconds) => metrics.stages.observe(seconds, { stage }),
    answered(action: string, reply: Reply) {
      metrics.orders.inc({ action, outcome: reply.status });
      if (reply.error_code !== undefined)
        metrics.orderErrors.inc({ action, code: reply.error_code });
    },
    reconciled: (state: OrderState) => metrics.reconciled.inc({ state }),
  };
}

/** The journal's group commits, timed. */
export function journalMetrics(metrics: GatewayMetrics): (seconds: number, bytes: number) => void {
  return (seconds, bytes) => {
    metrics.journalSync.observe(seconds);
    metrics.journalSyncBytes.inc({}, bytes);
  };
}

/** The ROUTER's refusals and drops, counted by reason (closed sets: codes and fixed phrases). */
export function countSocketEvent(metrics: GatewayMetrics, event: SocketEvent): void {
  switch (event.type) {
    case "handshake_failed":
      metrics.handshakeRefusals.inc({ reason: event.code.toLowerCase() });
      break;
    case "accept_rejected":
      metrics.acceptRefusals.inc({ reason: slug(event.reason) });
      break;
    case "dropped":
      metrics.dropped.inc({ reason: event.reason });
      break;
    default:
      break;
  }
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_|_$/g, "")
    .slice(0, 64);
}
