/**
 * The executor's pending-order half (executor.ts runs the pipeline: verify, journal, gate,
 * backend, journal): how PLACE, MODIFY_ORDER, CANCEL and CLOSE_BY become backend calls, which
 * retcodes mean they executed, and the FILLED reply each one gets.
 */
import { describeError, FaultCode } from "../../shared/errors.ts";
import {
  filledReply,
  isPlacementRetcode,
  isSuccessRetcode,
  type OrderCheckRequest,
  orderComment,
  type PendingSignedRequest,
  type PlaceRequest,
  type Reply,
  type SignedAction,
  type SignedRequest,
  type TradeOrder,
  type TradeResult,
} from "../../shared/protocol/index.ts";
import { type Backend, BackendError } from "../backend/backend.ts";
import type { OrderTerms } from "../backend/pending.ts";

const PENDING_ACTIONS: ReadonlySet<string> = new Set([
  "PLACE",
  "MODIFY_ORDER",
  "CANCEL",
  "CLOSE_BY",
]);

export function isPendingAction(action: SignedAction): action is PendingSignedRequest["action"] {
  return PENDING_ACTIONS.has(action);
}

export function isPendingRequest(request: SignedRequest): request is PendingSignedRequest {
  return PENDING_ACTIONS.has(request.action);
}

/**
 * The backend call of a pending-order request; `magic` is the gateway's default, `clientOrderId`
 * the order's key at the broker (brokerOrderKey: scoped by client).
 */
export function sendPending(
  backend: Backend,
  request: PendingSignedRequest,
  magic: number,
  clientOrderId: string,
): Promise<TradeResult> {
  switch (request.action) {
    case "PLACE":
      return backend.placeOrder({
        clientOrderId,
        symbol: request.symbol,
        type: request.type,
        volume: request.volume,
        price: request.price,
        ...orderFields(request),
        magic: request.magic ?? magic,
        comment: orderComment(clientOrderId, request.comment),
      });
    case "MODIFY_ORDER":
      return backend.modifyOrder({
        clientOrderId,
        ticket: request.ticket,
        price: request.price,
        stoplimit: request.stoplimit,
        sl: "sl" in request ? (request.sl ?? null) : undefined,
        tp: "tp" in request ? (request.tp ?? null) : undefined,
        typeTime: request.type_time,
        expiration: request.expiration,
      });
    case "CANCEL":
      return backend.cancelOrder({ clientOrderId, ticket: request.ticket });
    case "CLOSE_BY":
      return backend.closeBy({
        clientOrderId,
        ticket: request.ticket,
        ticketBy: request.ticket_by,
        magic,
        comment: orderComment(clientOrderId, request.comment),
      });
  }
}

/** The order fields PLACE and ORDER_CHECK share, with their defaults, as a backend takes them. */
export function orderFields(request: PlaceRequest | OrderCheckRequest): OrderTerms {
  return {
    stoplimit: request.stoplimit ?? null,
    sl: request.sl ?? null,
    tp: request.tp ?? null,
    typeTime: request.type_time ?? "GTC",
    expiration: request.expiration ?? 0,
    filling: request.type_filling ?? null,
  };
}

/** Whether MT5's answer means the request executed (a placement may say DONE or PLACED). */
export function pendingSucceeded(action: PendingSignedRequest["action"], retcode: number): boolean {
  return action === "PLACE" ? isPlacementRetcode(retcode) : isSuccessRetcode(retcode);
}

/** The FILLED reply of an executed pending-order request, with the order or positions after it. */
export async function pendingFilledReply(
  backend: Backend,
  request: PendingSignedRequest,
  result: TradeResult,
): Promise<Reply> {
  const base = {
    client_order_id: request.client_order_id,
    retcode: result.retcode,
    bid: result.bid,
    ask: result.ask,
  };
  if (request.action === "CLOSE_BY") {
    // Left out when the positions cannot be read back: a failed read is not a closed position
    const positions = await backend.positions().catch(() => undefined);
    const remaining = (ticket: number) => positions?.find((p) => p.ticket === ticket)?.volume ?? 0;
    return filledReply(request.id, {
      ...base,
      ticket: request.ticket,
      ticket_by: request.ticket_by,
      deal: result.deal,
      order: result.order,
      volume: result.volume,
      price: result.price,
      ...(positions === undefined
        ? {}
        : {
            remaining_volume: remaining(request.ticket),
            remaining_volume_by: remaining(request.ticket_by),
          }),
    });
  }
  const ticket = request.action === "PLACE" ? result.order : request.ticket;
  const order = request.action === "CANCEL" ? undefined : await activeOrder(backend, ticket);
  return filledReply(request.id, {
    ...base,
    order: ticket,
    ...(order === undefined ? {} : { pending_order: order }),
  });
}

/** The active order with this ticket, if the backend can say (undefined otherwise). */
export async function activeOrder(
  backend: Backend,
  ticket: number,
): Promise<TradeOrder | undefined> {
  try {
    return (await backend.orders({ ticket }))[0];
  } catch {
    return undefined;
  }
}

/**
 * Positions and pending orders at the broker: what could be open positions. A backend without
 * pending orders (BACKEND_UNSUPPORTED) has none to count.
 */
export async function exposureCount(backend: Backend): Promise<number> {
  const positions = (await backend.positions()).length;
  try {
    return positions + (await backend.orders()).length;
  } catch (error) {
    if (error instanceof BackendError && error.code === FaultCode.BACKEND_UNSUPPORTED) {
      return positions;
    }
    throw new Error(`cannot read pending orders from MT5: ${describeError(error)}`, {
      cause: error,
    });
  }
}
