/**
 * agent-inf composition root. Per configured gateway (one MT5 account each) a "lane": the CURVE
 * client, the heartbeat and circuit breaker, a trading state and a risk monitor for that account.
 * Above them the order service, the metrics and (api/server.ts) the local strategy API.
 *
 * Start: keys → lanes connect → heartbeats start → API listens. Stop: API closes (no new
 * orders) → in-flight orders finish (bounded) → heartbeats stop → connections close.
 */

import { type Clock, systemClock } from "../shared/clock.ts";
import { readSecretKeyFile } from "../shared/keys/curve-keys.ts";
import { readSigningSecretKeyFile } from "../shared/keys/signing-keys.ts";
import type { Logger } from "../shared/log.ts";
import {
  type AccountInfo,
  createSigner,
  type PingReply,
  type TradingState,
} from "../shared/protocol/index.ts";
import { TradingStateHolder } from "../shared/trading-state.ts";
import { type AgentMetrics, createAgentMetrics } from "./api/metrics.ts";
import { findGateway, type InferenceConfig, toRiskLimits } from "./config.ts";
import { connectionFor } from "./gateway/connection.ts";
import { GatewayClient } from "./gateway/gateway-client.ts";
import { GatewayRefused } from "./gateway/port.ts";
import { CircuitBreaker } from "./lane/breaker.ts";
import { HeartbeatMonitor, type HeartbeatStatus, type LatencyStats } from "./lane/heartbeat.ts";
import { type GatewayLane, type GatewayRegistry, UnknownGatewayError } from "./lane/lane.ts";
import { type LaneState, readInferenceState, writeInferenceState } from "./lane/state-store.ts";
import { LaneFeed } from "./live-view/feed.ts";
import { LiveView } from "./live-view/live-view.ts";
import { LaneStream, type StreamHealth } from "./live-view/sync.ts";
import { OrderService } from "./orders/order-service.ts";
import { RiskMonitor } from "./risk/risk-monitor.ts";

export const INFERENCE_VERSION: string =
  (globalThis as { AGENT_VERSION?: string }).AGENT_VERSION ?? "0.1.0-dev";

type PingResult = PingReply & { readonly serverTime: number };

/** Everything agent-inf runs for one gateway. */
export interface Lane extends GatewayLane {
  readonly name: string;
  readonly heartbeat: HeartbeatMonitor<PingResult>;
  readonly breaker: CircuitBreaker;
  readonly tradingState: TradingStateHolder;
  /** The event stream of this gateway, when `stream.enabled`. */
  readonly stream?: { readonly sync: LaneStream; readonly view: LiveView; readonly feed: LaneFeed };
}

export interface LaneHealth {
  readonly gateway: string;
  readonly endpoint: string;
  readonly connected: boolean;
  readonly heartbeat: HeartbeatStatus;
  readonly latency_ms?: LatencyStats;
  readonly clock_offset_ms?: number;
  readonly breaker: {
    readonly engaged: boolean;
    readonly reason?: string;
    readonly since?: number;
  };
  readonly trading_state: TradingState;
  readonly trading_state_reason: string;
  /** The gateway's own view, from its last PING reply. */
  readonly gateway_trading_state?: TradingState;
  readonly mt5_link?: string;
  readonly mt5_detail?: string;
  /** The event stream: LIVE when positions and quotes follow the gateway without queries. */
  readonly stream?: StreamHealth;
}

export interface Health {
  readonly status: "ok" | "degraded" | "failed";
  readonly version: string;
  readonly agent: string;
  readonly gateways: readonly LaneHealth[];
}

export interface InferenceApp {
  readonly config: InferenceConfig;
  readonly orders: OrderService;
  readonly lanes: ReadonlyMap<string, Lane>;
  readonly defaultGateway: string;
  readonly metrics: AgentMetrics;
  readonly clock: Clock;
  readonly logger: Logger;
  lane(name?: string): Lane;
  health(): Health;
  /** Operator: set the trading state of one gateway, or of all. */
  setTradingState(state: TradingState, reason: string, gateway?: string): void;
  /** Operator: engage or reset the breaker of one gateway, or of all. */
  setBreaker(engaged: boolean, reason: string, gateway?: string): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface InferenceAppOptions {
  readonly clock?: Clock;
}

export function createInferenceApp(
  config: InferenceConfig,
  logger: Logger,
  options: InferenceAppOptions = {},
): InferenceApp {
  const clock = options.clock ?? systemClock;
  const client = readSecretKeyFile(config.keys.client_secret);
  const signing = readSigningSecretKeyFile(config.keys.signing_secret);
  const signer = createSigner({ keyId: signing.keyId, secretKey: signing.secretKey });
  const stored = readInferenceState(config.state_dir);
  const metrics = createAgentMetrics();
  const lanes = new Map<string, Lane>();
  // Stream event ids carry this run's epoch, so a strategy resuming with an id from an earlier
  // run gets a fresh snapshot instead of a replay that does not exist
  const epoch = clock.now().toString(36);
  const laneState: Record<string, LaneState> = { ...stored };
  const persist = () => {
    try {
      writeInferenceState(config.state_dir, laneState);
    } catch (error) {
      logger.error("Could not save agent state", {
        dir: config.state_dir,
        error: (error as Error).message,
      });
    }
  };

  for (const entry of config.gateways) {
    const log = logger.child(entry.name);
    const gatewayClient = new GatewayClient({
      port: connectionFor(entry, client, clock, log.child("client")),
      signer,
      clock,
      logger: log.child("client"),
      requestTimeoutMs: entry.request_timeout_ms,
      orderTimeoutMs: entry.order_timeout_ms,
      reconcileDeadlineMs: entry.reconcile_deadline_ms,
    });
    const heartbeat = new HeartbeatMonitor<PingResult>({
      clock,
      logger: log.child("heartbeat"),
      intervalMs: config.heartbeat.interval_ms,
      ...(config.heartbeat.timeout_ms === undefined
        ? {}
        : { timeoutMs: config.heartbeat.timeout_ms }),
      failureThreshold: config.heartbeat.failure_threshold,
      recoverySuccesses: config.heartbeat.recovery_successes,
      // One attempt per beat: a retried PING would hide exactly the silence the heartbeat measures.
      ping: async () => {
        const started = clock.monotonic();
        const reply = await gatewayClient.query(
          { action: "PING" },
          { timeoutMs: config.heartbeat.timeout_ms ?? config.heartbeat.interval_ms, retries: 0 },
        );
        if (reply.status !== "OK") throw new GatewayRefused("PING", reply);
        metrics.heartbeatLatency.observe((clock.monotonic() - started) / 1000, {
          gateway: entry.name,
        });
        return { ...(reply as PingReply), serverTime: (reply as PingReply).server_time };
      },
    });
    const breaker = new CircuitBreaker({ clock, logger: log.child("breaker"), heartbeat });
    const remembered = stored[entry.name];
    const tradingState = new TradingStateHolder({
      clock,
      logger: log.child("state"),
      initial: remembered?.tradingState?.state ?? config.trading_state,
    });
    const risk = new RiskMonitor({
      limits: toRiskLimits(config.risk),
      clock,
      logger: log.child("risk"),
      tradingState,
      breaker,
      ...(remembered?.equity === undefined ? {} : { equitySeed: remembered.equity }),
    });
    const stream = config.stream.enabled
      ? createLaneStream(entry.name, gatewayClient, log.child("stream"))
      : undefined;
    const lane: Lane = {
      name: entry.name,
      client: gatewayClient,
      risk,
      heartbeat,
      breaker,
      tradingState,
      clockOffsetMs: () => heartbeat.clockOffsetMs,
      ...(stream === undefined ? {} : { stream, live: stream.view }),
    };
    lanes.set(entry.name, lane);

    tradingState.onChange((change) => {
      laneState[entry.name] = {
        ...laneState[entry.name],
        tradingState: { state: change.state, reason: change.reason },
      };
      persist();
      metrics.tradingState.set(stateLevel(change.state), { gateway: entry.name });
    });
    breaker.onChange((change) =>
      metrics.breakerEngaged.set(change.engaged ? 1 : 0, { gateway: entry.name }),
    );
    heartbeat.onStatusChange((change) =>
      metrics.heartbeatStatus.set(
        change.status === "HEALTHY" ? 0 : change.status === "DEGRADED" ? 1 : 2,
        { gateway: entry.name },
      ),
    );
    metrics.tradingState.set(stateLevel(tradingState.state), { gateway: entry.name });
    metrics.breakerEngaged.set(0, { gateway: entry.name });
    metrics.heartbeatStatus.set(0, { gateway: entry.name });
  }

  const defaultGateway = findGateway(config).name;
  const registry: GatewayRegistry = {
    get: (name) => lanes.get(name ?? defaultGateway),
    names: [...lanes.keys()],
    defaultName: defaultGateway,
  };
  const orders = new OrderService({
    gateways: registry,
    clock,
    logger: logger.child("orders"),
    events: {
      orderFinished(action, result, durationMs) {
        metrics.orders.inc({ action, outcome: result.outcome });
        metrics.orderLatency.observe(durationMs / 1000, { action, outcome: result.outcome });
        if (result.outcome === "DENIED") metrics.denials.inc({ code: result.denial.code });
      },
    },
  });

  function createLaneStream(name: string, client: GatewayClient, log: Logger) {
    const view = new LiveView(() => clock.monotonic(), {
      accountMaxAgeMs: config.stream.account_max_age_ms,
      symbolInfoMaxAgeMs: config.stream.symbol_info_max_age_ms,
      quoteIdleMs: config.stream.quote_idle_ms,
    });
    const feed = new LaneFeed(name, epoch);
    const sync = new LaneStream({
      client,
      view,
      feed,
      riskSymbols: config.risk.allowed_symbols,
      clock,
      logger: log,
    });
    return { sync, view, feed };
  }

  const timers: { cancel(): void }[] = [];
  let equityWritten = 0;

  const laneHealth = (lane: Lane): LaneHealth => {
    const last = lane.heartbeat.lastResult;
    const latency = lane.heartbeat.latency();
    const offset = lane.heartbeat.clockOffsetMs;
    return {
      gateway: lane.name,
      endpoint: lane.client.endpoint,
      connected: lane.client.connected,
      heartbeat: lane.heartbeat.status,
      ...(latency === undefined ? {} : { latency_ms: latency }),
      ...(offset === undefined ? {} : { clock_offset_ms: offset }),
      breaker: {
        engaged: lane.breaker.engaged,
        ...(lane.breaker.reason === undefined ? {} : { reason: lane.breaker.reason }),
        ...(lane.breaker.since === undefined ? {} : { since: lane.breaker.since }),
      },
      trading_state: lane.tradingState.state,
      trading_state_reason: lane.tradingState.reason,
      ...(last === undefined
        ? {}
        : {
            gateway_trading_state: last.trading_state,
            mt5_link: last.mt5.link,
            ...(last.mt5.detail === undefined ? {} : { mt5_detail: last.mt5.detail }),
          }),
      ...(lane.stream === undefined ? {} : { stream: lane.stream.sync.health() }),
    };
  };

  const select = (gateway?: string): Lane[] => {
    if (gateway === undefined) return [...lanes.values()];
    const lane = lanes.get(gateway);
    if (lane === undefined) throw new UnknownGatewayError(gateway, lanes.keys());
    return [lane];
  };

  return {
    config,
    orders,
    lanes,
    defaultGateway,
    metrics,
    clock,
    logger,
    lane(name) {
      const lane = lanes.get(name ?? defaultGateway);
      if (lane === undefined) throw new UnknownGatewayError(name, lanes.keys());
      return lane;
    },
    health() {
      const gateways = [...lanes.values()].map(laneHealth);
      const failed = gateways.some((lane) => lane.heartbeat === "FAILED" || lane.breaker.engaged);
      const degraded = gateways.some(
        (lane) => lane.heartbeat !== "HEALTHY" || !lane.connected || lane.mt5_link !== "UP",
      );
      return {
        status: failed ? "failed" : degraded ? "degraded" : "ok",
        version: INFERENCE_VERSION,
        agent: config.agent.name,
        gateways,
      };
    },
    setTradingState(state, reason, gateway) {
      for (const lane of select(gateway)) lane.tradingState.set(state, reason, "operator");
    },
    setBreaker(engaged, reason, gateway) {
      for (const lane of select(gateway)) {
        if (engaged) lane.breaker.engage(reason);
        else lane.breaker.reset(reason);
      }
    },
    async start() {
      for (const lane of lanes.values()) {
        lane.stream?.sync.start();
        lane.client.connect();
        lane.heartbeat.start();
        // Loss limits must trip on equity alone, not only when an order happens to be sent.
        timers.push(clock.setInterval(() => void pollEquity(lane), config.heartbeat.interval_ms));
        timers.push(
          clock.setInterval(
            () =>
              metrics.gatewayConnected.set(lane.client.connected ? 1 : 0, { gateway: lane.name }),
            1000,
          ),
        );
      }
      logger.info("Agent started", {
        agent: config.agent.name,
        gateways: [...lanes.keys()].join(","),
        default: defaultGateway,
        signing_key: signer.keyId,
      });
    },
    async stop() {
      for (const timer of timers.splice(0)) timer.cancel();
      for (const lane of lanes.values()) {
        lane.heartbeat.stop();
        lane.breaker.dispose();
        lane.stream?.sync.stop();
      }
      persist();
      await Promise.all([...lanes.values()].map((lane) => lane.client.close()));
      logger.info("Agent stopped");
    },
  };

  async function pollEquity(lane: Lane): Promise<void> {
    if (!lane.client.connected) return;
    try {
      const reply = await lane.client.query({ action: "GET_ACCOUNT" });
      const account = (reply as { account?: AccountInfo }).account;
      if (account === undefined) return;
      lane.stream?.view.remember({ account });
      lane.risk.updateEquity(account);
      const equity = lane.risk.equity;
      // The high-water mark must survive a restart, but not cost a disk write every poll.
      if (equity !== undefined && clock.monotonic() - equityWritten > 10_000) {
        equityWritten = clock.monotonic();
        laneState[lane.name] = {
          ...laneState[lane.name],
          equity: {
            highWaterMark: equity.highWaterMark,
            day: equity.day,
            dayStartEquity: equity.dayStartEquity,
          },
        };
        persist();
      }
    } catch (error) {
      logger.debug("Equity poll failed", { gateway: lane.name, error: (error as Error).message });
    }
  }
}

function stateLevel(state: TradingState): number {
  return state === "ACTIVE" ? 0 : state === "REDUCING" ? 1 : 2;
}
