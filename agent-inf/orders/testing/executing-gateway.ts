/**
 * Test-only: a fake gateway for the concurrency suites that executes an order the moment it
 * arrives (its position or pending order is in the next GET_POSITIONS / GET_ORDERS) and answers
 * it `replyMs` later, so orders sent at once are checked while the others are in flight.
 * Production code never imports it.
 */
import {
  orderComment,
  type Position,
  type Request,
  type TradeOrder,
} from "../../../shared/protocol/index.ts";
import { makeTradeOrder } from "../../../shared/protocol/testing/fixtures.ts";
import { makePosition } from "../../risk/testing/fixtures.ts";
import type { RiskLimits } from "../../risk/types.ts";
import { filled, type OrderRig } from "./order-rig.ts";

/** Only the limit under test: rates and the position limits out of the way. */
export const NO_LIMITS: Partial<RiskLimits> = {
  maxPositions: null,
  maxPositionsPerSymbol: null,
  maxOrdersPerSecond: null,
  maxOrdersPerMinute: null,
};

/** OPEN, CLOSE (partial too), PLACE and CANCEL executed at once; tickets from `firstTicket`. */
export function executingGateway(
  rig: OrderRig,
  options: { readonly replyMs?: number; readonly firstTicket: number },
): void {
  const replyMs = options.replyMs ?? 50;
  let nextTicket = options.firstTicket;
  rig.book.positions = [];
  const answer = (request: Request, fields: Record<string, unknown>) =>
    ({ kind: "reply", reply: filled(request, fields), afterMs: replyMs }) as const;
  rig.signed = ({ request }) => {
    const order = request as Request & Record<string, unknown>;
    const tag = () => orderComment(order["client_order_id"] as string, "");
    switch (order.action) {
      case "OPEN": {
        const ticket = nextTicket++;
        rig.book.positions.push(
          makePosition({
            ticket,
            symbol: order["symbol"] as string,
            volume: order["volume"] as number,
            comment: tag(),
          }),
        );
        return answer(request, { ticket });
      }
      case "CLOSE": {
        const ticket = order["ticket"] as number;
        const position = rig.book.positions.find((p) => p.ticket === ticket) as Position;
        const volume = (order["volume"] as number | undefined) ?? position.volume;
        const left = Number((position.volume - volume).toFixed(8));
        rig.book.positions = rig.book.positions.flatMap((p) =>
          p.ticket !== ticket ? [p] : left > 0 ? [{ ...p, volume: left }] : [],
        );
        return answer(request, { ticket, volume, remaining_volume: left });
      }
      case "PLACE": {
        const ticket = nextTicket++;
        rig.book.orders.push(
          makeTradeOrder({
            ticket,
            symbol: order["symbol"] as string,
            type: order["type"] as TradeOrder["type"],
            volume_initial: order["volume"] as number,
            volume_current: order["volume"] as number,
            price_open: order["price"] as number,
            comment: tag(),
          }),
        );
        return answer(request, { order: ticket, ticket: undefined });
      }
      case "CANCEL":
        rig.book.orders = rig.book.orders.filter((o) => o.ticket !== order["ticket"]);
        return answer(request, { order: order["ticket"] });
      default:
        return filled(request);
    }
  };
}
