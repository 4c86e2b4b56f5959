/**
 * What the status file says (written every second, and once more at stop with `stopped_at`):
 * `agent-gtw status`, the service managers and the test harness read it. Read from the running
 * parts at each write, never kept: a reader sees the gateway as it is.
 */
import type { Clock } from "../../shared/clock.ts";
import type { CryptoBackendInfo } from "../../shared/curve/box-backend.ts";
import type { TradingStateHolder } from "../../shared/trading-state.ts";
import type { Backend } from "../backend/backend.ts";
import type { GatewayConfig } from "../config.ts";
import type { OrderExecutor } from "../orders/executor.ts";
import type { Journal } from "../orders/journal.ts";
import type { Gateway } from "../server/gateway.ts";
import type { Refusals } from "../server/refusals.ts";
import type { GatewayServer } from "../server/server.ts";
import type { StreamHub } from "../streaming/stream-hub.ts";
import type { ClientKeys } from "./client-keys.ts";

export interface StatusParts {
  readonly config: GatewayConfig;
  readonly version: string;
  readonly startedAt: number;
  readonly clock: Clock;
  readonly net: GatewayServer;
  readonly gateway: Gateway;
  readonly tradingState: TradingStateHolder;
  readonly backend: Backend;
  readonly clientKeys: ClientKeys;
  readonly journal: Journal;
  readonly executor: OrderExecutor;
  readonly refusals: Refusals;
  readonly streaming: StreamHub;
  readonly metricsUrl: () => string | undefined;
  readonly crypto: CryptoBackendInfo;
}

export function statusReport(parts: StatusParts) {
  const { journal, tradingState } = parts;
  return {
    pid: process.pid,
    version: parts.version,
    gateway: parts.config.gateway.name,
    endpoint: parts.net.endpoint,
    started_at: parts.startedAt,
    updated_at: parts.clock.now(),
    trading_state: tradingState.state,
    trading_state_reason: tradingState.reason,
    effective_trading_state: parts.gateway.effectiveTradingState(),
    mt5: parts.backend.link(),
    clients_connected: parts.net.connectedClients,
    clients_authorized: parts.clientKeys.current.size,
    journal: {
      entries: journal.size,
      unresolved: journal.unresolved().length,
      failure: journal.failure?.message ?? null,
      sequence: journal.sequence,
      broker_tags: journal.brokerTags,
      broker_check: parts.executor.brokerCheckState(),
    },
    requests: parts.gateway.counters,
    refusals: parts.refusals.counts(),
    streaming: parts.streaming.stats(),
    metrics: parts.metricsUrl() ?? null,
    crypto: parts.crypto,
  };
}
