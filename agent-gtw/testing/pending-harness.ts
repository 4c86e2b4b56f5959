/**
 * Test-only: in-process gateways (test-harness.ts) for the pending-order tests, with EURUSD
 * pinned at 1.09990 / 1.10000 (stops level 10 points, freeze level 5) and closed after each test.
 */
import type { PendingTradeReply, Reply } from "../../shared/protocol/index.ts";
import { type Harnesses, openHarnesses } from "./harness.ts";

export type PendingHarnesses = Harnesses;

/** Call at the top of a test file: registers the cleanup. */
export function pendingHarnesses(): PendingHarnesses {
  return openHarnesses((harness) => harness.backend.sim.setQuote("EURUSD", 1.0999, 1.1));
}

/** A PLACE body: a buy limit on EURUSD well inside the stops level. */
export function placeRequest(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    action: "PLACE",
    symbol: "EURUSD",
    type: "BUY_LIMIT",
    volume: 0.1,
    price: 1.099,
    ...extra,
  };
}

/** The order ticket of a PLACE, MODIFY_ORDER or CANCEL reply. */
export function orderOf(reply: Reply): number {
  return (reply as PendingTradeReply).order as number;
}
