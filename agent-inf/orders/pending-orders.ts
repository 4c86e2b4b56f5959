/**
 * Pending orders and close-by on the order path (issue 15 §4): the inputs a strategy gives for
 * PLACE, MODIFY_ORDER, CANCEL and CLOSE_BY, the risk intents and the signed bodies made of them,
 * and what a fill tells the exposure ledger and the live view. order-service.ts runs them through
 * the same steps as OPEN (snapshot, risk check with reservation, no-blind-resend submit). Pure.
 */
import {
  type OrderTimeType,
  orderSide,
  type PendingOrderType,
  type TradeReply,
} from "../../shared/protocol/index.ts";
import type { SignedBody } from "../gateway/gateway-client.ts";
import type { LiveMarket } from "../live-view/live-view.ts";
import type { ModifyOrderIntent, PlaceIntent } from "../risk/types.ts";

export interface PlaceOrderInput {
  readonly gateway?: string;
  readonly client_order_id?: string;
  readonly type: PendingOrderType;
  readonly symbol: string;
  readonly volume: number;
  readonly price: number;
  readonly stoplimit?: number;
  readonly sl?: number | null;
  readonly tp?: number | null;
  readonly type_time?: OrderTimeType;
  /** Unix ms on a whole second (SPECIFIED, SPECIFIED_DAY). */
  readonly expiration?: number;
  readonly type_filling?: "FOK" | "IOC" | "RETURN";
  readonly magic?: number;
  readonly comment?: string;
  /** Optional Kelly sizing input, as for OPEN. */
  readonly edge?: { readonly win_probability: number; readonly payoff_ratio: number };
}

export interface ModifyPendingInput {
  readonly gateway?: string;
  readonly client_order_id?: string;
  readonly ticket: number;
  readonly price?: number;
  readonly stoplimit?: number;
  readonly sl?: number | null;
  readonly tp?: number | null;
  readonly type_time?: OrderTimeType;
  readonly expiration?: number;
}

export interface CancelOrderInput {
  readonly gateway?: string;
  readonly client_order_id?: string;
  readonly ticket: number;
  /** Asked with the operator's token: passes while this host is HALTED. */
  readonly operator?: boolean;
}

export interface CloseByInput {
  readonly gateway?: string;
  readonly client_order_id?: string;
  readonly ticket: number;
  readonly ticket_by: number;
  readonly comment?: string;
}

export function placeIntent(input: PlaceOrderInput, clientOrderId: string): PlaceIntent {
  return {
    clientOrderId,
    type: input.type,
    symbol: input.symbol,
    side: orderSide(input.type),
    volume: input.volume,
    price: input.price,
    ...pick(input, ["stoplimit", "sl", "tp"]),
    ...(input.edge === undefined
      ? {}
      : {
          edge: {
            winProbability: input.edge.win_probability,
            payoffRatio: input.edge.payoff_ratio,
          },
        }),
  };
}

/** `volume`: what the risk check passed (Kelly may have sized it down). */
export function placeBody(
  input: PlaceOrderInput,
  clientOrderId: string,
  volume: number,
): SignedBody {
  return {
    action: "PLACE",
    client_order_id: clientOrderId,
    type: input.type,
    symbol: input.symbol,
    volume,
    price: input.price,
    ...pick(input, [
      "stoplimit",
      "sl",
      "tp",
      "type_time",
      "expiration",
      "type_filling",
      "magic",
      "comment",
    ]),
  };
}

export function modifyOrderIntent(
  input: ModifyPendingInput,
  clientOrderId: string,
): ModifyOrderIntent {
  return {
    clientOrderId,
    ticket: input.ticket,
    ...pick(input, ["price", "stoplimit", "sl", "tp"]),
  };
}

export function modifyOrderBody(input: ModifyPendingInput, clientOrderId: string): SignedBody {
  return {
    action: "MODIFY_ORDER",
    client_order_id: clientOrderId,
    ticket: input.ticket,
    ...pick(input, ["price", "stoplimit", "sl", "tp", "type_time", "expiration"]),
  };
}

export function cancelBody(input: CancelOrderInput, clientOrderId: string): SignedBody {
  return { action: "CANCEL", client_order_id: clientOrderId, ticket: input.ticket };
}

export function closeByBody(input: CloseByInput, clientOrderId: string): SignedBody {
  return {
    action: "CLOSE_BY",
    client_order_id: clientOrderId,
    ticket: input.ticket,
    ticket_by: input.ticket_by,
    ...pick(input, ["comment"]),
  };
}

/**
 * The ticket a fill settles a reservation with: the pending order's for a PLACE (its reply's
 * `order`), else the position's (`ticket`).
 */
export function settledTicket(body: SignedBody, reply: TradeReply): number | undefined {
  return body.action === "PLACE" ? reply.order : reply.ticket;
}

/**
 * A pending-order action of ours, told to the live view, which must not answer for what it has
 * not seen yet: a PLACE's order; a CANCEL's order is gone even if its event is still on the way
 * (counting it a moment longer would only be cautious, but it is known). OPEN, CLOSE and MODIFY
 * go through the view's ownOrder instead, before they are sent.
 */
export function tellLiveView(live: LiveMarket, body: SignedBody, reply: TradeReply): void {
  if (body.action === "PLACE" && reply.order !== undefined) live.expectOrder(reply.order);
  else if (body.action === "CANCEL") live.orderGone(body["ticket"] as number);
}

/** The fields of `source` that are present (null is a value: it removes a stop). */
export function pick<T extends object, K extends keyof T>(
  source: T,
  keys: readonly K[],
): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}
