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
const HOUR_MS = 3_600_000;
/** 1970-01-01 was a Thursday. */
const EPOCH_WEEKDAY = 4;

export function isSessionOpen(
  schedule: SessionSchedule,
  session: SymbolSession,
  timeMs: number,
): boolean {
  if (schedule === "always" || session === "24x7") return true;
  // Arithmetic rather than a Date: history generation asks this for every hour it covers
  const hours = Math.floor(timeMs / HOUR_MS);
  const hour = ((hours % 24) + 24) % 24;
  const day = (((Math.floor(hours / 24) + EPOCH_WEEKDAY) % 7) + 7) % 7;
  if (day === SATURDAY) return false;
  if (day === FRIDAY) return hour < WEEKLY_BOUNDARY_HOUR_UTC;
  if (day === SUNDAY) return hour >= WEEKLY_BOUNDARY_HOUR_UTC;
  return true;
}
