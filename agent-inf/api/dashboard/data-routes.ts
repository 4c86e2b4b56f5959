/**
 * Read-only JSON routes the dashboard draws from, open to any token like the other reads
 * (docs/API.md §12): what the agent itself knows, so none of them asks the gateway.
 *
 * - GET /v1/recent-orders: the last finished intents (orders/order-log.ts), filtered by gateway
 *   and outcome.
 * - GET /v1/equity: a gateway's loss-limit figures and its equity curve (lane/equity-curve.ts).
 * - GET /v1/latency: per gateway, histograms of order round trips and of PINGs.
 */
import type { HistogramSnapshot } from "../../../shared/metrics/registry.ts";
import { checkGatewayName } from "../../../shared/protocol/index.ts";
import { ORDER_OUTCOMES, type OrderOutcome, RECENT_ORDERS } from "../../orders/order-log.ts";
import { dailyLossUsed } from "../agent-metrics.ts";
import { parseQuery, QUERY_GATEWAY } from "../input.ts";
import { json, type Route } from "../routes.ts";

const DEFAULT_RECENT = 100;

const checkOutcomes = (value: unknown): string | undefined =>
  typeof value === "string" &&
  value.split(",").every((outcome) => (ORDER_OUTCOMES as readonly string[]).includes(outcome))
    ? undefined
    : `must be a comma-separated list of ${ORDER_OUTCOMES.join(", ")}`;

const checkLimit = (value: unknown): string | undefined =>
  typeof value === "string" && /^[1-9][0-9]{0,3}$/.test(value) && Number(value) <= RECENT_ORDERS
    ? undefined
    : `must be an integer from 1 to ${RECENT_ORDERS}`;

export const DASHBOARD_DATA_ROUTES: readonly Route[] = [
  {
    method: "GET",
    template: "/v1/recent-orders",
    handler: ({ app, query }) => {
      const { gateway, outcome, limit } = parseQuery(query, {
        gateway: checkGatewayName,
        outcome: checkOutcomes,
        limit: checkLimit,
      });
      if (gateway !== undefined) app.lane(gateway);
      const orders = app.orderLog.recent({
        limit: limit === undefined ? DEFAULT_RECENT : Number(limit),
        ...(gateway === undefined ? {} : { gateway }),
        ...(outcome === undefined
          ? {}
          : { outcomes: new Set(outcome.split(",") as OrderOutcome[]) }),
      });
      return json(200, { orders });
    },
  },
  {
    method: "GET",
    template: "/v1/equity",
    handler: ({ app, query }) => {
      const lane = app.lane(parseQuery(query, QUERY_GATEWAY)["gateway"]);
      const equity = lane.risk.equity;
      const limits = lane.risk.limits;
      const drawdownLimit = limits.maxDrawdownPercent;
      return json(200, {
        gateway: lane.name,
        ...(equity === undefined
          ? {}
          : {
              day: equity.day,
              equity: equity.equity,
              day_start_equity: equity.dayStartEquity,
              high_water_mark: equity.highWaterMark,
              daily_loss: equity.dailyLoss,
              daily_loss_percent: equity.dailyLossPercent,
              daily_loss_used: dailyLossUsed(lane) ?? null,
              drawdown_percent: equity.drawdownPercent,
              drawdown_used: drawdownLimit === null ? null : equity.drawdownPercent / drawdownLimit,
            }),
        daily_loss_limit: limits.dailyLossLimit,
        max_drawdown_percent: drawdownLimit,
        curve: app.equityCurves.get(lane.name)?.points ?? [],
      });
    },
  },
  {
    method: "GET",
    template: "/v1/latency",
    handler: ({ app, query }) => {
      const lane = app.lane(parseQuery(query, QUERY_GATEWAY)["gateway"]);
      const order = app.orderLog.latency(lane.name);
      const ping = app.metrics.heartbeatLatency.snapshot({ gateway: lane.name });
      return json(200, {
        gateway: lane.name,
        bounds_ms: order.bounds.map((bound) => Math.round(bound * 1e6) / 1e3),
        order: perBucket(order),
        ping: perBucket(ping),
      });
    },
  },
];

/** Counts per bucket (not cumulative), what lies above the last bound, and the mean in ms. */
function perBucket(snapshot: HistogramSnapshot): {
  counts: number[];
  above: number;
  count: number;
  mean_ms: number | null;
} {
  const counts = snapshot.counts.map((count, i) => count - (snapshot.counts[i - 1] ?? 0));
  return {
    counts,
    above: snapshot.count - (snapshot.counts.at(-1) ?? 0),
    count: snapshot.count,
    mean_ms: snapshot.count === 0 ? null : Math.round((snapshot.sum / snapshot.count) * 1e6) / 1e3,
  };
}
