/**
 * The gateway's last-line gate (DESIGN §6): hard limits re-checked just before MT5, whatever
 * agent-inf decided. Pure; the first failing check wins and comes back as a coded denial.
 */
import {
  ErrorCode,
  type LinkState,
  type SignedRequest,
  type TradingState,
} from "../../shared/protocol/index.ts";

export interface GateLimits {
  readonly symbols: ReadonlySet<string>;
  readonly maxVolume: number;
  readonly maxOpenPositions: number;
}

export interface GateContext {
  readonly tradingState: TradingState;
  readonly link: LinkState;
  /** Open positions at the broker plus OPENs already past the gate and still executing. */
  readonly openPositions: number;
}

export interface GateDenial {
  readonly code: ErrorCode;
  readonly message: string;
}

export function checkGate(
  request: SignedRequest,
  limits: GateLimits,
  context: GateContext,
): GateDenial | undefined {
  // The link first: with MT5 unreachable nothing can be sent, and saying so is more useful than
  // the HALTED state the link loss also causes.
  if (context.link !== "UP") {
    return {
      code: ErrorCode.MT5_LINK_DOWN,
      message: `MT5 link is ${context.link}; the order was not sent`,
    };
  }
  if (context.tradingState === "HALTED") {
    return { code: ErrorCode.TRADING_HALTED, message: "trading is HALTED at the gateway" };
  }
  if (request.action !== "OPEN") return undefined;
  if (context.tradingState === "REDUCING") {
    return {
      code: ErrorCode.REDUCING_ONLY,
      message: "trading is REDUCING at the gateway: only CLOSE and MODIFY pass",
    };
  }
  if (!limits.symbols.has(request.symbol)) {
    return {
      code: ErrorCode.SYMBOL_NOT_ALLOWED,
      message: `symbol ${request.symbol} is not on the gateway's allow-list`,
    };
  }
  if (request.volume > limits.maxVolume) {
    return {
      code: ErrorCode.VOLUME_ABOVE_MAX,
      message: `volume ${request.volume} is above the gateway's limit of ${limits.maxVolume} lots`,
    };
  }
  if (context.openPositions >= limits.maxOpenPositions) {
    return {
      code: ErrorCode.MAX_POSITIONS,
      message: `${context.openPositions} positions are open; the gateway's limit is ${limits.maxOpenPositions}`,
    };
  }
  return undefined;
}
