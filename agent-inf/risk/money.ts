/**
 * Price, volume and money arithmetic for risk checks (mt5-bridges §4.1, §4.2), all in floating
 * point with explicit tolerances: 0.07 / 0.01 is 7.000000000000001 and 1.1 − 1.0999 is not
 * 0.0001, and a limit check must not flip on that noise. Pure functions, no state.
 */
import type { Side, SymbolInfo } from "../../shared/protocol/index.ts";

/** Relative slack for "at or below a limit": exactly at the limit passes despite FP noise. */
const RELATIVE_TOLERANCE = 1e-9;
/** Slack, in steps or points, when asking whether a value sits on a grid. */
const GRID_TOLERANCE = 1e-6;

/** True when `value` is above `limit` by more than floating-point noise. */
export function exceeds(value: number, limit: number): boolean {
  return value > limit + Math.abs(limit) * RELATIVE_TOLERANCE;
}

/** True when `value` is below `limit` by more than floating-point noise. */
export function fallsShort(value: number, limit: number): boolean {
  return value < limit - Math.abs(limit) * RELATIVE_TOLERANCE;
}

/** Whether `volume` is a whole number of `step`s: the gateway's rule (one home, shared/protocol). */
export { isOnVolumeStep as isOnStep } from "../../shared/protocol/index.ts";

/**
 * `volume` rounded down to the step grid. A value a hair under a grid point (0.29999999999999993)
 * counts as on it; the result is cleaned to 10 decimals so it compares equal to the literal.
 */
export function floorToStep(volume: number, step: number): number {
  return gridValue(Math.floor(volume / step + GRID_TOLERANCE), step);
}

/**
 * `volume` moved to the nearest grid point. For a volume isOnStep accepted this only strips FP
 * noise (0.1 + 0.2 → 0.3), so what goes on the wire is the clean decimal the gateway expects.
 */
export function snapToStep(volume: number, step: number): number {
  return gridValue(Math.round(volume / step), step);
}

function gridValue(steps: number, step: number): number {
  return Number((steps * step).toFixed(10));
}

/** The price a new position opens at: BUY at the ask, SELL at the bid. */
export function entryPrice(symbol: SymbolInfo, side: Side): number {
  return side === "BUY" ? symbol.ask : symbol.bid;
}

/** The price a position closes at, which its SL and TP trigger on: BUY at the bid, SELL at the ask. */
export function closePrice(symbol: SymbolInfo, side: Side): number {
  return side === "BUY" ? symbol.bid : symbol.ask;
}

/** Current spread in points, from the quote itself rather than the reported `spread` field. */
export function spreadPoints(symbol: SymbolInfo): number {
  return Math.round((symbol.ask - symbol.bid) / symbol.point);
}

/**
 * Notional value of `lots` at `price`, in the deposit currency.
 *
 * tick_value is the deposit-currency P/L of one tick for one lot at the current rate, so
 * tick_value / tick_size = contract_size × (profit currency → deposit currency rate). The
 * notional, contract_size × lots × price in the profit currency, is therefore
 * `lots × price × tick_value / tick_size` in the deposit currency, with the conversion already
 * done by MT5. Checked: EURUSD on a USD account (tick 0.00001 / 1.0 USD) gives 110,000 USD for one
 * lot at 1.1; USDJPY (tick 0.001 / 0.6667 USD at 150) gives 100,000 USD for one lot at 150.
 * Valid for Forex and CFD calc modes; the conversion is only as fresh as the snapshot's tick_value.
 */
export function notionalInDeposit(symbol: SymbolInfo, lots: number, price: number): number {
  return (lots * price * symbol.tick_value) / symbol.tick_size;
}

/** Deposit-currency loss for one lot between `from` and `stop`: |Δprice| / tick_size × tick_value. */
export function lossPerLot(symbol: SymbolInfo, from: number, stop: number): number {
  return (Math.abs(from - stop) / symbol.tick_size) * symbol.tick_value;
}

export type StopKind = "SL" | "TP";

export type StopProblem =
  | { readonly problem: "WRONG_SIDE"; readonly reference: number }
  | {
      readonly problem: "TOO_CLOSE";
      readonly reference: number;
      readonly distancePoints: number;
      readonly stopsLevel: number;
    };

/**
 * Checks a stop-loss or take-profit price against the stops-level rule (mt5-bridges §4.1): with
 * d = stops_level × point, BUY needs SL ≤ bid − d and TP ≥ bid + d; SELL needs SL ≥ ask + d and
 * TP ≤ ask − d. A stop on (or through) the closing price is on the wrong side; one on the right
 * side but nearer than d is too close. Exactly d away passes.
 */
export function stopProblem(
  symbol: SymbolInfo,
  side: Side,
  kind: StopKind,
  price: number,
): StopProblem | undefined {
  const reference = closePrice(symbol, side);
  const below = (kind === "SL") === (side === "BUY");
  const distancePoints = (below ? reference - price : price - reference) / symbol.point;
  if (distancePoints < GRID_TOLERANCE) return { problem: "WRONG_SIDE", reference };
  if (distancePoints < symbol.stops_level - GRID_TOLERANCE) {
    return { problem: "TOO_CLOSE", reference, distancePoints, stopsLevel: symbol.stops_level };
  }
  return undefined;
}
