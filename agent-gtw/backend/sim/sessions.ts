/**
 * Trading sessions. Forex and the CFDs quoted beside it trade from Sunday 22:00 UTC to Friday
 * 22:00 UTC; crypto trades around the clock. Outside its session a symbol gets no ticks, its last
 * quote goes stale, and trade requests get MARKET_CLOSED (10018), as on a real MT5 server.
 * Holidays and daily breaks are not modelled.
 */

/** The sim-wide schedule: "forex" applies each symbol's own session, "always" never closes. */
export type SessionSchedule = "forex" | "always";

/** A symbol's own session. */
export type SymbolSession = "forex" | "24x7";

const FRIDAY = 5;
const SATURDAY = 6;
const SUNDAY = 0;
const WEEKLY_BOUNDARY_HOUR_UTC = 22;

export function isSessionOpen(
  schedule: SessionSchedule,
  session: SymbolSession,
  timeMs: number,
): boolean {
  if (schedule === "always" || session === "24x7") return true;
  const date = new Date(timeMs);
  const day = date.getUTCDay();
  const hour = date.getUTCHours();
  if (day === SATURDAY) return false;
  if (day === FRIDAY) return hour < WEEKLY_BOUNDARY_HOUR_UTC;
  if (day === SUNDAY) return hour >= WEEKLY_BOUNDARY_HOUR_UTC;
  return true;
}

const DAY_MS = 86_400_000;

/**
 * The end of the sim's trading day that contains `timeMs`. The trading day rolls over at
 * 22:00 UTC, the New York close where the weekly session also starts and ends (so Friday's
 * trading day ends with the weekly close, and Sunday 22:00 opens Monday's). A DAY pending order
 * expires here, and a SPECIFIED_DAY one at the end of the trading day containing its expiration.
 */
export function tradingDayEnd(timeMs: number): number {
  const date = new Date(timeMs);
  const rollover = Date.UTC(
    date.getUTCFullYear(),
    date.getUTCMonth(),
    date.getUTCDate(),
    WEEKLY_BOUNDARY_HOUR_UTC,
  );
  return timeMs < rollover ? rollover : rollover + DAY_MS;
}
