/**
 * Test-only: the fake EA's trade commands (EA-LINK §10, §11; CmdTrade in BridgeTrades.mqh):
 * client_order_id check → dedup store → the EA's own checks in §10.2's order (source "EA") →
 * Algo Trading switch → OrderCheck (PLACE) → in-flight marker → OrderSend (the sim; source
 * "SERVER") → stored reply. The sim has no OrderCheck for market orders, so for OPEN and CLOSE
 * its refusals that OrderCheck would already give (and OrderSend's local 10027) come back as
 * source "CHECK" with the marker forgotten; unlike the EA, a dedup file that cannot be written
 * is noticed before those.
 */
import { Retcode, type TradeResult } from "../../../../shared/protocol/index.ts";
import type { EaRecord, FlatObject } from "./ea-json.ts";
import { IN_FLIGHT } from "./fake-dedup.ts";
import { buildCancel, buildCloseBy, buildModifyOrder, buildPlace } from "./fake-pending-build.ts";
import { err, type FakeEaState, ok, validCoid } from "./fake-reads.ts";
import {
  buildClose,
  buildModify,
  buildOpen,
  isReply,
  type Refuse,
  type Sent,
} from "./fake-trade-build.ts";

/** BuildRequest's table (GatewayBridge.mq5): each trade command and its build. */
const BUILDS = {
  OPEN: buildOpen,
  CLOSE: buildClose,
  MODIFY: buildModify,
  PLACE: buildPlace,
  MODIFY_ORDER: buildModifyOrder,
  CANCEL: buildCancel,
  CLOSE_BY: buildCloseBy,
} satisfies Record<
  string,
  (state: FakeEaState, request: FlatObject, refuse: Refuse) => Promise<EaRecord | Sent>
>;

export type TradeCmd = keyof typeof BUILDS;
export const TRADE_COMMANDS = Object.keys(BUILDS) as readonly TradeCmd[];

/** Refusals OrderCheck gives before anything is sent (validity, money, permissions, stops). */
const CHECK_RETCODES: ReadonlySet<number> = new Set([
  Retcode.INVALID,
  Retcode.INVALID_VOLUME,
  Retcode.INVALID_PRICE,
  Retcode.INVALID_STOPS,
  Retcode.TRADE_DISABLED,
  Retcode.MARKET_CLOSED,
  Retcode.NO_MONEY,
  Retcode.PRICE_OFF,
  Retcode.CLIENT_DISABLES_AT,
  Retcode.INVALID_FILL,
  Retcode.LONG_ONLY,
  Retcode.SHORT_ONLY,
  Retcode.CLOSE_ONLY,
]);

/** Thrown by a handler told to "crash" inside OrderSend: the marker stays, no reply goes out. */
export class CrashInsideOrderSend extends Error {}

export interface TradeHooks {
  /** Leave the in-flight marker and stop, as if the terminal died inside OrderSend. */
  readonly crash: boolean;
  /** The deal does not reach the terminal's history within OpenedPosition's 500 ms. */
  readonly dealLate: boolean;
  /** Around the sim call of a MODIFY, so its POSITION_MODIFIED event is forwarded (§12.3). */
  readonly modifying: (active: boolean) => void;
  readonly requestId: () => number;
}

/** TradeBody(): one shape for every trade reply (§10.3). */
export function tradeBody(
  cmd: string,
  coid: string,
  source: "EA" | "CHECK" | "SERVER",
  retcode: number,
  comment: string,
  extra: Partial<
    Record<
      | "deal"
      | "order"
      | "position"
      | "volume"
      | "price"
      | "bid"
      | "ask"
      | "sl"
      | "tp"
      | "request_id",
      number
    >
  > = {},
  filling = "",
): EaRecord {
  return ok({
    cmd,
    client_order_id: coid,
    source,
    retcode,
    retcode_external: 0,
    deal: extra.deal ?? 0,
    order: extra.order ?? 0,
    position: extra.position ?? 0,
    volume: extra.volume ?? 0,
    price: extra.price ?? 0,
    bid: extra.bid ?? 0,
    ask: extra.ask ?? 0,
    sl: extra.sl ?? 0,
    tp: extra.tp ?? 0,
    comment,
    request_id: extra.request_id ?? 0,
    filling,
  });
}

/** CmdTrade. */
export async function trade(
  state: FakeEaState,
  cmd: TradeCmd,
  request: FlatObject,
  hooks: TradeHooks,
): Promise<EaRecord> {
  const coid = request.string("client_order_id");
  if (coid === undefined || !validCoid(coid)) {
    return err("BAD_REQUEST", "client_order_id must be 1-24 chars of [A-Za-z0-9_-]");
  }
  const stored = state.dedup.lookup(coid);
  if (stored !== undefined && stored !== IN_FLIGHT) {
    if (stored["cmd"] !== cmd) {
      return err("COID_CONFLICT", "client_order_id was already used for another command");
    }
    return { duplicate: true, ...stored };
  }
  if (stored === IN_FLIGHT) {
    return err(
      "OUTCOME_UNKNOWN",
      "an earlier attempt stopped inside OrderSend; reconcile, then FORGET",
    );
  }
  // g_tFilling: set once the request is built (SetCommon), "" before
  let filling = "";
  const refuse = (retcode: number, why: string, position = 0) =>
    tradeBody(cmd, coid, "EA", retcode, why, { position }, filling);
  const built = await BUILDS[cmd](state, request, refuse);
  if (isReply(built)) return built;
  const sent = built;
  filling = sent.filling;
  // AlgoTradingOff: checked for MODIFY too, which skips OrderCheck
  if (!state.status.terminal_trade_allowed || !state.status.ea_trade_allowed) {
    return refuse(
      Retcode.CLIENT_DISABLES_AT,
      "Algo Trading is off (toolbar button, or the EA's Allow Algo Trading)",
      sent.ticket ?? 0,
    );
  }
  // OrderCheck passes with 0; a refusal is the terminal's, nothing sent and nothing stored
  const check = await sent.check?.();
  if (check !== undefined && check.retcode !== Retcode.CHECK_OK) {
    const levels = { position: sent.ticket ?? 0, sl: sent.sl, tp: sent.tp };
    return tradeBody(cmd, coid, "CHECK", check.retcode, check.comment, levels, filling);
  }
  if (!state.dedup.put(coid, IN_FLIGHT)) {
    return err(
      "DEDUP_STORE_FAILED",
      "cannot write the dedup file in MQL5/Files; refusing to trade",
    );
  }
  if (hooks.crash) throw new CrashInsideOrderSend(`crashed inside OrderSend for ${coid}`);
  let result: TradeResult;
  try {
    if (cmd === "MODIFY") hooks.modifying(true);
    result = await send(state, cmd, coid, request, sent);
  } catch {
    // OrderSend failed without a retcode: the request may have left the terminal (§9)
    return { ...err("RUNTIME_4756", "MQL5 runtime error 4756"), in_flight: true };
  } finally {
    if (cmd === "MODIFY") hooks.modifying(false);
  }
  const local =
    ((cmd === "OPEN" || cmd === "CLOSE") && CHECK_RETCODES.has(result.retcode)) ||
    result.retcode === Retcode.CLIENT_DISABLES_AT;
  if (local) {
    // OrderCheck refused it, or OrderSend's own 10027: nothing was sent, nothing stays stored
    state.dedup.forget(coid);
    return tradeBody(
      cmd,
      coid,
      "CHECK",
      result.retcode,
      result.comment,
      { position: sent.ticket ?? 0, sl: sent.sl, tp: sent.tp },
      filling,
    );
  }
  const body = tradeBody(
    cmd,
    coid,
    "SERVER",
    result.retcode,
    result.comment,
    {
      deal: result.deal,
      order: result.order,
      position:
        cmd === "OPEN" ? await openedPosition(state, result, hooks.dealLate) : (sent.ticket ?? 0),
      volume: result.volume,
      price: result.price,
      bid: result.bid,
      ask: result.ask,
      sl: sent.sl,
      tp: sent.tp,
      request_id: hooks.requestId(),
    },
    filling,
  );
  // Every server answer is the id's outcome (§11); a failed write leaves the marker
  state.dedup.put(coid, body);
  return body;
}

/**
 * OpenedPosition: DEAL_POSITION_ID once the deal is in the history; if it does not arrive in
 * time (`dealLate`), the position carrying the order's ticket, else 0.
 */
async function openedPosition(
  state: FakeEaState,
  result: TradeResult,
  dealLate: boolean,
): Promise<number> {
  if (result.deal !== 0 && !dealLate) return result.position;
  if (result.order !== 0 && (await state.sim.positions()).some((p) => p.ticket === result.order)) {
    return result.order;
  }
  return 0;
}

async function send(
  state: FakeEaState,
  cmd: TradeCmd,
  coid: string,
  request: FlatObject,
  sent: Sent,
): Promise<TradeResult> {
  if (sent.call !== undefined) return sent.call(coid);
  const deviation = request.integer("deviation") ?? state.deviation;
  const magic = request.integer("magic") ?? state.magic;
  const comment = request.string("comment") ?? "";
  if (cmd === "OPEN") {
    return state.sim.open({
      clientOrderId: coid,
      symbol: sent.symbol as string,
      side: request.string("side") as "BUY" | "SELL",
      volume: request.number("volume") as number,
      sl: sent.sl === 0 ? null : sent.sl,
      tp: sent.tp === 0 ? null : sent.tp,
      deviation,
      magic,
      comment,
    });
  }
  if (cmd === "CLOSE") {
    return state.sim.close({
      clientOrderId: coid,
      ticket: sent.simTicket as number,
      volume: request.has("volume") ? (request.number("volume") as number) : null,
      deviation,
      magic,
      comment,
    });
  }
  return state.sim.modify({
    clientOrderId: coid,
    ticket: sent.simTicket as number,
    sl: sent.sl === 0 ? null : sent.sl,
    tp: sent.tp === 0 ? null : sent.tp,
  });
}
