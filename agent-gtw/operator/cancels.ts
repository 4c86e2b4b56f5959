/**
 * Operator cancels: how an operator removes pending orders from a running gateway, even while
 * trading is HALTED (when no client request passes). `agent-gtw cancel TICKET…` (or `--all`)
 * sends a `cancel` request through the operator channel (requests.ts); the gateway runs one
 * CANCEL per order through the executor (journaled, idempotent, reconciled like any order, but
 * unsigned and let through the HALTED gate) and answers per order.
 */

import type { Clock } from "../../shared/clock.ts";
import { describeError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import {
  type CancelRequest,
  checkSymbol,
  checkTicket,
  PROTOCOL_VERSION,
  type Reply,
} from "../../shared/protocol/index.ts";
import type { Backend } from "../backend/backend.ts";
import type { OrderExecutor } from "../orders/executor.ts";
import type { HandlerContext, OperatorResult, RequestBody, RequestHandler } from "./requests.ts";

/** Orders one request may cancel (an account's pending orders, with room to spare). */
const MAX_TICKETS = 1000;

export interface CancelCommand {
  /** Order tickets, or "all" (optionally on one symbol). */
  readonly tickets: readonly number[] | "all";
  readonly symbol?: string;
  readonly reason: string;
  /** Unix ms when the operator asked. */
  readonly at: number;
}

export interface CancelOutcome {
  readonly ticket: number;
  readonly status: Reply["status"];
  readonly error_code?: string;
  readonly error_msg?: string;
  readonly retcode?: number;
}

export interface CancelResult extends OperatorResult {
  readonly results: readonly CancelOutcome[];
}

export interface OperatorCancelsOptions {
  readonly gatewayName: string;
  readonly executor: OrderExecutor;
  readonly backend: Backend;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The gateway side: the handler of `cancel` requests. */
export function cancelHandler(options: OperatorCancelsOptions): RequestHandler {
  return (request, context) => runCancel(options, request, context);
}

async function runCancel(
  options: OperatorCancelsOptions,
  request: RequestBody,
  context: HandlerContext,
): Promise<Omit<CancelResult, "id">> {
  const { clock, logger, backend, executor } = options;
  const command = readCommand(request);
  if (typeof command === "string") return { error: command, results: [] };
  const { id } = context;
  let tickets: readonly number[];
  try {
    tickets =
      command.tickets === "all"
        ? (
            await backend.orders(command.symbol === undefined ? {} : { symbol: command.symbol })
          ).map((order) => order.ticket)
        : command.tickets;
  } catch (error) {
    return { error: `cannot read pending orders: ${describeError(error)}`, results: [] };
  }
  logger.warn("Operator cancel requested", { id, tickets: tickets.length, reason: command.reason });
  const results: CancelOutcome[] = [];
  for (const [index, ticket] of tickets.entries()) {
    if (context.stopped()) {
      results.push({
        ticket,
        status: "ERROR",
        error_code: "SHUTTING_DOWN",
        error_msg: "the gateway is stopping; nothing was sent for this order",
      });
      continue;
    }
    const request: CancelRequest = {
      v: PROTOCOL_VERSION,
      id: `operator-${id}-${index}`,
      ts: clock.now(),
      action: "CANCEL",
      client_order_id: `op-${id}-${index}`,
      gateway: options.gatewayName,
      key_id: "operator",
      ticket,
    };
    const reply = await executor.executeOperatorCancel(request);
    results.push({
      ticket,
      status: reply.status,
      ...(reply.error_code === undefined ? {} : { error_code: reply.error_code }),
      ...(reply.error_msg === undefined ? {} : { error_msg: reply.error_msg }),
      ...(reply.retcode === undefined ? {} : { retcode: reply.retcode }),
    });
  }
  return { results };
}

/** The command as the CLI wrote it, or why it cannot be used. */
function readCommand(command: RequestBody): CancelCommand | string {
  const tickets = command["tickets"];
  const validTickets =
    tickets === "all" ||
    (Array.isArray(tickets) &&
      tickets.length > 0 &&
      tickets.length <= MAX_TICKETS &&
      tickets.every((ticket) => checkTicket(ticket) === undefined));
  if (!validTickets) return `tickets must be "all" or 1 to ${MAX_TICKETS} order tickets`;
  const symbol = command["symbol"];
  if (symbol !== undefined && (typeof symbol !== "string" || checkSymbol(symbol) !== undefined)) {
    return "symbol is not a valid symbol";
  }
  const reason = command["reason"];
  return {
    tickets: tickets as CancelCommand["tickets"],
    ...(symbol === undefined ? {} : { symbol: symbol as string }),
    reason: typeof reason === "string" ? reason.slice(0, 200) : "operator",
    at: command["at"] as number,
  };
}
