/**
 * Check tables for CLOSE and MODIFY, which act on an existing position. Same rules as checks.ts:
 * pure functions, fixed order, first denial wins.
 *
 * CLOSE: intent shape → trading state (HALTED refuses; REDUCING and the breaker allow closes) →
 * position exists → close volume (what is left after the closes in flight). No quote, spread, rate or loss checks: taking risk off must not
 * be blocked by the conditions that make taking it on dangerous.
 *
 * MODIFY: intent shape → trading state (HALTED refuses; REDUCING refuses a modify that removes or
 * loosens the SL) → position exists → symbol known → symbol info and quote usable → SL not removed
 * when required → SL/TP placement → money at risk, only when the SL is loosened (a tightened SL
 * must never be refused for leaving "too much" risk).
 */
import type {
  AccountInfo,
  Position,
  SymbolInfo,
  TradingState,
} from "../../shared/protocol/index.ts";
import {
  type Check,
  checkQuote,
  checkSymbolInfo,
  isPrice,
  riskDenial,
  stopPlacementDenial,
} from "./checks.ts";
import { DenialCode, deny } from "./denial.ts";
import { closePrice, exceeds, fallsShort, isOnStep } from "./money.ts";
import type { CloseIntent, ModifyIntent, RiskLimits } from "./types.ts";

/** The trading state as every check table sees it. */
export interface StateContext {
  readonly tradingState: TradingState;
  readonly tradingStateReason: string;
}

interface PositionGateContext extends StateContext {
  readonly limits: RiskLimits;
  /** The position with the intent's ticket, if the snapshot has it. */
  readonly position: Position | undefined;
  readonly symbol: SymbolInfo | undefined;
}

export interface CloseRiskContext extends PositionGateContext {
  readonly intent: CloseIntent;
  /**
   * Lots of this position that other closes in flight (or not yet in the snapshot) take off
   * (exposure-ledger.ts): two partial closes must not both pass against volume only one has.
   */
  readonly closing: number;
}

export interface ModifyGateContext extends PositionGateContext {
  readonly intent: ModifyIntent;
}

export interface ModifyRiskContext extends ModifyGateContext {
  readonly position: Position;
  readonly symbol: SymbolInfo;
  readonly account: AccountInfo;
}

export const invalid = (field: string, problem: string) =>
  deny(DenialCode.INVALID_INTENT, `${field} ${problem}`, { field });

export const isTicket = (ticket: number) => Number.isSafeInteger(ticket) && ticket > 0;

export const haltedDenial = (ctx: StateContext) =>
  ctx.tradingState === "HALTED"
    ? deny(DenialCode.TRADING_HALTED, "trading is halted", {
        state: ctx.tradingState,
        reason: ctx.tradingStateReason,
      })
    : undefined;

/**
 * Whether moving the position's SL to `sl` adds risk: removing an SL, or moving it further from
 * the price (down for a BUY, up for a SELL). Setting a first SL and leaving it alone do not.
 */
export function loosensStopLoss(position: Position, sl: number | null | undefined): boolean {
  if (sl === undefined || position.sl === null) return false;
  if (sl === null) return true;
  return position.side === "BUY" ? sl < position.sl : sl > position.sl;
}

export const checkPositionFound: Check<CloseRiskContext | ModifyGateContext> = ({
  intent,
  position,
}) =>
  position === undefined
    ? deny(DenialCode.POSITION_NOT_FOUND, "no open position with this ticket", {
        ticket: intent.ticket,
      })
    : undefined;

// ---------------------------------------------------------------------------------------------
// CLOSE

export const checkCloseIntent: Check<CloseRiskContext> = ({ intent }) => {
  if (!isTicket(intent.ticket)) return invalid("ticket", "must be a positive integer");
  const volume = intent.volume;
  if (volume !== undefined && !(Number.isFinite(volume) && volume > 0)) {
    return invalid("volume", "must be a positive number");
  }
  return undefined;
};

export const checkCloseTradingState: Check<CloseRiskContext> = haltedDenial;

/**
 * At most what is left of the position after the closes in flight; on the step grid and
 * ≥ volume_min when the symbol is known. A whole close takes whatever is left, so it passes
 * while anything is left, and nothing passes after it.
 */
export const checkCloseVolume: Check<CloseRiskContext> = ({
  intent,
  position,
  symbol,
  closing,
}) => {
  if (position === undefined) return undefined;
  const volume = intent.volume ?? position.volume - closing;
  const refuse = (problem: string, extra: Record<string, number>) =>
    deny(DenialCode.INVALID_CLOSE_VOLUME, `close volume ${problem}`, {
      ticket: position.ticket,
      volume,
      ...extra,
    });
  if (closing > 0 && !exceeds(position.volume, closing))
    return refuse("is more than is left: the whole position is being closed already", {
      position_volume: position.volume,
      closing_in_flight: closing,
    });
  if (intent.volume === undefined) return undefined;
  if (exceeds(volume + closing, position.volume)) {
    return closing > 0
      ? refuse("is above what is left of the position after the closes in flight", {
          position_volume: position.volume,
          closing_in_flight: closing,
        })
      : refuse("is above the position volume", { position_volume: position.volume });
  }
  if (symbol === undefined || symbol.symbol !== position.symbol) return undefined;
  if (!isOnStep(volume, symbol.volume_step)) {
    return refuse("is not a multiple of the volume step", { volume_step: symbol.volume_step });
  }
  if (fallsShort(volume, symbol.volume_min)) {
    return refuse("is below the symbol minimum", { volume_min: symbol.volume_min });
  }
  return undefined;
};

export const CLOSE_CHECKS: readonly Check<CloseRiskContext>[] = [
  checkCloseIntent,
  checkCloseTradingState,
  checkPositionFound,
  checkCloseVolume,
];

// ---------------------------------------------------------------------------------------------
// MODIFY

export const checkModifyIntent: Check<ModifyGateContext> = ({ intent }) => {
  if (!isTicket(intent.ticket)) return invalid("ticket", "must be a positive integer");
  if (!isPrice(intent.sl)) return invalid("sl", "must be a positive price or null");
  if (!isPrice(intent.tp)) return invalid("tp", "must be a positive price or null");
  return undefined;
};

export const checkModifyTradingState: Check<ModifyGateContext> = (ctx) => {
  const halted = haltedDenial(ctx);
  if (halted !== undefined) return halted;
  if (
    ctx.tradingState === "REDUCING" &&
    ctx.position !== undefined &&
    loosensStopLoss(ctx.position, ctx.intent.sl)
  ) {
    return deny(DenialCode.REDUCING_ONLY, "only modifies that do not add risk are allowed", {
      state: ctx.tradingState,
      reason: ctx.tradingStateReason,
      ticket: ctx.position.ticket,
    });
  }
  return undefined;
};

export const checkModifySymbolKnown: Check<ModifyGateContext> = ({ position, symbol }) =>
  position === undefined || (symbol !== undefined && symbol.symbol === position.symbol)
    ? undefined
    : deny(DenialCode.UNKNOWN_SYMBOL, "no symbol info for the position's symbol", {
        symbol: position.symbol,
      });

export const MODIFY_GATE_CHECKS: readonly Check<ModifyGateContext>[] = [
  checkModifyIntent,
  checkModifyTradingState,
  checkPositionFound,
  checkModifySymbolKnown,
];

export const checkModifyStopLossRequired: Check<ModifyRiskContext> = ({ intent, limits }) =>
  limits.requireStopLoss && intent.sl === null
    ? deny(DenialCode.SL_REQUIRED, "a stop-loss is required and cannot be removed", {
        ticket: intent.ticket,
      })
    : undefined;

export const checkModifyStopLossPlacement: Check<ModifyRiskContext> = (ctx) =>
  stopPlacementDenial(ctx.symbol, ctx.position.side, "SL", ctx.intent.sl);

export const checkModifyTakeProfitPlacement: Check<ModifyRiskContext> = (ctx) =>
  stopPlacementDenial(ctx.symbol, ctx.position.side, "TP", ctx.intent.tp);

/** Risk from the current closing price to the new SL, for a loosened SL only. */
export const checkModifyRisk: Check<ModifyRiskContext> = ({
  intent,
  position,
  symbol,
  account,
  limits,
}) => {
  const sl = intent.sl;
  if (sl === undefined || sl === null || !loosensStopLoss(position, sl)) return undefined;
  const from = closePrice(symbol, position.side);
  return riskDenial(limits, symbol, account.equity, from, sl, position.volume);
};

export const MODIFY_ORDER_CHECKS: readonly Check<ModifyRiskContext>[] = [
  checkSymbolInfo,
  checkQuote,
  checkModifyStopLossRequired,
  checkModifyStopLossPlacement,
  checkModifyTakeProfitPlacement,
  checkModifyRisk,
];
