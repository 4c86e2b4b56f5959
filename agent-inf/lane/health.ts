/**
 * What /v1/health and `agent-inf status` report: per lane the connection, heartbeat, breaker,
 * trading state, the gateway's own view from its last PING, and the stream; overall the worst,
 * and the crypto backend the agent runs.
 */
import type { CryptoBackendInfo } from "../../shared/curve/box.ts";
import type { TradingState } from "../../shared/protocol/index.ts";
import type { StreamHealth } from "../live-view/sync.ts";
import type { HeartbeatStatus, LatencyStats } from "./heartbeat.ts";
import type { Lane } from "./lane.ts";

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
  /** The secretbox backend this agent runs (libsodium, or tweetnacl and why). */
  readonly crypto: CryptoBackendInfo;
}

export function laneHealth(lane: Lane): LaneHealth {
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
}

/** failed: a heartbeat FAILED or a breaker engaged; degraded: anything not fully up. */
export function agentHealth(
  lanes: Iterable<Lane>,
  version: string,
  agent: string,
  crypto: CryptoBackendInfo,
): Health {
  const gateways = [...lanes].map(laneHealth);
  const failed = gateways.some((lane) => lane.heartbeat === "FAILED" || lane.breaker.engaged);
  const degraded = gateways.some(
    (lane) => lane.heartbeat !== "HEALTHY" || !lane.connected || lane.mt5_link !== "UP",
  );
  return {
    status: failed ? "failed" : degraded ? "degraded" : "ok",
    version,
    agent,
    gateways,
    crypto,
  };
}
