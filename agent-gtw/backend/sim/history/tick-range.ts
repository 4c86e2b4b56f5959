/**
 * Tick ranges of one symbol (copy_ticks_from / copy_ticks_range), minute by minute from the
 * generator, with the resume point a page needs: ticks can share a millisecond, so the next page
 * starts at the last tick's time and skips the ticks of that millisecond already sent.
 *
 * The sim quotes bid/ask only, like a forex or CFD server: every tick is an INFO tick and none
 * is a TRADE tick (no last price or volume), so a TRADE query is empty.
 */
import {
  INFO_FLAGS,
  type TickKind,
  type TickRow,
  TRADE_FLAGS,
} from "../../../../shared/protocol/index.ts";
import { MINUTE_MS, SIM_HISTORY_START } from "./path.ts";
import type { SymbolHistory } from "./symbol-history.ts";

/** Minutes one call may look at (two weeks; a closed hour counts as one). */
const SCAN_BUDGET = 20_160;

export interface TickResume {
  readonly from: number;
  /** Ticks at exactly `from` that were already sent. */
  readonly skip: number;
}

export interface TicksChunk {
  readonly rows: TickRow[];
  readonly next: TickResume | undefined;
}

export function tickRange(
  history: SymbolHistory,
  start: TickResume,
  to: number,
  kind: TickKind,
  limit: number,
  now: number,
): TicksChunk {
  const mask = kind === "INFO" ? INFO_FLAGS : kind === "TRADE" ? TRADE_FLAGS : -1;
  const end = Math.min(to, now);
  const rows: TickRow[] = [];
  if (kind === "TRADE") return { rows, next: undefined };
  let minute = Math.floor(Math.max(start.from, SIM_HISTORY_START) / MINUTE_MS);
  const lastMinute = Math.floor(end / MINUTE_MS);
  let skipLeft = start.skip;
  let budget = SCAN_BUDGET;
  while (minute <= lastMinute && budget > 0) {
    if (!history.hasTicks(minute)) {
      // A closed hour (without pins) is skipped whole
      const hourEnd = (Math.floor(minute / 60) + 1) * 60;
      minute = history.isActive(minute) ? minute + 1 : skipClosed(history, minute, hourEnd);
      budget -= 1;
      continue;
    }
    for (const tick of history.ticks(minute)) {
      const time = tick[0];
      if (time < start.from || time > end) continue;
      if (time === start.from && skipLeft > 0) {
        skipLeft -= 1;
        continue;
      }
      if (mask !== -1 && (tick[5] & mask) === 0) continue;
      rows.push(tick);
      if (rows.length === limit) return { rows, next: resumeAfter(rows, start) };
    }
    minute += 1;
    budget -= 1;
  }
  return { rows, next: minute <= lastMinute ? { from: minute * MINUTE_MS, skip: 0 } : undefined };
}

/** Past the last tick sent: its time, and how many ticks of that millisecond were sent in all. */
function resumeAfter(rows: readonly TickRow[], start: TickResume): TickResume {
  const time = (rows[rows.length - 1] as TickRow)[0];
  let sent = time === start.from ? start.skip : 0;
  for (let index = rows.length - 1; index >= 0 && (rows[index] as TickRow)[0] === time; index--) {
    sent += 1;
  }
  return { from: time, skip: sent };
}

/** The first minute at or after `minute` that may hold ticks, within its hour. */
function skipClosed(history: SymbolHistory, minute: number, hourEnd: number): number {
  for (let next = minute + 1; next < hourEnd; next++) if (history.hasTicks(next)) return next;
  return hourEnd;
}
