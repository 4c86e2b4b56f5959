/**
 * A lane is everything agent-inf runs for one gateway (one MT5 account): the connection, the
 * heartbeat and circuit breaker, the trading state, the risk monitor for that account and, with
 * the stream on, its live view. GatewayLane is the part the order path sees; create-lane.ts
 * builds them, lanes.ts holds them.
 */
import { AgentError, FaultCode } from "../../shared/errors.ts";
import type { PingReply } from "../../shared/protocol/index.ts";
import type { TradingStateHolder } from "../../shared/trading-state.ts";
import type { Failure } from "../gateway/failure-cause.ts";
import type { GatewayClient } from "../gateway/gateway-client.ts";
import type { BarWatcher } from "../live-view/bars.ts";
import type { LaneFeed } from "../live-view/feed.ts";
import type { LiveMarket, LiveView } from "../live-view/live-view.ts";
import type { LaneStream } from "../live-view/sync.ts";
import type { RiskMonitor } from "../risk/risk-monitor.ts";
import type { CircuitBreaker } from "./breaker.ts";
import type { HeartbeatMonitor } from "./heartbeat.ts";

/** One gateway (one MT5 account): its connection and the risk monitor for that account. */
export interface GatewayLane {
  readonly client: GatewayClient;
  readonly risk: RiskMonitor;
  /** Gateway clock minus ours, for quote ages (HeartbeatMonitor.clockOffsetMs). */
  clockOffsetMs(): number | undefined;
  /** The lane's circuit breaker: while engaged, an OPEN is refused before any gateway query. */
  readonly breaker?: { readonly engaged: boolean };
  /** The live view (event stream): what is fresh there is not asked again per order. */
  readonly live?: LiveMarket;
}

export type PingResult = PingReply & { readonly serverTime: number };

/** Everything agent-inf runs for one gateway. */
export interface Lane extends GatewayLane {
  readonly name: string;
  readonly heartbeat: HeartbeatMonitor<PingResult>;
  readonly breaker: CircuitBreaker;
  readonly tradingState: TradingStateHolder;
  /** The last connection failure since the session was last up (health names its cause). */
  readonly connectionFailure?: () => Failure | undefined;
  /** The event stream of this gateway, when `stream.enabled`. */
  readonly stream?: {
    readonly sync: LaneStream;
    readonly view: LiveView;
    readonly feed: LaneFeed;
    /** Closed bars for the streams that ask for them. */
    readonly bars: BarWatcher;
  };
}

/** The configured gateways, by name, with the default. */
export interface GatewayRegistry {
  get(name?: string): GatewayLane | undefined;
  readonly names: readonly string[];
  readonly defaultName: string;
}

/** A gateway name that is not in the config: the caller's mistake (API 404, CLI exit 2). */
export class UnknownGatewayError extends AgentError {
  constructor(name: string | undefined, known: Iterable<string>) {
    super(
      FaultCode.USAGE,
      `unknown gateway ${JSON.stringify(name ?? "")}; configured: ${[...known].join(", ")}`,
    );
    this.name = "UnknownGatewayError";
  }
}
