/**
 * The gateway's last-line gate (DESIGN §6): hard limits re-checked just before MT5, whatever
 * agent-inf decided. Pure; the first failing check wins and comes back as a coded denial.
 *
 * A pending order is potential exposure: it counts against max_open_positions from placement
 * until it fills (then as its position), is cancelled or expires, and its volume against
 * max_volume. By trading state:
 *   ACTIVE    everything
 *   REDUCING  CLOSE, MODIFY (position stops), CANCEL, CLOSE_BY; no OPEN, PLACE or MODIFY_ORDER
 *   HALTED    nothing, except a CANCEL an operator asked for (`agent-gtw cancel`)
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
  /**
   * Positions and pending orders at the broker, plus OPENs and PLACEs already past the gate and
   * still executing: what could be open positions (counted for OPEN and PLACE only).
   */
  readonly openPositions: number;
  /** The request comes from the gateway's operator (`agent-gtw cancel`), not a client. */
  readonly operator?: boolean;
}

/** Actions that can add exposure: checked against the symbol list and the volume and count limits. */
export function addsExposure(action: SignedRequest["action"]): action is "OPEN" | "PLACE" {
  return action === "OPEN" || action === "PLACE";
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
    if (context.operator === true && request.action === "CANCEL") return undefined;
    return { code: ErrorCode.TRADING_HALTED, message: "trading is HALTED at the gateway" };
  }
  const reducing = context.tradingState === "REDUCING";
  if (reducing && (addsExposure(request.action) || request.action === "MODIFY_ORDER")) {
    return {
      code: ErrorCode.REDUCING_ONLY,
      message: `trading is REDUCING at the gateway: ${request.action} refused (CLOSE, MODIFY, CANCEL and CLOSE_BY pass)`,
    };
  }
  if (request.action !== "OPEN" && request.action !== "PLACE") return undefined;
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
      message: `${context.openPositions} positions and pending orders are open or in flight; the gateway's limit is ${limits.maxOpenPositions}`,
    };
  }
  return undefined;
}
