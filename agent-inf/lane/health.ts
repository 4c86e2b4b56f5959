/**
 * What /v1/health and `agent-inf status` report: per lane the connection, heartbeat, breaker,
 * trading state, the gateway's own view from its last PING, and the stream; and the problems
 * that make orders fail now or soon (issue 18: "ok" with the clock 5 s off, a gateway name that
 * does not match, or the gateway down was a lie). Overall: failed when any order would fail,
 * degraded when something is close to it, ok otherwise. Also the crypto backend the agent runs.
 */
import type { CryptoBackendInfo } from "../../shared/curve/box.ts";
import type { TradingState } from "../../shared/protocol/index.ts";
import { failureCause } from "../gateway/failure-cause.ts";
import type { StreamHealth } from "../live-view/sync.ts";
import { gatewayWindow, judgeClockOffset } from "./clock-check.ts";
import type { HeartbeatStatus, LatencyStats } from "./heartbeat.ts";
import type { Lane } from "./lane.ts";

/** Something that makes orders fail (`fail`) or will soon (`warn`), with what to do. */
export interface Problem {
  readonly level: "fail" | "warn";
  readonly code:
    | "NOT_CONNECTED"
    | "HEARTBEAT_FAILED"
    | "HEARTBEAT_DEGRADED"
    | "BREAKER_ENGAGED"
    | "WRONG_GATEWAY_NAME"
    | "CLOCK_OFFSET"
    | "MT5_LINK_DOWN";
  readonly message: string;
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
  /** The name the gateway gave in its last PING; orders are signed for `gateway`. */
  readonly gateway_name?: string;
  /** Why the connection is not up, when it failed (cause and what to do). */
  readonly connection_failure?: { readonly cause: string; readonly hint: string };
  /** What makes orders fail now (fail) or soon (warn); empty when the lane is fine. */
  readonly problems: readonly Problem[];
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
  const connected = lane.client.connected;
  // The gateway's view is only as good as the last PING: stale once the session is gone
  const last =
    connected && lane.heartbeat.status !== "FAILED" ? lane.heartbeat.lastResult : undefined;
  const latency = lane.heartbeat.latency();
  const offset = lane.heartbeat.clockOffsetMs;
  const failure = connected ? undefined : lane.connectionFailure?.();
  const cause = failure === undefined ? undefined : failureCause(failure, lane.client.endpoint);
  const problems: Problem[] = [];
  const problem = (level: Problem["level"], code: Problem["code"], message: string) =>
    problems.push({ level, code, message });
  if (!connected)
    problem("fail", "NOT_CONNECTED", cause?.hint ?? `not connected to ${lane.client.endpoint}`);
  else if (lane.heartbeat.status === "FAILED")
    problem("fail", "HEARTBEAT_FAILED", "the gateway does not answer PINGs");
  else if (lane.heartbeat.status === "DEGRADED")
    problem("warn", "HEARTBEAT_DEGRADED", "some PINGs to the gateway went unanswered");
  if (lane.breaker.engaged)
    problem(
      "fail",
      "BREAKER_ENGAGED",
      `the circuit breaker refuses new positions: ${lane.breaker.reason ?? ""}`,
    );
  if (last !== undefined && last.gateway !== lane.name)
    problem(
      "fail",
      "WRONG_GATEWAY_NAME",
      `the gateway at ${lane.client.endpoint} is named ${JSON.stringify(last.gateway)}, but this config calls it ${JSON.stringify(lane.name)}: every order would be refused WRONG_GATEWAY; set gateways[].name to ${JSON.stringify(last.gateway)}`,
    );
  if (offset !== undefined && connected) {
    const verdict = judgeClockOffset(offset, gatewayWindow(lane.heartbeat.lastResult));
    if (verdict.level !== "ok") problem(verdict.level, "CLOCK_OFFSET", verdict.message);
  }
  if (last !== undefined && last.mt5.link !== "UP")
    problem(
      "fail",
      "MT5_LINK_DOWN",
      `the gateway cannot trade on MT5: link ${last.mt5.link}${last.mt5.detail === undefined ? "" : ` (${last.mt5.detail})`}`,
    );
  return {
    gateway: lane.name,
    endpoint: lane.client.endpoint,
    connected,
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
          gateway_name: last.gateway,
          gateway_trading_state: last.trading_state,
          mt5_link: last.mt5.link,
          ...(last.mt5.detail === undefined ? {} : { mt5_detail: last.mt5.detail }),
        }),
    ...(lane.stream === undefined ? {} : { stream: lane.stream.sync.health() }),
    ...(cause === undefined ? {} : { connection_failure: cause }),
    problems,
  };
}

/** failed: some lane has a problem that fails orders; degraded: one close to it, or no PING yet. */
export function agentHealth(
  lanes: Iterable<Lane>,
  version: string,
  agent: string,
  crypto: CryptoBackendInfo,
): Health {
  const gateways = [...lanes].map(laneHealth);
  const failed = gateways.some((lane) => lane.problems.some((p) => p.level === "fail"));
  const degraded = gateways.some(
    (lane) => lane.problems.length > 0 || lane.heartbeat !== "HEALTHY" || lane.mt5_link !== "UP",
  );
  return {
    status: failed ? "failed" : degraded ? "degraded" : "ok",
    version,
    agent,
    gateways,
    crypto,
  };
}
