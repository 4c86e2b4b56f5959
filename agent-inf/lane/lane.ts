/**
 * A lane is everything agent-inf runs for one gateway (one MT5 account): the connection, the
 * risk monitor for that account, its breaker and, with the stream on, its live view. These are
 * the parts the order path sees.
 */
import { AgentError, FaultCode } from "../../shared/errors.ts";
import type { GatewayClient } from "../gateway/gateway-client.ts";
import type { LiveMarket } from "../live-view/live-view.ts";
import type { RiskMonitor } from "../risk/risk-monitor.ts";

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
