/**
 * Test-only: the fake EA's OPEN/CLOSE/MODIFY (EA-LINK §10, §11; CmdTrade in GatewayBridge.mq5):
 * client_order_id check → dedup store → the EA's own checks in §10.2's order (source "EA") →
 * OrderCheck (source "CHECK", here: the sim's refusals that OrderCheck would already give) →
 * in-flight marker → OrderSend (the sim; source "SERVER") → stored reply.
 */
import { Retcode, type SymbolInfo, type TradeResult } from "../../../../shared/protocol/index.ts";
import type { EaRecord, FlatObject } from "./ea-json.ts";
import { IN_FLIGHT } from "./fake-dedup.ts";
import { err, type FakeEaState, ok, validCoid } from "./fake-reads.ts";

export type TradeCmd = "OPEN" | "CLOSE" | "MODIFY";

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
  /** Around the sim call of a MODIFY, so its POSITION_MODIFIED event is forwarded (§12.3). */
  readonly modifying: (active: boolean) => void;
  readonly requestId: () => number;
}

interface Sent {
  readonly symbol?: string;
  readonly ticket?: number;
  readonly sl: number;
  readonly tp: number;
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
  });
}

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
  if (stored === IN_FLIGHT) {
    return err(
      "OUTCOME_UNKNOWN",
      "an earlier attempt stopped inside OrderSend; reconcile, then FORGET",
    );
  }
  if (stored !== undefined) {
    if (stored["cmd"] !== cmd) {
      return err("COID_CONFLICT", "client_order_id was already used for another command");
    }
    return { duplicate: true, ...stored };
  }
  const refuse = (retcode: number, why: string, position = 0) =>
    tradeBody(cmd, coid, "EA", retcode, why, { position });
  const built =
    cmd === "OPEN"
      ? await buildOpen(state, request, refuse)
      : cmd === "CLOSE"
        ? await buildClose(state, request, refuse)
        : await buildModify(state, request, refuse);
  if (isReply(built)) return built;
  const sent = built;
  state.dedup.put(coid, IN_FLIGHT);
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
  if (cmd !== "MODIFY" && CHECK_RETCODES.has(result.retcode)) {
    // OrderCheck refused it: nothing was sent, nothing stays stored
    state.dedup.forget(coid);
    return tradeBody(cmd, coid, "CHECK", result.retcode, result.comment, {
      position: sent.ticket ?? 0,
      sl: sent.sl,
      tp: sent.tp,
    });
  }
  const body = tradeBody(cmd, coid, "SERVER", result.retcode, result.comment, {
    deal: result.deal,
    order: result.order,
    position: cmd === "OPEN" ? result.position : (sent.ticket ?? 0),
    volume: result.volume,
    price: result.price,
    bid: result.bid,
    ask: result.ask,
    sl: sent.sl,
    tp: sent.tp,
    request_id: hooks.requestId(),
  });
  state.dedup.put(coid, body);
  return body;
}

async function send(
  state: FakeEaState,
  cmd: TradeCmd,
  coid: string,
  request: FlatObject,
  sent: Sent,
): Promise<TradeResult> {
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
      ticket: sent.ticket as number,
      volume: request.has("volume") ? (request.number("volume") as number) : null,
      deviation,
      magic,
      comment,
    });
  }
  return state.sim.modify({
    clientOrderId: coid,
    ticket: sent.ticket as number,
    sl: sent.sl === 0 ? null : sent.sl,
    tp: sent.tp === 0 ? null : sent.tp,
  });
}

/** Every reply body carries `ok`; a request ready to send never does. */
function isReply(built: EaRecord | Sent): built is EaRecord {
  return "ok" in built;
}

type Refuse = (retcode: number, why: string, position?: number) => EaRecord;

/** CommonFields(): deviation, magic and comment, all optional. */
function commonProblem(request: FlatObject): EaRecord | undefined {
  const deviation = request.integer("deviation");
  if (request.has("deviation") && (deviation === undefined || deviation < 0)) {
    return err("BAD_REQUEST", "deviation must be an integer >= 0 (points)");
  }
  if (request.has("magic") && request.integer("magic") === undefined) {
    return err("BAD_REQUEST", "magic must be an integer");
  }
  const comment = request.string("comment");
  if (request.has("comment") && comment === undefined) {
    return err("BAD_REQUEST", "comment must be a string");
  }
  if ((comment ?? "").length > 31) return err("BAD_REQUEST", "comment longer than 31 characters");
  return undefined;
}

function levels(request: FlatObject, required: boolean): { sl: number; tp: number } | undefined {
  const sl = request.has("sl") ? request.number("sl") : required ? undefined : 0;
  const tp = request.has("tp") ? request.number("tp") : required ? undefined : 0;
  if (sl === undefined || tp === undefined || sl < 0 || tp < 0) return undefined;
  return { sl, tp };
}

async function buildOpen(
  state: FakeEaState,
  request: FlatObject,
  refuse: Refuse,
): Promise<EaRecord | Sent> {
  const symbol = request.string("symbol");
  const side = request.string("side");
  const volume = request.number("volume");
  if (symbol === undefined || side === undefined || volume === undefined) {
    return err("BAD_REQUEST", "symbol, side and volume are required");
  }
  if (side !== "BUY" && side !== "SELL") return err("BAD_REQUEST", "side must be BUY or SELL");
  if (volume <= 0) return err("BAD_REQUEST", "volume must be > 0");
  const stops = levels(request, false);
  if (stops === undefined) return err("BAD_REQUEST", "sl and tp must be prices >= 0 (0 = none)");
  const common = commonProblem(request);
  if (common !== undefined) return common;
  const info = await state.sim.symbolInfo(symbol);
  if (info === undefined) return err("UNKNOWN_SYMBOL", `unknown symbol ${symbol}`);
  const buy = side === "BUY";
  if (info.trade_mode === "DISABLED")
    return refuse(Retcode.TRADE_DISABLED, `trading disabled for ${symbol}`);
  if (info.trade_mode === "CLOSE_ONLY")
    return refuse(Retcode.CLOSE_ONLY, `${symbol} is close-only`);
  if (info.trade_mode === "LONG_ONLY" && !buy)
    return refuse(Retcode.LONG_ONLY, `${symbol} is long-only`);
  if (info.trade_mode === "SHORT_ONLY" && buy)
    return refuse(Retcode.SHORT_ONLY, `${symbol} is short-only`);
  if (volume > state.maxLots + 1e-9) {
    return refuse(Retcode.INVALID_VOLUME, `volume above the EA's InpMaxLots ${state.maxLots}`);
  }
  const volumeProblem = volumeCheck(info, volume);
  if (volumeProblem !== undefined) return refuse(Retcode.INVALID_VOLUME, volumeProblem);
  if (!(info.bid > 0 && info.ask > 0)) return refuse(Retcode.PRICE_OFF, `no quote for ${symbol}`);
  const sl = normalise(stops.sl, info.digits);
  const tp = normalise(stops.tp, info.digits);
  const stopsProblem = stopsCheck(info, buy, sl, tp);
  if (stopsProblem !== undefined) return refuse(Retcode.INVALID_STOPS, stopsProblem);
  return { symbol, sl, tp } satisfies Sent;
}

async function buildClose(
  state: FakeEaState,
  request: FlatObject,
  refuse: Refuse,
): Promise<EaRecord | Sent> {
  const partial = request.has("volume");
  const volume = request.number("volume");
  if (partial && (volume === undefined || volume <= 0)) {
    return err("BAD_REQUEST", "volume must be a number > 0");
  }
  const common = commonProblem(request);
  if (common !== undefined) return common;
  const ticket = request.integer("ticket");
  if (ticket === undefined || ticket <= 0) return err("BAD_REQUEST", "ticket is required");
  const position = (await state.sim.positions()).find((p) => p.ticket === ticket);
  if (position === undefined) {
    return refuse(Retcode.POSITION_CLOSED, `position ${ticket} not found`, ticket);
  }
  const info = (await state.sim.symbolInfo(position.symbol)) as SymbolInfo;
  if (info.trade_mode === "DISABLED") {
    return refuse(Retcode.TRADE_DISABLED, `trading disabled for ${position.symbol}`, ticket);
  }
  if (partial && (volume as number) > position.volume + 1e-9) {
    return refuse(
      Retcode.INVALID_CLOSE_VOLUME,
      `volume above the position volume ${position.volume}`,
      ticket,
    );
  }
  if (partial && (volume as number) < position.volume - 1e-9) {
    const problem = volumeCheck(info, volume as number);
    if (problem !== undefined) return refuse(Retcode.INVALID_VOLUME, problem, ticket);
  }
  if (!(info.bid > 0 && info.ask > 0))
    return refuse(Retcode.PRICE_OFF, `no quote for ${info.symbol}`, ticket);
  return { ticket, sl: 0, tp: 0 } satisfies Sent;
}

async function buildModify(
  state: FakeEaState,
  request: FlatObject,
  refuse: Refuse,
): Promise<EaRecord | Sent> {
  const stops = levels(request, true);
  if (stops === undefined)
    return err("BAD_REQUEST", "sl and tp are required (final prices, 0 = none)");
  const ticket = request.integer("ticket");
  if (ticket === undefined || ticket <= 0) return err("BAD_REQUEST", "ticket is required");
  const position = (await state.sim.positions()).find((p) => p.ticket === ticket);
  if (position === undefined) {
    return refuse(Retcode.POSITION_CLOSED, `position ${ticket} not found`, ticket);
  }
  const info = (await state.sim.symbolInfo(position.symbol)) as SymbolInfo;
  if (!(info.bid > 0 && info.ask > 0))
    return refuse(Retcode.PRICE_OFF, `no quote for ${info.symbol}`, ticket);
  const sl = normalise(stops.sl, info.digits);
  const tp = normalise(stops.tp, info.digits);
  const problem = stopsCheck(info, position.side === "BUY", sl, tp);
  if (problem !== undefined) return refuse(Retcode.INVALID_STOPS, problem, ticket);
  return { ticket, sl, tp } satisfies Sent;
}

/** VolumeProblem(): refuse, never round. */
function volumeCheck(info: SymbolInfo, volume: number): string | undefined {
  if (volume < info.volume_min - 1e-9) return `volume below volume_min ${info.volume_min}`;
  if (volume > info.volume_max + 1e-9) return `volume above volume_max ${info.volume_max}`;
  const step = info.volume_step;
  if (step > 0 && Math.abs(Math.round(volume / step) * step - volume) > step * 1e-6) {
    return `volume not a multiple of volume_step ${step}`;
  }
  return undefined;
}

/** StopsProblem(): measured from the price the position closes at. */
function stopsCheck(info: SymbolInfo, buy: boolean, sl: number, tp: number): string | undefined {
  const eps = info.point * 1e-3;
  const d = info.stops_level * info.point;
  if (buy && sl > 0 && sl > info.bid - d + eps) return "sl must be <= bid - stops_level";
  if (buy && tp > 0 && tp < info.bid + d - eps) return "tp must be >= bid + stops_level";
  if (!buy && sl > 0 && sl < info.ask + d - eps) return "sl must be >= ask + stops_level";
  if (!buy && tp > 0 && tp > info.ask - d + eps) return "tp must be <= ask - stops_level";
  return undefined;
}

function normalise(price: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(price * scale) / scale;
}
