/**
 * agent-gtw's metrics for GET /metrics on `metrics.listen` (the registry is shared/metrics/):
 * what they are, and how they follow the gateway. Orders, stage latencies and reconciliations
 * arrive as executor events, journal syncs from the journal, dropped messages from the
 * ROUTER's events; everything some component already counts (clients, refusals by reason, stream
 * figures, the link, the journal's size) is read at scrape time with `registry.collect`, so a new
 * count the server exposes is one line here.
 */

import { Registry } from "../../shared/metrics/registry.ts";
import type { SocketEvent } from "../../shared/net/index.ts";
import type { OrderState, Reply, TradingState } from "../../shared/protocol/index.ts";
import { tradingStateLevel } from "../../shared/trading-state.ts";
import type { Backend } from "../backend/backend.ts";
import type { ExecutorEvents } from "../orders/executor.ts";
import type { Journal } from "../orders/journal.ts";
import { REFUSAL_REASONS, type RefusalCounts, refusalStage } from "../server/refusals.ts";
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
  /** Refusals by reason since start (server/refusals.ts, the status file's figures too). */
  readonly refusals: () => RefusalCounts;
  /** The last EA PING round trip (terminal backend only). */
  readonly eaRoundTripMs?: () => number | undefined;
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
    "agent_gtw_refusals_total",
    "Connections, handshakes, requests and replies refused, by stage (pre_auth: anyone who reaches the port; client: an authorized key) and reason",
    "counter",
    () => {
      const counts = parts.refusals();
      return REFUSAL_REASONS.map(
        (reason) => [{ stage: refusalStage(reason), reason }, counts[reason]] as const,
      );
    },
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

/**
 * The ROUTER's dropped messages, counted by reason (a closed set). Its refusals are counted once,
 * by server/refusals.ts, and read at scrape time (agent_gtw_refusals_total).
 */
export function countSocketEvent(metrics: GatewayMetrics, event: SocketEvent): void {
  if (event.type === "dropped") metrics.dropped.inc({ reason: event.reason });
}
