/**
 * agent-inf's metrics for GET /metrics (metrics.ts is the registry): what they are, and how a
 * lane's gauges and the order counters follow the agent's events.
 */
import type { TradingState } from "../../shared/protocol/index.ts";
import type { Lane } from "../lane/lane.ts";
import type { OrderEvents } from "../orders/order-service.ts";
import { Registry } from "./metrics.ts";

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
  };
}

export type AgentMetrics = ReturnType<typeof createAgentMetrics>;

/** A lane's gauges follow its events: heartbeat status, breaker, trading state, connection. */
export function watchLane(metrics: AgentMetrics, lane: Lane): void {
  const gateway = { gateway: lane.name };
  lane.tradingState.onChange((change) =>
    metrics.tradingState.set(stateLevel(change.state), gateway),
  );
  lane.breaker.onChange((change) => metrics.breakerEngaged.set(change.engaged ? 1 : 0, gateway));
  lane.heartbeat.onStatusChange((change) =>
    metrics.heartbeatStatus.set(
      change.status === "HEALTHY" ? 0 : change.status === "DEGRADED" ? 1 : 2,
      gateway,
    ),
  );
  lane.client.onStatus((status) => {
    if (status.type !== "handshake_failed")
      metrics.gatewayConnected.set(status.type === "connected" ? 1 : 0, gateway);
  });
  metrics.tradingState.set(stateLevel(lane.tradingState.state), gateway);
  metrics.breakerEngaged.set(0, gateway);
  metrics.heartbeatStatus.set(0, gateway);
  metrics.gatewayConnected.set(lane.client.connected ? 1 : 0, gateway);
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

function stateLevel(state: TradingState): number {
  return state === "ACTIVE" ? 0 : state === "REDUCING" ? 1 : 2;
}
