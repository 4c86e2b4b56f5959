/**
 * The market snapshot an order's risk checks run against (account, positions, the symbol's
 * specification and quote), taken from the lane's live view where it is fresh and asked from
 * the gateway for the rest, in parallel. The checks get the same fields either way.
 */
import type { AccountInfo, Position, SymbolInfo } from "../../shared/protocol/index.ts";
import type { QueryBody } from "../gateway/gateway-client.ts";
import type { GatewayLane } from "../lane/lane.ts";

export type Snapshot =
  | { account: AccountInfo; positions: Position[]; symbol?: SymbolInfo; clockOffsetMs?: number }
  | { unknown: string };

/**
 * Account, positions and the relevant symbol: from the live view where it is fresh
 * (live-view/live-view.ts says when), the rest asked in parallel (one round trip of latency). For CLOSE/MODIFY the
 * symbol is the position's. What had to be asked is handed to the view for the next order.
 */
export async function readSnapshot(
  lane: GatewayLane,
  symbol: string | undefined,
  ticket?: number,
): Promise<Snapshot> {
  const { client, live } = lane;
  const liveAccount = live?.account();
  const livePositions = live?.positions();
  const liveSymbol = symbol === undefined ? undefined : live?.symbol(symbol);
  const ask = (body: QueryBody, skip: unknown) =>
    skip === undefined ? client.query(body) : Promise.resolve(undefined);
  try {
    const [account, positions, info] = await Promise.all([
      ask({ action: "GET_ACCOUNT" }, liveAccount),
      ask({ action: "GET_POSITIONS" }, livePositions),
      symbol === undefined
        ? Promise.resolve(undefined)
        : ask({ action: "GET_SYMBOL_INFO", symbol }, liveSymbol),
    ]);
    const list = livePositions ?? (positions as { positions?: Position[] } | undefined)?.positions;
    const accountInfo = liveAccount ?? (account as { account?: AccountInfo } | undefined)?.account;
    if (
      (account !== undefined && account.status !== "OK") ||
      accountInfo === undefined ||
      list === undefined
    ) {
      return {
        unknown: `gateway could not report the account: ${account?.error_msg ?? positions?.error_msg ?? "no data"}`,
      };
    }
    const asked = (info as { symbol_info?: SymbolInfo } | undefined)?.symbol_info;
    let symbolInfo = liveSymbol ?? asked;
    let askedForPosition: SymbolInfo | undefined;
    if (symbolInfo === undefined && ticket !== undefined) {
      const position = list.find((p) => p.ticket === ticket);
      if (position !== undefined) {
        symbolInfo = live?.symbol(position.symbol);
        if (symbolInfo === undefined) {
          const reply = await client.query({
            action: "GET_SYMBOL_INFO",
            symbol: position.symbol,
          });
          askedForPosition = (reply as { symbol_info?: SymbolInfo }).symbol_info;
          symbolInfo = askedForPosition;
        }
      }
    }
    // What had to be asked now serves the next orders (within the view's freshness limits)
    const fetchedAccount = liveAccount === undefined ? accountInfo : undefined;
    const fetchedSymbol = asked ?? askedForPosition;
    live?.remember({
      ...(fetchedAccount === undefined ? {} : { account: fetchedAccount }),
      ...(fetchedSymbol === undefined ? {} : { symbol: fetchedSymbol }),
    });
    const offset = lane.clockOffsetMs();
    return {
      account: accountInfo,
      positions: [...list],
      ...(symbolInfo === undefined ? {} : { symbol: symbolInfo }),
      ...(offset === undefined ? {} : { clockOffsetMs: offset }),
    };
  } catch (error) {
    return { unknown: `gateway unreachable: ${(error as Error).message}` };
  }
}
