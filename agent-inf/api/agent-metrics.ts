/**
 * agent-inf's metrics for GET /metrics (metrics.ts is the registry): what they are, and how a
 * lane's gauges and the order counters follow the agent's events.
 */

import type { Clock } from "../../shared/clock.ts";
import type { Logger } from "../../shared/log.ts";
import { type Labels, Registry } from "../../shared/metrics/registry.ts";
import type { AccountInfo, Action } from "../../shared/protocol/index.ts";
import { tradingStateLevel } from "../../shared/trading-state.ts";
import { clockOffsetWatcher, gatewayWindow, offsetLimitMs } from "../lane/clock-check.ts";
import type { Lane } from "../lane/lane.ts";
import type { OrderEvents } from "../orders/order-service.ts";

/** The agent's metrics, created once in app.ts. */
export function createAgentMetrics(registry = new Registry()) {
  return {
    registry,
    httpRequests: registry.counter(
      "agent_inf_http_requests_total",
      "Local API requests by route and status code",
    ),
    httpLatency: registry.histogram(
      "agent_inf_http_request_seconds",
      "Local API request latency by route",
    ),
    orderLatency: registry.histogram(
      "agent_inf_order_seconds",
      "Order round trip (risk, sign, gateway) by action and outcome",
    ),
    orders: registry.counter("agent_inf_orders_total", "Orders by action and outcome"),
    denials: registry.counter("agent_inf_risk_denials_total", "Risk denials by code"),
    gatewayLatency: registry.histogram(
      "agent_inf_gateway_request_seconds",
      "Round trip of each answered gateway request (CURVE both ways and the gateway's work), by gateway and action",
    ),
    heartbeatLatency: registry.histogram(
      "agent_inf_heartbeat_seconds",
      "Gateway PING round trip by gateway",
    ),
    heartbeatStatus: registry.gauge(
      "agent_inf_heartbeat_status",
      "Heartbeat status by gateway (0 HEALTHY, 1 DEGRADED, 2 FAILED)",
    ),
    breakerEngaged: registry.gauge(
      "agent_inf_breaker_engaged",
      "1 while the circuit breaker refuses OPENs, by gateway",
    ),
    tradingState: registry.gauge(
      "agent_inf_trading_state",
      "Trading state by gateway (0 ACTIVE, 1 REDUCING, 2 HALTED)",
    ),
    gatewayConnected: registry.gauge(
      "agent_inf_gateway_connected",
      "1 while the CURVE session to the gateway is up",
    ),
    streamConnections: registry.gauge(
      "agent_inf_stream_connections",
      "Strategy stream connections (SSE and WebSocket) open now",
    ),
    streamOverflows: registry.counter(
      "agent_inf_stream_overflows_total",
      "Stream readers disconnected with RESYNC_REQUIRED for falling behind, by gateway",
    ),
    balance: registry.gauge(
      "agent_inf_account_balance",
      "Account balance by gateway (deposit currency)",
    ),
    equity: registry.gauge(
      "agent_inf_account_equity",
      "Account equity by gateway (deposit currency)",
    ),
    marginLevel: registry.gauge(
      "agent_inf_account_margin_level_percent",
      "Equity / margin × 100 by gateway; 0 when no margin is in use",
    ),
  };
}

/** The account figures the equity poll reads, as gauges. */
export function accountMetrics(
  metrics: AgentMetrics,
): (gateway: string, account: AccountInfo) => void {
  return (gateway, account) => {
    metrics.balance.set(account.balance, { gateway });
    metrics.equity.set(account.equity, { gateway });
    metrics.marginLevel.set(account.margin_level, { gateway });
  };
}

/**
 * What the lanes already know, read at scrape time: loss limits used, clock offset against the
 * signature window, open positions and quote ages (with the stream on), build info.
 */
export function collectLanes(
  metrics: AgentMetrics,
  lanes: () => Iterable<Lane>,
  clock: Clock,
  version: string,
): void {
  const r = metrics.registry;
  const each = (read: (lane: Lane) => number | undefined) =>
    function* (): Generator<readonly [Labels, number]> {
      for (const lane of lanes()) {
        const value = read(lane);
        if (value !== undefined) yield [{ gateway: lane.name }, value];
      }
    };
  r.buildInfo("agent_inf", version);
  r.collect(
    "agent_inf_daily_loss",
    "Loss since the start of the trading day by gateway (deposit currency; negative on a winning day)",
    "gauge",
    each((lane) => lane.risk.equity?.dailyLoss),
  );
  r.collect(
    "agent_inf_daily_loss_limit_used_ratio",
    "Daily loss as a fraction of its limit (the tighter of money and percent), by gateway; 1 trips the limit",
    "gauge",
    each((lane) => dailyLossUsed(lane)),
  );
  r.collect(
    "agent_inf_drawdown_percent",
    "Drop from the equity high-water mark, percent, by gateway",
    "gauge",
    each((lane) => lane.risk.equity?.drawdownPercent),
  );
  r.collect(
    "agent_inf_drawdown_limit_used_ratio",
    "Drawdown as a fraction of risk.max_drawdown_percent, by gateway; 1 trips the limit",
    "gauge",
    each((lane) => {
      const max = lane.risk.limits.maxDrawdownPercent;
      const equity = lane.risk.equity;
      return max === null || equity === undefined ? undefined : equity.drawdownPercent / max;
    }),
  );
  r.collect(
    "agent_inf_clock_offset_seconds",
    "The gateway's clock minus this host's (median over recent PINGs), by gateway",
    "gauge",
    each((lane) => {
      const offset = lane.heartbeat.clockOffsetMs;
      return offset === undefined ? undefined : offset / 1000;
    }),
  );
  r.collect(
    "agent_inf_clock_offset_window_used_ratio",
    "The clock offset as a fraction of what the signature window allows in its direction, by gateway; past 1 every order is refused EXPIRED",
    "gauge",
    each((lane) => {
      const offset = lane.heartbeat.clockOffsetMs;
      return offset === undefined
        ? undefined
        : Math.abs(offset) / offsetLimitMs(offset, gatewayWindow(lane.heartbeat.lastResult));
    }),
  );
  r.collect(
    "agent_inf_open_positions",
    "Open positions on the gateway's account as the event stream knows them, by gateway",
    "gauge",
    each((lane) => lane.stream?.view.knownPositions.size),
  );
  r.collect(
    "agent_inf_quote_age_seconds",
    "Age of the last streamed quote by gateway and symbol (on the gateway's clock)",
    "gauge",
    function* () {
      for (const lane of lanes()) {
        const offset = lane.heartbeat.clockOffsetMs ?? 0;
        for (const quote of lane.stream?.view.quotes() ?? [])
          yield [
            { gateway: lane.name, symbol: quote.symbol },
            Math.max(0, clock.now() + offset - quote.time) / 1000,
          ] as const;
      }
    },
  );
}

/** The daily loss as a fraction of its limit (the tighter of money and percent); 1 trips it. */
export function dailyLossUsed(lane: Lane): number | undefined {
  const equity = lane.risk.equity;
  if (equity === undefined) return undefined;
  const { money, percent } = lane.risk.limits.dailyLossLimit;
  const used = [
    money === null ? undefined : equity.dailyLoss / money,
    percent === null ? undefined : equity.dailyLossPercent / percent,
  ].filter((value): value is number => value !== undefined);
  return used.length === 0 ? undefined : Math.max(...used);
}

export type AgentMetrics = ReturnType<typeof createAgentMetrics>;

/** A lane's gauges follow its events: heartbeat status, breaker, trading state, connection. */
export function watchLane(metrics: AgentMetrics, lane: Lane): void {
  const gateway = { gateway: lane.name };
  lane.tradingState.onChange((change) =>
    metrics.tradingState.set(tradingStateLevel(change.state), gateway),
  );
  lane.breaker.onChange((change) => metrics.breakerEngaged.set(change.engaged ? 1 : 0, gateway));
  lane.heartbeat.onStatusChange((change) =>
    metrics.heartbeatStatus.set(
      change.status === "HEALTHY" ? 0 : change.status === "DEGRADED" ? 1 : 2,
      gateway,
    ),
  );
  lane.client.onStatus((status) => {
    if (status.type === "connected" || status.type === "disconnected")
      metrics.gatewayConnected.set(status.type === "connected" ? 1 : 0, gateway);
  });
  metrics.tradingState.set(tradingStateLevel(lane.tradingState.state), gateway);
  metrics.breakerEngaged.set(0, gateway);
  metrics.heartbeatStatus.set(0, gateway);
  metrics.gatewayConnected.set(lane.client.connected ? 1 : 0, gateway);
}

/**
 * What a lane reports as it goes: each PING's round trip (the heartbeat histogram, and the clock
 * offset judged against the gateway's signature window, warned of past half of it: issue 18) and
 * each gateway round trip by action. `heartbeat` is late-bound: the lane does not exist yet.
 */
export function laneObservers(
  metrics: AgentMetrics,
  gateway: string,
  logger: Logger,
  heartbeat: () => Lane["heartbeat"] | undefined,
): { onPing(seconds: number): void; onRoundTrip(action: Action, seconds: number): void } {
  const watchClock = clockOffsetWatcher(gateway, logger.child(gateway));
  return {
    onPing(seconds) {
      metrics.heartbeatLatency.observe(seconds, { gateway });
      const offset = heartbeat()?.clockOffsetMs;
      if (offset !== undefined) watchClock(offset, gatewayWindow(heartbeat()?.lastResult));
    },
    onRoundTrip: (action, seconds) => metrics.gatewayLatency.observe(seconds, { gateway, action }),
  };
}

/** Finished orders counted by action and outcome, with their latency and denial codes. */
export function orderMetrics(metrics: AgentMetrics): OrderEvents {
  return {
    orderFinished(action, result, durationMs) {
      metrics.orders.inc({ action, outcome: result.outcome });
      metrics.orderLatency.observe(durationMs / 1000, { action, outcome: result.outcome });
      if (result.outcome === "DENIED") metrics.denials.inc({ code: result.denial.code });
    },
  };
}
