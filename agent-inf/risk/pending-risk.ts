/**
 * The risk monitor's decisions on existing pending orders and on close-by (issue 15 §4):
 * MODIFY_ORDER, CANCEL and CLOSE_BY, against one market snapshot, by the tables in
 * pending-checks.ts. PLACE is decided with OPEN's machinery in risk-monitor.ts.
 *
 * The monitor hands these functions a RiskKit: its limits, its exposure ledger, the trading
 * state, and `judge`, which feeds the snapshot's equity to the loss limits around the checks and
 * logs the verdict, as for every other action. No I/O, no clock.
 */
import type { Position, TradeOrder } from "../../shared/protocol/index.ts";
import { firstDenial } from "./checks.ts";
import type { Denial } from "./denial.ts";
import type { ExposureLedger, Reservation, SnapshotRead } from "./exposure-ledger.ts";
import { snapToStep } from "./money.ts";
import {
  CANCEL_CHECKS,
  CLOSE_BY_CHECKS,
  MODIFY_ORDER_GATE_CHECKS,
  MODIFY_ORDER_TERMS_CHECKS,
  modifiedTerms,
} from "./pending-checks.ts";
import type { StateContext } from "./position-checks.ts";
import type {
  CancelIntent,
  CloseByIntent,
  MarketSnapshot,
  ModifyOrderIntent,
  RiskLimits,
} from "./types.ts";

export type PendingRefusal = { readonly ok: false; readonly denial: Denial };

export type PendingDecision = { readonly ok: true } | PendingRefusal;

/** `volume`: the lots the close-by covers (the smaller position's, after closes in flight). */
export type CloseByDecision =
  | { readonly ok: true; readonly volume: number; readonly reservation: Reservation }
  | PendingRefusal;

export interface RiskKit {
  readonly limits: RiskLimits;
  readonly exposure: ExposureLedger;
  state(): StateContext;
  /**
   * Feed `market`'s equity to the loss limits, run `checks`, escalate the state for a breached
   * limit, and log: [RISK_DENY] with the denial, or [RISK_PASS] with `passed`.
   */
  judge(
    action: string,
    clientOrderId: string | undefined,
    market: MarketSnapshot,
    checks: () => Denial | undefined,
    passed: Readonly<Record<string, unknown>>,
  ): Denial | undefined;
}

export function findOrder(
  orders: readonly TradeOrder[] | undefined,
  ticket: number,
): TradeOrder | undefined {
  return orders?.find((order) => order.ticket === ticket);
}

function findPosition(positions: readonly Position[], ticket: number): Position | undefined {
  return positions.find((position) => position.ticket === ticket);
}

const verdict = (denial: Denial | undefined): PendingDecision =>
  denial === undefined ? { ok: true } : { ok: false, denial };

/** The order's terms after the change, checked as a placement at the new price would be. */
export function decideModifyOrder(
  kit: RiskKit,
  intent: ModifyOrderIntent,
  market: MarketSnapshot,
): PendingDecision {
  const order = findOrder(market.orders, intent.ticket);
  const { symbol, account } = market;
  return verdict(
    kit.judge(
      "MODIFY_ORDER",
      intent.clientOrderId,
      market,
      () => {
        const gate = { ...kit.state(), intent, limits: kit.limits, order, symbol };
        const denial = firstDenial(MODIFY_ORDER_GATE_CHECKS, gate);
        if (denial !== undefined || order === undefined || symbol === undefined) return denial;
        const terms = modifiedTerms(order, intent);
        return firstDenial(MODIFY_ORDER_TERMS_CHECKS, {
          intent: terms,
          limits: kit.limits,
          symbol,
          account,
          volume: order.volume_current,
          entry: terms.entry,
          atMarket: false,
        });
      },
      { ticket: intent.ticket, price: intent.price, sl: intent.sl, tp: intent.tp },
    ),
  );
}

export function decideCancel(
  kit: RiskKit,
  intent: CancelIntent,
  market: MarketSnapshot,
): PendingDecision {
  const order = findOrder(market.orders, intent.ticket);
  return verdict(
    kit.judge(
      "CANCEL",
      intent.clientOrderId,
      market,
      () => firstDenial(CANCEL_CHECKS, { ...kit.state(), intent, order }),
      { ticket: intent.ticket, operator: intent.operator === true },
    ),
  );
}

/** A pass reserves the covered volume on both positions until it is settled. */
export function decideCloseBy(
  kit: RiskKit,
  intent: CloseByIntent,
  market: MarketSnapshot,
  read?: SnapshotRead,
): CloseByDecision {
  const position = findPosition(market.positions, intent.ticket);
  const positionBy = findPosition(market.positions, intent.ticketBy);
  const closing = kit.exposure.closing(intent.ticket, read);
  const closingBy = kit.exposure.closing(intent.ticketBy, read);
  const covered = () => {
    // The checks passed: both are there with volume left
    const volume = Math.min(position!.volume - closing, positionBy!.volume - closingBy);
    const symbol = market.symbol;
    return symbol !== undefined && symbol.symbol === position!.symbol
      ? snapToStep(volume, symbol.volume_step)
      : volume;
  };
  const denial = kit.judge(
    "CLOSE_BY",
    intent.clientOrderId,
    market,
    () =>
      firstDenial(CLOSE_BY_CHECKS, {
        ...kit.state(),
        intent,
        position,
        positionBy,
        closing,
        closingBy,
      }),
    { ticket: intent.ticket, ticket_by: intent.ticketBy },
  );
  if (denial !== undefined) return { ok: false, denial };
  const volume = covered();
  const reservation = kit.exposure.reserve({
    kind: "CLOSE_BY",
    clientOrderId: intent.clientOrderId,
    ticket: intent.ticket,
    ticketBy: intent.ticketBy,
    volume,
  });
  return { ok: true, volume, reservation };
}
