/**
 * The market snapshot an order's risk checks run against (account, positions, pending orders,
 * the symbol's specification and quote), taken from the lane's live view where it is fresh and
 * asked from the gateway for the rest, in parallel. The checks get the same fields either way.
 */
import type {
  AccountInfo,
  Position,
  Reply,
  SymbolInfo,
  TradeOrder,
} from "../../shared/protocol/index.ts";
import type { QueryBody } from "../gateway/gateway-client.ts";
import type { GatewayLane } from "../lane/lane.ts";

export type Snapshot =
  | {
      account: AccountInfo;
      positions: Position[];
      /** Present when asked for (OrdersWanted): the pending orders, or the one asked about. */
      orders?: TradeOrder[];
      symbol?: SymbolInfo;
      clockOffsetMs?: number;
    }
  | { unknown: string };

/**
 * Which pending orders the decision needs: all of them (OPEN and PLACE count them against the
 * position limits), or one by ticket (MODIFY_ORDER, CANCEL; its symbol is then the order's).
 */
export type OrdersWanted = { readonly all: true } | { readonly ticket: number };

/** A gateway whose backend has no pending orders (or predates them) has none to count. */
const NO_ORDERS_CODES: ReadonlySet<string> = new Set(["NOT_SUPPORTED", "UNKNOWN_ACTION"]);

/**
 * Account, positions, pending orders (when `orders` says so) and the relevant symbol: from the
 * live view where it is fresh (live-view/live-view.ts says when), the rest asked in parallel
 * (one round trip of latency). For CLOSE/MODIFY the symbol is the position `ticket`'s, for
 * MODIFY_ORDER/CANCEL the order's. What had to be asked is handed to the view for the next order.
 */
export async function readSnapshot(
  lane: GatewayLane,
  symbol: string | undefined,
  ticket?: number,
  orders?: OrdersWanted,
): Promise<Snapshot> {
  const { client, live } = lane;
  const liveAccount = live?.account();
  const livePositions = live?.positions();
  const liveOrders = orders === undefined ? undefined : live?.orders();
  const liveSymbol = symbol === undefined ? undefined : live?.symbol(symbol);
  const ask = (body: QueryBody, skip: unknown) =>
    skip === undefined ? client.query(body) : Promise.resolve(undefined);
  try {
    const [account, positions, pending, info] = await Promise.all([
      ask({ action: "GET_ACCOUNT" }, liveAccount),
      ask({ action: "GET_POSITIONS" }, livePositions),
      orders === undefined
        ? Promise.resolve(undefined)
        : ask({ action: "GET_ORDERS", ...("ticket" in orders ? orders : {}) }, liveOrders),
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
    const orderList = ordersOf(orders, liveOrders, pending);
    if (orderList !== undefined && "unknown" in orderList) return orderList;
    const asked = (info as { symbol_info?: SymbolInfo } | undefined)?.symbol_info;
    let symbolInfo = liveSymbol ?? asked;
    let askedForHolder: SymbolInfo | undefined;
    // A CLOSE's or MODIFY's position, a MODIFY_ORDER's order: the symbol is theirs
    const holder =
      ticket !== undefined
        ? list.find((p) => p.ticket === ticket)
        : orders !== undefined && "ticket" in orders
          ? orderList?.find((order) => order.ticket === orders.ticket)
          : undefined;
    if (symbolInfo === undefined && holder !== undefined) {
      symbolInfo = live?.symbol(holder.symbol);
      if (symbolInfo === undefined) {
        const reply = await client.query({ action: "GET_SYMBOL_INFO", symbol: holder.symbol });
        askedForHolder = (reply as { symbol_info?: SymbolInfo }).symbol_info;
        symbolInfo = askedForHolder;
      }
    }
    // What had to be asked now serves the next orders (within the view's freshness limits)
    const fetchedAccount = liveAccount === undefined ? accountInfo : undefined;
    const fetchedSymbol = asked ?? askedForHolder;
    live?.remember({
      ...(fetchedAccount === undefined ? {} : { account: fetchedAccount }),
      ...(fetchedSymbol === undefined ? {} : { symbol: fetchedSymbol }),
    });
    const offset = lane.clockOffsetMs();
    return {
      account: accountInfo,
      positions: [...list],
      ...(orderList === undefined ? {} : { orders: orderList }),
      ...(symbolInfo === undefined ? {} : { symbol: symbolInfo }),
      ...(offset === undefined ? {} : { clockOffsetMs: offset }),
    };
  } catch (error) {
    return { unknown: `gateway unreachable: ${(error as Error).message}` };
  }
}

/** The orders wanted, from the view or the gateway's GET_ORDERS answer. */
function ordersOf(
  wanted: OrdersWanted | undefined,
  live: readonly TradeOrder[] | undefined,
  reply: Reply | undefined,
): TradeOrder[] | { unknown: string } | undefined {
  if (wanted === undefined) return undefined;
  if (live !== undefined)
    return "ticket" in wanted ? live.filter((order) => order.ticket === wanted.ticket) : [...live];
  if (reply === undefined) return undefined;
  if (reply.status === "OK") return [...((reply as { orders?: TradeOrder[] }).orders ?? [])];
  if (NO_ORDERS_CODES.has(reply.error_code ?? "")) return [];
  return {
    unknown: `gateway could not report the pending orders: ${reply.error_code ?? reply.status}: ${reply.error_msg ?? ""}`,
  };
}
