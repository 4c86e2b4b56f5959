/**
 * Check tables for pending orders (issue 15 §4), in the house order of checks.ts: pure functions,
 * fixed order, first denial wins.
 *
 * PLACE is an OPEN that waits for its price, and is checked as one (checks.ts), measured from the
 * price it would open a position at (its price, or its stop-limit price): intent shape → trading
 * state (REDUCING and HALTED refuse new pending orders) → breaker → symbol allowed and known →
 * symbol info and quote → Kelly sizing → volume → notional → SL required and placement (from the
 * order price, as MT5 measures it) → money at risk → positions (a pending order counts as the
 * position it may become) → rate → loss limits → session → trade mode. Not the spread cap nor
 * the quote age: the order does not execute at the quote it is placed on.
 *
 * MODIFY_ORDER re-checks the order's terms after the change (price, stop-limit price, SL, TP) as
 * a placement would; REDUCING and HALTED refuse it, as the gateway does. CANCEL only takes risk
 * off: it passes in REDUCING, and in HALTED when the operator asks. CLOSE_BY passes in REDUCING
 * (it only closes) and needs two opposite positions on one symbol with volume left.
 */
import {
  isStopLimit,
  orderSide,
  PENDING_ORDER_TYPES,
  type Position,
  type SymbolInfo,
  type TradeOrder,
} from "../../shared/protocol/index.ts";
import {
  type Check,
  checkNotional,
  checkOpenIntent,
  checkOpenTradingState,
  checkQuote,
  checkQuoteAge,
  checkRiskToStop,
  checkSpread,
  checkStopLossPlacement,
  checkStopLossRequired,
  checkSymbolInfo,
  checkTakeProfitPlacement,
  isPrice,
  OPEN_GATE_CHECKS,
  OPEN_ORDER_CHECKS,
  type OpenGateContext,
  type OpenRiskContext,
  type TermsContext,
} from "./checks.ts";
import { DenialCode, deny } from "./denial.ts";
import { exceeds } from "./money.ts";
import { haltedDenial, invalid, isTicket, type StateContext } from "./position-checks.ts";
import type {
  CancelIntent,
  CloseByIntent,
  ModifyOrderIntent,
  PlaceIntent,
  RiskLimits,
} from "./types.ts";

/** The price a pending order opens a position at: its stop-limit price, else its price. */
export function opensAt(order: { readonly price: number; readonly stoplimit?: number }): number {
  return order.stoplimit ?? order.price;
}

// ---------------------------------------------------------------------------------------------
// PLACE

export interface PlaceGateContext extends OpenGateContext {
  readonly intent: PlaceIntent;
}

export interface PlaceRiskContext extends OpenRiskContext {
  readonly intent: PlaceIntent;
}

const isPositive = (value: number | undefined) =>
  value === undefined || (Number.isFinite(value) && value > 0);

export const checkPlaceIntent: Check<PlaceGateContext> = ({ intent }) => {
  if (!(PENDING_ORDER_TYPES as readonly string[]).includes(intent.type))
    return invalid("type", `must be one of ${PENDING_ORDER_TYPES.join(", ")}`);
  if (intent.side !== orderSide(intent.type))
    return invalid("side", `must be ${orderSide(intent.type)} for a ${intent.type}`);
  if (!(Number.isFinite(intent.price) && intent.price > 0))
    return invalid("price", "must be a positive number");
  if (!isPositive(intent.stoplimit)) return invalid("stoplimit", "must be a positive number");
  if (isStopLimit(intent.type) !== (intent.stoplimit !== undefined))
    return invalid(
      "stoplimit",
      isStopLimit(intent.type)
        ? `is required for a ${intent.type}`
        : "is for stop-limit orders only",
    );
  return undefined;
};

/** REDUCING refuses new pending orders with its own words: cancels and closes still pass. */
export const checkPlaceTradingState: Check<PlaceGateContext> = (ctx) => {
  const denial = checkOpenTradingState(ctx);
  return denial?.code === DenialCode.REDUCING_ONLY
    ? deny(DenialCode.REDUCING_ONLY, "no new pending orders: only cancels and closes are allowed", {
        ...denial.context,
      })
    : denial;
};

export const PLACE_GATE_CHECKS: readonly Check<PlaceGateContext>[] = OPEN_GATE_CHECKS.flatMap(
  (check) =>
    check === checkOpenIntent
      ? [checkOpenIntent, checkPlaceIntent]
      : check === checkOpenTradingState
        ? [checkPlaceTradingState]
        : [check],
);

/** OPEN's order checks but the spread and quote age: a pending order does not fill at the quote. */
export const PLACE_ORDER_CHECKS: readonly Check<PlaceRiskContext>[] = OPEN_ORDER_CHECKS.filter(
  (check) => check !== checkSpread && check !== checkQuoteAge,
);

// ---------------------------------------------------------------------------------------------
// MODIFY_ORDER

export interface ModifyOrderGateContext extends StateContext {
  readonly intent: ModifyOrderIntent;
  readonly limits: RiskLimits;
  /** The order with the intent's ticket, if the snapshot has it. */
  readonly order: TradeOrder | undefined;
  readonly symbol: SymbolInfo | undefined;
}

export const checkModifyOrderIntent: Check<ModifyOrderGateContext> = ({ intent }) => {
  if (!isTicket(intent.ticket)) return invalid("ticket", "must be a positive integer");
  if (!isPositive(intent.price)) return invalid("price", "must be a positive number");
  if (!isPositive(intent.stoplimit)) return invalid("stoplimit", "must be a positive number");
  if (!isPrice(intent.sl)) return invalid("sl", "must be a positive price or null");
  if (!isPrice(intent.tp)) return invalid("tp", "must be a positive price or null");
  return undefined;
};

export const checkModifyOrderTradingState: Check<ModifyOrderGateContext> = (ctx) =>
  haltedDenial(ctx) ??
  (ctx.tradingState === "REDUCING"
    ? deny(DenialCode.REDUCING_ONLY, "pending orders can only be cancelled while REDUCING", {
        state: ctx.tradingState,
        reason: ctx.tradingStateReason,
      })
    : undefined);

export const checkOrderFound: Check<{
  readonly intent: { readonly ticket: number };
  readonly order: TradeOrder | undefined;
}> = ({ intent, order }) =>
  order === undefined
    ? deny(DenialCode.ORDER_NOT_FOUND, "no pending order with this ticket", {
        ticket: intent.ticket,
      })
    : undefined;

export const checkModifyOrderFits: Check<ModifyOrderGateContext> = ({ intent, order }) =>
  order !== undefined && intent.stoplimit !== undefined && !isStopLimit(order.type)
    ? invalid(
        "stoplimit",
        `is for stop-limit orders only; order ${order.ticket} is a ${order.type}`,
      )
    : undefined;

export const checkModifyOrderSymbol: Check<ModifyOrderGateContext> = ({
  order,
  symbol,
  limits,
}) => {
  if (order === undefined) return undefined;
  if (!limits.allowedSymbols.includes(order.symbol))
    return deny(DenialCode.SYMBOL_NOT_ALLOWED, "symbol is not on the allow-list", {
      symbol: order.symbol,
    });
  return symbol !== undefined && symbol.symbol === order.symbol
    ? undefined
    : deny(DenialCode.UNKNOWN_SYMBOL, "no symbol info for the order's symbol", {
        symbol: order.symbol,
      });
};

export const MODIFY_ORDER_GATE_CHECKS: readonly Check<ModifyOrderGateContext>[] = [
  checkModifyOrderIntent,
  checkModifyOrderTradingState,
  checkOrderFound,
  checkModifyOrderFits,
  checkModifyOrderSymbol,
];

/** The order's terms after the change, checked as a placement would be. */
export const MODIFY_ORDER_TERMS_CHECKS: readonly Check<TermsContext>[] = [
  checkSymbolInfo,
  checkQuote,
  checkNotional,
  checkStopLossRequired,
  checkStopLossPlacement,
  checkTakeProfitPlacement,
  checkRiskToStop,
];

/** The order as it would be after `intent`: its side, entry price and stops. */
export function modifiedTerms(
  order: TradeOrder,
  intent: ModifyOrderIntent,
): { readonly side: PlaceIntent["side"]; entry: number; sl: number | null; tp: number | null } {
  const price = intent.price ?? order.price_open;
  const stoplimit = intent.stoplimit ?? order.price_stoplimit ?? undefined;
  return {
    side: orderSide(order.type as PlaceIntent["type"]),
    entry: opensAt(stoplimit === undefined ? { price } : { price, stoplimit }),
    sl: intent.sl === undefined ? order.sl : intent.sl,
    tp: intent.tp === undefined ? order.tp : intent.tp,
  };
}

// ---------------------------------------------------------------------------------------------
// CANCEL

export interface CancelRiskContext extends StateContext {
  readonly intent: CancelIntent;
  readonly order: TradeOrder | undefined;
}

export const checkCancelIntent: Check<CancelRiskContext> = ({ intent }) =>
  isTicket(intent.ticket) ? undefined : invalid("ticket", "must be a positive integer");

/** HALTED cancels nothing by itself, and refuses the strategy's cancels; the operator's pass. */
export const checkCancelTradingState: Check<CancelRiskContext> = (ctx) =>
  ctx.intent.operator === true ? undefined : haltedDenial(ctx);

export const CANCEL_CHECKS: readonly Check<CancelRiskContext>[] = [
  checkCancelIntent,
  checkCancelTradingState,
  checkOrderFound,
];

// ---------------------------------------------------------------------------------------------
// CLOSE_BY

export interface CloseByRiskContext extends StateContext {
  readonly intent: CloseByIntent;
  readonly position: Position | undefined;
  readonly positionBy: Position | undefined;
  /** Lots of each that closes in flight take off (exposure-ledger.ts closing()). */
  readonly closing: number;
  readonly closingBy: number;
}

export const checkCloseByIntent: Check<CloseByRiskContext> = ({ intent }) => {
  if (!isTicket(intent.ticket)) return invalid("ticket", "must be a positive integer");
  if (!isTicket(intent.ticketBy)) return invalid("ticket_by", "must be a positive integer");
  return intent.ticket === intent.ticketBy
    ? invalid("ticket_by", "must be another position than ticket")
    : undefined;
};

export const checkCloseByFound: Check<CloseByRiskContext> = ({ intent, position, positionBy }) => {
  const missing =
    position === undefined ? intent.ticket : positionBy === undefined ? intent.ticketBy : 0;
  return missing === 0
    ? undefined
    : deny(DenialCode.POSITION_NOT_FOUND, "no open position with this ticket", {
        ticket: missing,
      });
};

export const checkCloseByPair: Check<CloseByRiskContext> = ({ position, positionBy }) => {
  if (position === undefined || positionBy === undefined) return undefined;
  if (position.symbol !== positionBy.symbol || position.side === positionBy.side)
    return deny(
      DenialCode.INVALID_CLOSE_BY,
      "close-by needs two opposite positions on the same symbol",
      {
        ticket: position.ticket,
        symbol: position.symbol,
        side: position.side,
        ticket_by: positionBy.ticket,
        symbol_by: positionBy.symbol,
        side_by: positionBy.side,
      },
    );
  return undefined;
};

/** Neither may be wholly taken already by closes in flight. */
export const checkCloseByVolume: Check<CloseByRiskContext> = (ctx) => {
  for (const [position, closing] of [
    [ctx.position, ctx.closing],
    [ctx.positionBy, ctx.closingBy],
  ] as const) {
    if (position === undefined || closing <= 0 || exceeds(position.volume, closing)) continue;
    return deny(
      DenialCode.INVALID_CLOSE_VOLUME,
      "the position is being closed in full already by closes in flight",
      { ticket: position.ticket, position_volume: position.volume, closing_in_flight: closing },
    );
  }
  return undefined;
};

export const CLOSE_BY_CHECKS: readonly Check<CloseByRiskContext>[] = [
  checkCloseByIntent,
  haltedDenial,
  checkCloseByFound,
  checkCloseByPair,
  checkCloseByVolume,
];
