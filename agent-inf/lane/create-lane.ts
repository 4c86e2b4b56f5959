/**
 * Builds one lane from its config entry: the gateway client over a CURVE connection, the
 * heartbeat that PINGs through it, the breaker that listens to the heartbeat, the trading state
 * and risk monitor (restored from the state file), and the live view when the stream is on.
 */
import type { Clock } from "../../shared/clock.ts";
import type { KeyPair } from "../../shared/curve/box.ts";
import type { Logger } from "../../shared/log.ts";
import type { Action, PingReply, Signer } from "../../shared/protocol/index.ts";
import { TradingStateHolder } from "../../shared/trading-state.ts";
import { type GatewayEntry, type InferenceConfig, toRiskLimits } from "../config.ts";
import { connectionFor } from "../gateway/connection.ts";
import type { Failure } from "../gateway/failure-cause.ts";
import { GatewayClient } from "../gateway/gateway-client.ts";
import { GatewayRefused } from "../gateway/port.ts";
import { BarWatcher, type BarWatchOptions, gatewayBars } from "../live-view/bars.ts";
import { LaneFeed } from "../live-view/feed.ts";
import { LiveView } from "../live-view/live-view.ts";
import { LaneStream } from "../live-view/sync.ts";
import { RiskMonitor } from "../risk/risk-monitor.ts";
import { CircuitBreaker } from "./breaker.ts";
import { HeartbeatMonitor } from "./heartbeat.ts";
import type { Lane, PingResult } from "./lane.ts";
import type { LaneState } from "./state-store.ts";

export interface LaneOptions {
  readonly config: InferenceConfig;
  readonly entry: GatewayEntry;
  /** This host's CURVE key pair and order signer. */
  readonly keys: KeyPair;
  readonly signer: Signer;
  readonly clock: Clock;
  /** The agent's logger; the lane logs under its gateway's name. */
  readonly logger: Logger;
  /** What the state file remembered for this gateway. */
  readonly remembered?: LaneState | undefined;
  /** This run's stream epoch: event ids from an earlier run get a fresh snapshot, not a replay. */
  readonly epoch: string;
  /** Each answered heartbeat PING, in seconds (metrics). */
  readonly onPing?: (seconds: number) => void;
  /** Each answered gateway request's round trip, in seconds (metrics). */
  readonly onRoundTrip?: (action: Action, seconds: number) => void;
}

export function createLane(options: LaneOptions): Lane {
  const { config, entry, clock, remembered } = options;
  const log = options.logger.child(entry.name);
  const client = new GatewayClient({
    port: connectionFor(entry, options.keys, clock, log.child("client")),
    signer: options.signer,
    clock,
    logger: log.child("client"),
    requestTimeoutMs: entry.request_timeout_ms,
    orderTimeoutMs: entry.order_timeout_ms,
    reconcileDeadlineMs: entry.reconcile_deadline_ms,
    ...(options.onRoundTrip === undefined ? {} : { onRoundTrip: options.onRoundTrip }),
  });
  // The broker's server time minus UTC, as last reported: kept while the MT5 link is down (the
  // gateway then omits it), so bars already watched keep their server-time arithmetic
  let serverOffsetMs: number | undefined;
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
      const reply = await client.query(
        { action: "PING" },
        { timeoutMs: config.heartbeat.timeout_ms ?? config.heartbeat.interval_ms, retries: 0 },
      );
      if (reply.status !== "OK") throw new GatewayRefused("PING", reply);
      const name = (reply as PingReply).client;
      if (name !== undefined) risk.exposure.clientName = name;
      options.onPing?.((clock.monotonic() - started) / 1000);
      serverOffsetMs = (reply as PingReply).mt5?.server_offset_ms ?? serverOffsetMs;
      return { ...(reply as PingReply), serverTime: (reply as PingReply).server_time };
    },
  });
  const breaker = new CircuitBreaker({ clock, logger: log.child("breaker"), heartbeat });
  const tradingState = new TradingStateHolder({
    clock,
    logger: log.child("state"),
    initial: remembered?.tradingState?.state ?? config.trading_state,
    ...(remembered?.tradingState === undefined
      ? {}
      : { initialReason: remembered.tradingState.reason }),
    ...(remembered?.tradingState?.hold === undefined
      ? {}
      : { initialHold: remembered.tradingState.hold }),
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
    ? liveStream(options, client, log.child("stream"), {
        clockOffsetMs: () => heartbeat.clockOffsetMs,
        serverOffsetMs: () => serverOffsetMs,
      })
    : undefined;
  // The last failure since the session was up: health turns it into a cause and a fix
  let failure: Failure | undefined;
  client.onStatus((status) => {
    if (status.type === "connected") failure = undefined;
    else if (status.type !== "disconnected") failure = status;
  });
  return {
    name: entry.name,
    client,
    risk,
    heartbeat,
    breaker,
    tradingState,
    clockOffsetMs: () => heartbeat.clockOffsetMs,
    connectionFailure: () => failure,
    ...(stream === undefined ? {} : { stream, live: stream.view }),
  };
}

function liveStream(
  options: LaneOptions,
  client: GatewayClient,
  logger: Logger,
  offsets: Pick<BarWatchOptions, "clockOffsetMs" | "serverOffsetMs">,
) {
  const { config, clock } = options;
  const view = new LiveView(() => clock.monotonic(), {
    accountMaxAgeMs: config.stream.account_max_age_ms,
    symbolInfoMaxAgeMs: config.stream.symbol_info_max_age_ms,
    quoteIdleMs: config.stream.quote_idle_ms,
  });
  const feed = new LaneFeed(options.entry.name, options.epoch);
  const sync = new LaneStream({
    client,
    view,
    feed,
    riskSymbols: config.risk.allowed_symbols,
    clock,
    logger,
  });
  const bars = new BarWatcher({
    feed,
    clock,
    logger: logger.child("bars"),
    readBars: gatewayBars((body) => client.query(body)),
    ...offsets,
    connected: () => client.connected,
    acquireQuotes: (symbols) => sync.acquire(symbols),
    releaseQuotes: (symbols) => sync.release(symbols),
  });
  feed.observeQuotes((quote) => bars.quote(quote.symbol, quote.time));
  client.onStatus((status) => {
    if (status.type === "connected") bars.connected();
  });
  return { sync, view, feed, bars };
}
