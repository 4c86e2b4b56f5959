/**
 * agent-inf composition root: this host's keys, one lane per configured gateway (lane/), the
 * order service above them, the metrics, and the operator's actions. Composition only; each
 * part lives in its concern. The local API (api/server.ts) is started around this by cli/run.ts.
 *
 * Start: keys → lanes connect → heartbeats start → API listens. Stop: API closes (no new
 * orders) → in-flight orders finish (bounded) → heartbeats stop → connections close.
 */
import { type Clock, systemClock } from "../shared/clock.ts";
import type { Logger } from "../shared/log.ts";
import type { TradingState } from "../shared/protocol/index.ts";
import { installCryptoBackend } from "../shared/sodium/install.ts";
import {
  type AgentMetrics,
  accountMetrics,
  collectLanes,
  createAgentMetrics,
  laneObservers,
  orderMetrics,
  watchLane,
} from "./api/agent-metrics.ts";
import { findGateway, type InferenceConfig } from "./config.ts";
import { loadHostKeys } from "./gateway/host-keys.ts";
import { createLane } from "./lane/create-lane.ts";
import type { EquityCurve } from "./lane/equity-curve.ts";
import { agentHealth, type Health } from "./lane/health.ts";
import type { Lane } from "./lane/lane.ts";
import { Lanes } from "./lane/lanes.ts";
import { LaneStateStore } from "./lane/state-store.ts";
import { DescribedOrderService, OrderLog } from "./orders/order-log.ts";
import type { OrderService } from "./orders/order-service.ts";
import { INFERENCE_VERSION } from "./version.ts";

export interface InferenceApp {
  readonly config: InferenceConfig;
  readonly orders: OrderService;
  readonly lanes: ReadonlyMap<string, Lane>;
  readonly defaultGateway: string;
  readonly metrics: AgentMetrics;
  /** The last orders finished and their latencies per gateway (the dashboard). */
  readonly orderLog: OrderLog;
  /** Each gateway's equity curve, kept in the state file (the dashboard). */
  readonly equityCurves: ReadonlyMap<string, EquityCurve>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The lane named (or the default); throws UnknownGatewayError. */
  lane(name?: string): Lane;
  health(): Health;
  /**
   * Operator: set the trading state of one gateway, or of all. Relaxing a loss limit's hold
   * needs `overrideRisk` (else RiskHoldError, lane/lanes.ts).
   */
  setTradingState(
    state: TradingState,
    reason: string,
    gateway?: string,
    overrideRisk?: boolean,
  ): void;
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
  // First: an unusable AGENT_CRYPTO_BACKEND stops the start (exit 2), not a handshake later
  const crypto = installCryptoBackend({ logger });
  const keys = loadHostKeys(config);
  const store = new LaneStateStore(config.state_dir, logger, clock);
  const metrics = createAgentMetrics();
  // Stream event ids carry this run's epoch, so a strategy resuming with an id from an earlier
  // run gets a fresh snapshot instead of a replay that does not exist
  const epoch = clock.now().toString(36);
  let lanes: Lanes | undefined;
  const lanesNow = () => lanes?.byName.values() ?? [];
  const heartbeatOf = (name: string) => lanes?.byName.get(name)?.heartbeat;
  lanes = new Lanes({
    lanes: config.gateways.map((entry) =>
      createLane({
        config,
        entry,
        keys: keys.curve,
        signer: keys.signer,
        clock,
        logger,
        epoch,
        remembered: store.remembered(entry.name),
        ...laneObservers(metrics, entry.name, logger, () => heartbeatOf(entry.name)),
      }),
    ),
    defaultName: findGateway(config).name,
    store,
    clock,
    logger,
    equityPollMs: config.heartbeat.interval_ms,
    onAccount: accountMetrics(metrics),
  });
  for (const lane of lanes.byName.values()) watchLane(metrics, lane);
  collectLanes(metrics, lanesNow, clock, INFERENCE_VERSION);
  const orderLog = new OrderLog({
    clock,
    symbolOf: (gateway, ticket) =>
      lanes?.byName.get(gateway ?? lanes.defaultName)?.stream?.view.knownPositions.get(ticket)
        ?.symbol,
  });
  const orders: OrderService = new DescribedOrderService(
    { gateways: lanes, clock, logger: logger.child("orders"), events: orderMetrics(metrics) },
    orderLog,
  );

  return {
    config,
    orders,
    lanes: lanes.byName,
    defaultGateway: lanes.defaultName,
    metrics,
    orderLog,
    equityCurves: lanes.curves,
    clock,
    logger,
    lane: (name) => lanes.lane(name),
    health: () => agentHealth(lanes.byName.values(), INFERENCE_VERSION, config.agent.name, crypto),
    setTradingState: lanes.setTradingState.bind(lanes),
    setBreaker: lanes.setBreaker.bind(lanes),
    async start() {
      lanes.start();
      logger.info("Agent started", {
        agent: config.agent.name,
        gateways: lanes.names.join(","),
        default: lanes.defaultName,
        signing_key: keys.signer.keyId,
      });
    },
    async stop() {
      orders.stop();
      await lanes.stop();
      logger.info("Agent stopped");
    },
  };
}
