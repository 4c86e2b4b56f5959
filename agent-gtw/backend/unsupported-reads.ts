/**
 * Market reads of a backend that has none (yet): every call refuses with BACKEND_UNSUPPORTED and
 * the given reason, which the gateway answers as NOT_SUPPORTED (server/read-failure.ts), as it
 * does for any other call a backend cannot make. Apart from market-reads.ts, which backend.ts
 * imports, so that the two do not import each other.
 */
import { FaultCode } from "../../shared/errors.ts";
import { BackendError } from "./backend.ts";
import type { MarketReads } from "./market-reads.ts";

export function unsupportedMarketReads(reason: string): MarketReads {
  const refuse = async (): Promise<never> => {
    throw new BackendError(FaultCode.BACKEND_UNSUPPORTED, reason);
  };
  return {
    symbolNames: refuse,
    symbolInfos: refuse,
    lastTick: refuse,
    rateSpan: refuse,
    rates: refuse,
    ticks: refuse,
    historyDeals: refuse,
    historyOrders: refuse,
  };
}
