/**
 * Trade commands both ways (docs/EA-LINK.md §9, §10): Backend orders → OPEN/CLOSE/MODIFY fields
 * (the pending-order commands' fields are in pending-mapping.ts),
 * and a REPLY → what the Backend contract needs to know: MT5's answer (a TradeResult, with who
 * decided it), certainly not executed, or unknown. Retcodes themselves are interpreted by the
 * gateway through shared/protocol/retcodes.ts; this module only turns EA-side errors that carry
 * no retcode into the retcode MT5 would have given for the same cause.
 */
import {
  isPlacementRetcode,
  isSuccessRetcode,
  Retcode,
  SIGNED_ACTIONS,
  type SignedAction,
  type TradeResult,
} from "../../../shared/protocol/index.ts";
import type { CloseOrder, OpenOrder } from "../backend.ts";
import type { WireObject } from "./framing.ts";
import { LinkProtocolError, type WireFields } from "./wire-fields.ts";

/**
 * The trade commands (§10, §10.6) are the protocol's signed actions, one for one: each carries a
 * client_order_id into the EA's dedup store.
 */
export const TRADE_COMMANDS = SIGNED_ACTIONS;
export type TradeCommand = SignedAction;
/** §10.3: who decided the retcode. EA and CHECK mean nothing was sent to the server. */
export type TradeSource = "EA" | "CHECK" | "SERVER";

export interface TradeOutcome {
  readonly result: TradeResult;
  readonly source: TradeSource;
  /** §11: answered from the EA's dedup store; this is the first attempt's outcome. */
  readonly duplicate: boolean;
  /** The levels the EA sent (0 = none), on the symbol's tick grid (§10.2). */
  readonly sl: number;
  readonly tp: number;
  /** The filling the EA put on the request (§10.2); absent when nothing was sent. */
  readonly filling?: string;
}

export type TradeReading =
  | { readonly kind: "answered"; readonly outcome: TradeOutcome }
  /** Certainly not executed (§9), with nothing better than a generic refusal to report. */
  | { readonly kind: "unavailable"; readonly reason: string }
  /** May have executed: reconcile, never re-send (§10.5). */
  | { readonly kind: "unknown"; readonly reason: string };

export function openFields(order: OpenOrder): WireObject {
  return {
    client_order_id: order.clientOrderId,
    symbol: order.symbol,
    side: order.side,
    volume: order.volume,
    // §10.1: absent = none
    ...(order.sl === null ? {} : { sl: order.sl }),
    ...(order.tp === null ? {} : { tp: order.tp }),
    deviation: order.deviation,
    magic: order.magic,
    comment: order.comment,
  };
}

export function closeFields(order: CloseOrder): WireObject {
  return {
    client_order_id: order.clientOrderId,
    ticket: order.ticket,
    ...(order.volume === null ? {} : { volume: order.volume }),
    deviation: order.deviation,
    magic: order.magic,
    comment: order.comment,
  };
}

/** §10.1: MODIFY carries the final levels, 0 removing one. */
export function modifyFields(
  clientOrderId: string,
  ticket: number,
  sl: number | null,
  tp: number | null,
): WireObject {
  return { client_order_id: clientOrderId, ticket, sl: sl ?? 0, tp: tp ?? 0 };
}

/** A refusal the gateway itself gives without asking the EA (e.g. MODIFY of an unknown ticket). */
export function localRefusal(retcode: number, comment: string): TradeResult {
  return { retcode, deal: 0, order: 0, position: 0, volume: 0, price: 0, bid: 0, ask: 0, comment };
}

/** §9 runtime errors that say plainly what MT5 would have answered. */
const RUNTIME_RETCODES: Readonly<Record<string, number>> = {
  // Trading by EAs prohibited: the EA's or the terminal's Algo Trading switch
  RUNTIME_4752: Retcode.CLIENT_DISABLES_AT,
  // Position not found
  RUNTIME_4753: Retcode.POSITION_CLOSED,
  // Order not found: what the server answers a change of an order it does not have
  RUNTIME_4754: Retcode.INVALID,
};

/**
 * Read a REPLY to `cmd` for `clientOrderId`. Throws LinkProtocolError on a reply that breaks
 * §10.3 (the caller closes the link and treats the outcome as unknown).
 */
export function readTradeReply(
  cmd: TradeCommand,
  clientOrderId: string,
  reply: WireFields,
): TradeReading {
  if (!reply.boolean("ok")) return readTradeError(reply);
  const echoed = reply.string("cmd");
  const coid = reply.string("client_order_id");
  if (echoed !== cmd || coid !== clientOrderId) {
    throw new LinkProtocolError(
      `terminal: reply names ${echoed} ${coid}, the command was ${cmd} ${clientOrderId}`,
    );
  }
  const source = reply.string("source");
  if (source !== "EA" && source !== "CHECK" && source !== "SERVER") {
    throw new LinkProtocolError(`terminal: trade reply source was ${source}`);
  }
  const duplicate = reply.optionalBoolean("duplicate") ?? false;
  const retcode = reply.integer("retcode");
  // EA and CHECK answers were decided before OrderSend and are never stored (§10.2, §11)
  const executed = cmd === "PLACE" ? isPlacementRetcode(retcode) : isSuccessRetcode(retcode);
  if (source !== "SERVER" && (executed || duplicate)) {
    throw new LinkProtocolError(
      `terminal: ${cmd} reply from ${source} with retcode ${retcode}${duplicate ? " and duplicate" : ""}`,
    );
  }
  const order = nonNegative(reply, "order");
  // A placed order is known by its ticket: a "placed" answer without one cannot be reported
  if (cmd === "PLACE" && executed && order === 0) {
    throw new LinkProtocolError(`terminal: PLACE answered ${retcode} without an order ticket`);
  }
  return {
    kind: "answered",
    outcome: {
      result: {
        retcode,
        deal: nonNegative(reply, "deal"),
        order,
        position: nonNegative(reply, "position"),
        volume: reply.number("volume"),
        price: reply.number("price"),
        bid: reply.number("bid"),
        ask: reply.number("ask"),
        comment: reply.string("comment"),
      },
      source,
      duplicate,
      sl: reply.number("sl"),
      tp: reply.number("tp"),
      ...filling(reply),
    },
  };
}

function filling(reply: WireFields): { filling?: string } {
  const value = reply.optionalString("filling");
  return value === undefined || value === "" ? {} : { filling: value };
}

function readTradeError(reply: WireFields): TradeReading {
  const code = reply.string("error");
  const message = reply.optionalString("error_msg") ?? "";
  const text = `EA: ${code}${message === "" ? "" : `: ${message}`}`;
  // §9: in_flight means OrderSend was called and failed; the request may have left the terminal
  if (reply.optionalBoolean("in_flight") === true || code === "OUTCOME_UNKNOWN") {
    return { kind: "unknown", reason: text };
  }
  if (code === "BAD_REQUEST" || code === "UNKNOWN_SYMBOL" || code === "COID_CONFLICT") {
    // Refused before anything was sent; 10013 (invalid request) is what MT5 says for the same
    return answeredLocally(Retcode.INVALID, text);
  }
  if (code === "DEDUP_STORE_FAILED") return { kind: "unavailable", reason: text };
  const runtime = RUNTIME_RETCODES[code];
  if (runtime !== undefined) return answeredLocally(runtime, text);
  if (/^RUNTIME_\d+$/.test(code)) return answeredLocally(Retcode.ERROR, text);
  // TOO_LARGE or a code this gateway does not know: it cannot prove nothing happened
  return { kind: "unknown", reason: text };
}

function answeredLocally(retcode: number, comment: string): TradeReading {
  return {
    kind: "answered",
    outcome: {
      result: localRefusal(retcode, comment),
      source: "EA",
      duplicate: false,
      sl: 0,
      tp: 0,
    },
  };
}

function nonNegative(reply: WireFields, key: string): number {
  const value = reply.integer(key);
  if (value < 0) throw new LinkProtocolError(`terminal: trade reply ${key} was ${value}`);
  return value;
}
