/**
 * Trading sessions. Forex and the CFDs quoted beside it trade from Sunday 22:00 UTC to Friday
 * 22:00 UTC; crypto trades around the clock. Outside its session a symbol gets no ticks, its last
 * quote goes stale, and trade requests get MARKET_CLOSED (10018), as on a real MT5 server.
 * Holidays and daily breaks are not modelled.
 */

import { barOpenTime, DAY_MS } from "../../../shared/protocol/index.ts";

/** The sim-wide schedule: "forex" applies each symbol's own session, "always" never closes. */
export type SessionSchedule = "forex" | "always";

/** A symbol's own session. */
export type SymbolSession = "forex" | "24x7";

const HOUR_MS = 3_600_000;
/** The weekly close and open, and the daily rollover: 22:00 UTC, the New York close. */
const BOUNDARY_HOUR_UTC = 22;
/** Forex trades from Sunday 22:00 to Friday 22:00, in hours since Sunday 00:00 UTC. */
const WEEK_OPEN_HOUR = BOUNDARY_HOUR_UTC;
const WEEK_CLOSE_HOUR = 5 * 24 + BOUNDARY_HOUR_UTC;

export function isSessionOpen(
  schedule: SessionSchedule,
  session: SymbolSession,
  timeMs: number,
): boolean {
  if (schedule === "always" || session === "24x7") return true;
  // Arithmetic on the W1 bar grid rather than a Date: history generation asks for every hour
  const hourOfWeek = Math.floor((timeMs - barOpenTime("W1", timeMs)) / HOUR_MS);
  return hourOfWeek >= WEEK_OPEN_HOUR && hourOfWeek < WEEK_CLOSE_HOUR;
}

/**
 * The end of the sim's trading day that contains `timeMs`. The trading day rolls over at
 * 22:00 UTC, the New York close where the weekly session also starts and ends (so Friday's
 * trading day ends with the weekly close, and Sunday 22:00 opens Monday's). A DAY pending order
 * expires here, and a SPECIFIED_DAY one at the end of the trading day containing its expiration.
 */
export function tradingDayEnd(timeMs: number): number {
  const rollover = barOpenTime("D1", timeMs) + BOUNDARY_HOUR_UTC * HOUR_MS;
  return timeMs < rollover ? rollover : rollover + DAY_MS;
}
