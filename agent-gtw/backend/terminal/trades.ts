/**
 * The trade commands over the EA link (docs/EA-LINK.md §10): OPEN, CLOSE and MODIFY, and the
 * pending-order commands PLACE, MODIFY_ORDER, CANCEL and CLOSE_BY (§10.6), with the Backend contract's
 * three outcomes: an answer, certainly not sent (BACKEND_UNAVAILABLE), or unknown
 * (BACKEND_TIMEOUT). A client_order_id whose outcome is unknown is not sent again until a new
 * EA session proves the EA is out of that command (it then answers a repeat from its dedup
 * store, §10.5, §11); a second call for an id already waiting is not sent either.
 */
import { FaultCode } from "../../../shared/errors.ts";
import type { Logger } from "../../../shared/log.ts";
import { type Position, Retcode } from "../../../shared/protocol/index.ts";
import { BackendError, type CloseOrder, type ModifyOrder, type OpenOrder } from "../backend.ts";
import type {
  CancelPendingOrder,
  CloseByOrder,
  ModifyPendingOrder,
  PlaceOrder,
} from "../pending.ts";
import type { SessionReply } from "./command-queue.ts";
import type { WireObject } from "./framing.ts";
import type { ServerTime } from "./mapping.ts";
import { cancelFields, closeByFields, modifyOrderFields, placeFields } from "./pending-mapping.ts";
import { CommandFailure } from "./session.ts";
import {
  closeFields,
  localRefusal,
  modifyFields,
  openFields,
  readTradeReply,
  type TradeCommand,
  type TradeOutcome,
} from "./trade-mapping.ts";
import { LinkProtocolError } from "./wire-fields.ts";

export type { TradeOutcome, TradeSource } from "./trade-mapping.ts";

/** Ids remembered as in doubt; far more than can pile up between two sessions. */
const MAX_IN_DOUBT = 10_000;

export interface TradesOptions {
  readonly logger: Logger;
  readonly send: (cmd: string, fields: WireObject) => Promise<SessionReply>;
  /** The current session's serial. */
  readonly serial: () => number;
  /** Close the link over a malformed reply. */
  readonly protocolError: (error: unknown) => void;
  /** The open position a MODIFY names: by ticket, else by POSITION_IDENTIFIER (§10.2). */
  readonly findPosition: (ticket: number) => Promise<Position | undefined>;
  /** The session's server clock (§5), for expirations; undefined without a session. */
  readonly time: () => ServerTime | undefined;
}

export class TerminalTrades {
  readonly #options: TradesOptions;
  /** client_order_id → serial of the session its unknown attempt was sent on. */
  readonly #inDoubt = new Map<string, number>();
  /** client_order_ids queued or in flight right now. */
  readonly #active = new Set<string>();

  constructor(options: TradesOptions) {
    this.#options = options;
  }

  open(order: OpenOrder): Promise<TradeOutcome> {
    return this.#run("OPEN", order.clientOrderId, openFields(order));
  }

  close(order: CloseOrder): Promise<TradeOutcome> {
    return this.#run("CLOSE", order.clientOrderId, closeFields(order));
  }

  /**
   * §10.1: the EA takes final levels, so a level to keep (undefined) is read from the position
   * first; null removes a level (0 on the wire).
   */
  async modify(order: ModifyOrder): Promise<TradeOutcome> {
    let { sl, tp } = order;
    if (sl === undefined || tp === undefined) {
      const position = await this.#options.findPosition(order.ticket);
      if (position === undefined) {
        // What the EA itself answers for a missing position (§10.2 check 3); nothing was sent
        return {
          result: localRefusal(Retcode.POSITION_CLOSED, `position ${order.ticket} not found`),
          source: "EA",
          duplicate: false,
          sl: 0,
          tp: 0,
        };
      }
      sl = sl === undefined ? position.sl : sl;
      tp = tp === undefined ? position.tp : tp;
    }
    return this.#run(
      "MODIFY",
      order.clientOrderId,
      modifyFields(order.clientOrderId, order.ticket, sl, tp),
    );
  }

  async place(order: PlaceOrder): Promise<TradeOutcome> {
    return this.#run("PLACE", order.clientOrderId, placeFields(order, this.#time("PLACE")));
  }

  async modifyOrder(order: ModifyPendingOrder): Promise<TradeOutcome> {
    const fields = modifyOrderFields(order, this.#time("MODIFY_ORDER"));
    return this.#run("MODIFY_ORDER", order.clientOrderId, fields);
  }

  cancel(order: CancelPendingOrder): Promise<TradeOutcome> {
    return this.#run("CANCEL", order.clientOrderId, cancelFields(order));
  }

  closeBy(order: CloseByOrder): Promise<TradeOutcome> {
    return this.#run("CLOSE_BY", order.clientOrderId, closeByFields(order));
  }

  /** A new session: the EA finished whatever it was doing, its dedup store answers repeats. */
  newSession(): void {
    this.#inDoubt.clear();
  }

  forgotten(clientOrderId: string): void {
    this.#inDoubt.delete(clientOrderId);
  }

  async #run(cmd: TradeCommand, coid: string, fields: WireObject): Promise<TradeOutcome> {
    if (this.#active.has(coid)) {
      throw new BackendError(
        FaultCode.BACKEND_TIMEOUT,
        `terminal: a command with client_order_id ${coid} is already waiting for the EA; this ${cmd} was not sent`,
      );
    }
    if (this.#inDoubt.has(coid)) {
      throw new BackendError(
        FaultCode.BACKEND_TIMEOUT,
        `terminal: the outcome of an earlier attempt with client_order_id ${coid} is still unknown; this ${cmd} was not sent`,
      );
    }
    this.#active.add(coid);
    let reply: SessionReply;
    try {
      reply = await this.#options.send(cmd, fields);
    } catch (error) {
      throw this.#failure(cmd, coid, error);
    } finally {
      this.#active.delete(coid);
    }
    let reading: ReturnType<typeof readTradeReply>;
    try {
      reading = readTradeReply(cmd, coid, reply.fields);
    } catch (error) {
      if (!(error instanceof LinkProtocolError)) throw error;
      this.#options.protocolError(error);
      this.#markInDoubt(coid, reply.serial);
      throw new BackendError(
        FaultCode.BACKEND_TIMEOUT,
        `terminal: ${cmd} ${coid} got a malformed reply, outcome unknown: ${error.message}`,
        { cause: error },
      );
    }
    if (reading.kind === "unavailable") {
      throw new BackendError(
        FaultCode.BACKEND_UNAVAILABLE,
        `terminal: ${cmd} ${coid} not executed: ${reading.reason}`,
      );
    }
    if (reading.kind === "unknown") {
      this.#markInDoubt(coid, reply.serial);
      throw new BackendError(
        FaultCode.BACKEND_TIMEOUT,
        `terminal: ${cmd} ${coid} outcome unknown: ${reading.reason}`,
      );
    }
    const { outcome } = reading;
    this.#options.logger.info("EA answered trade", {
      cmd,
      coid,
      source: outcome.source,
      retcode: outcome.result.retcode,
      duplicate: outcome.duplicate,
      deal: outcome.result.deal,
      position: outcome.result.position,
    });
    return outcome;
  }

  /** Expirations go out in server ms, so without a session nothing can be sent. */
  #time(cmd: TradeCommand): ServerTime {
    const time = this.#options.time();
    if (time === undefined) {
      throw new BackendError(
        FaultCode.BACKEND_UNAVAILABLE,
        `terminal: EA not connected; ${cmd} not sent`,
      );
    }
    return time;
  }

  /** A command without a REPLY: not sent (UNAVAILABLE) or maybe executed (TIMEOUT). */
  #failure(cmd: TradeCommand, coid: string, error: unknown): unknown {
    if (!(error instanceof CommandFailure)) return error;
    if (!error.delivered) {
      return new BackendError(
        FaultCode.BACKEND_UNAVAILABLE,
        `terminal: ${cmd} ${coid} was not sent: ${error.message}`,
        { cause: error },
      );
    }
    this.#markInDoubt(coid, error.serial);
    this.#options.logger.error("Trade outcome unknown", { cmd, coid, reason: error.message });
    return new BackendError(
      FaultCode.BACKEND_TIMEOUT,
      `terminal: ${cmd} ${coid} outcome unknown: ${error.message}`,
      { cause: error },
    );
  }

  #markInDoubt(coid: string, serial: number): void {
    // A session newer than the attempt's has already proved the EA is out of that command
    if (serial < this.#options.serial()) return;
    this.#inDoubt.set(coid, serial);
    if (this.#inDoubt.size > MAX_IN_DOUBT) {
      const oldest = this.#inDoubt.keys().next().value as string;
      this.#inDoubt.delete(oldest);
    }
  }
}
