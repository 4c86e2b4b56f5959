/**
 * Test-only: the fake EA's checks before a trade is sent (EA-LINK §10.2; BuildOpen, BuildClose,
 * BuildModify and their helpers in BridgeTrades.mqh), in the EA's order. Each returns the reply
 * that ends the command (BAD_REQUEST, or a refusal with source "EA"), or the request to send.
 * The pending-order builds (BridgePending.mqh) are in fake-pending-build.ts.
 */
import {
  type OrderCheckResult,
  type Position,
  Retcode,
  type SymbolInfo,
  type TradeResult,
} from "../../../../shared/protocol/index.ts";
import type { EaRecord, FlatObject } from "./ea-json.ts";
import { err, type FakeEaState, fillingFor, orderModeFlags, shownTicket } from "./fake-reads.ts";
import { ORDER_MODE_BITS } from "./fake-translate.ts";

/** The request a build hands to OrderSend. */
export interface Sent {
  readonly symbol?: string;
  /** The position's current ticket (g_tPosition), and the sim's ticket for it. */
  readonly ticket?: number;
  readonly simTicket?: number;
  readonly sl: number;
  readonly tp: number;
  /** g_tFilling: "" for MODIFY. */
  readonly filling: string;
  /** OrderCheck before the dedup marker (PLACE: the sim's own check of the same request). */
  readonly check?: () => Promise<OrderCheckResult>;
  /** OrderSend for the pending-order commands: the sim call the request amounts to. */
  readonly call?: (coid: string) => Promise<TradeResult>;
}

export type Refuse = (retcode: number, why: string, position?: number) => EaRecord;

/** Every reply body carries `ok`; a request ready to send (or a selection) never does. */
export function isReply<T extends object>(built: EaRecord | T): built is EaRecord {
  return "ok" in built;
}

/** CommonFields(): deviation, magic and comment, all optional. */
export function commonProblem(request: FlatObject): EaRecord | undefined {
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

export async function buildOpen(
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
  const tradeMode = tradeModeProblem(info, buy);
  if (tradeMode !== undefined) return refuse(tradeMode.retcode, tradeMode.why);
  const modeProblem = orderModeProblem(state, info, "MARKET", stops.sl, stops.tp);
  if (modeProblem !== undefined) return refuse(modeProblem.retcode, modeProblem.why);
  if (volume > state.maxLots + 1e-9) {
    return refuse(Retcode.INVALID_VOLUME, `volume above the EA's InpMaxLots ${state.maxLots}`);
  }
  const volumeProblem = volumeCheck(info, volume);
  if (volumeProblem !== undefined) return refuse(Retcode.INVALID_VOLUME, volumeProblem);
  if (!(info.bid > 0 && info.ask > 0)) return refuse(Retcode.PRICE_OFF, `no quote for ${symbol}`);
  const sl = roundToTick(info, stops.sl);
  const tp = roundToTick(info, stops.tp);
  const stopsProblem = stopsCheck(info, buy, sl, tp);
  if (stopsProblem !== undefined) return refuse(Retcode.INVALID_STOPS, stopsProblem);
  return { symbol, sl, tp, filling: fillingFor(info) } satisfies Sent;
}

/**
 * SelectPosition: by the ticket the terminal shows, else by POSITION_IDENTIFIER (the sim's
 * ticket), which stays when the broker re-opens a position under a new ticket.
 */
export async function selectPosition(
  state: FakeEaState,
  ticket: number,
): Promise<{ position: Position; current: number } | undefined> {
  const open = await state.sim.positions();
  const byTicket = open.find((p) => shownTicket(state, p.ticket) === ticket);
  const position = byTicket ?? open.find((p) => p.ticket === ticket);
  return position === undefined
    ? undefined
    : { position, current: shownTicket(state, position.ticket) };
}

/** SelectPosition(): the position "ticket" names, or the reply that ends the command. */
export async function positionNamed(
  state: FakeEaState,
  request: FlatObject,
  refuse: Refuse,
): Promise<EaRecord | { position: Position; current: number }> {
  const requested = request.integer("ticket");
  if (requested === undefined || requested <= 0) return err("BAD_REQUEST", "ticket is required");
  const selected = await selectPosition(state, requested);
  // A missing position is an answer (already closed), not an error to retry
  return selected ?? refuse(Retcode.POSITION_CLOSED, `position ${requested} not found`, requested);
}

export async function buildClose(
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
  const selected = await positionNamed(state, request, refuse);
  if (isReply(selected)) return selected;
  const { position, current: ticket } = selected;
  const info = (await state.sim.symbolInfo(position.symbol)) as SymbolInfo;
  if (info.trade_mode === "DISABLED") {
    return refuse(Retcode.TRADE_DISABLED, `trading disabled for ${position.symbol}`, ticket);
  }
  const modeProblem = orderModeProblem(state, info, "MARKET", 0, 0);
  if (modeProblem !== undefined) return refuse(modeProblem.retcode, modeProblem.why, ticket);
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
  return {
    ticket,
    simTicket: position.ticket,
    sl: 0,
    tp: 0,
    filling: fillingFor(info),
  } satisfies Sent;
}

export async function buildModify(
  state: FakeEaState,
  request: FlatObject,
  refuse: Refuse,
): Promise<EaRecord | Sent> {
  const stops = levels(request, true);
  if (stops === undefined)
    return err("BAD_REQUEST", "sl and tp are required (final prices, 0 = none)");
  const selected = await positionNamed(state, request, refuse);
  if (isReply(selected)) return selected;
  const { position, current: ticket } = selected;
  const info = (await state.sim.symbolInfo(position.symbol)) as SymbolInfo;
  const modeProblem = orderModeProblem(state, info, undefined, stops.sl, stops.tp);
  if (modeProblem !== undefined) return refuse(modeProblem.retcode, modeProblem.why, ticket);
  if (!(info.bid > 0 && info.ask > 0))
    return refuse(Retcode.PRICE_OFF, `no quote for ${info.symbol}`, ticket);
  const sl = roundToTick(info, stops.sl);
  const tp = roundToTick(info, stops.tp);
  const problem = stopsCheck(info, position.side === "BUY", sl, tp);
  if (problem !== undefined) return refuse(Retcode.INVALID_STOPS, problem, ticket);
  return { ticket, simTicket: position.ticket, sl, tp, filling: "" } satisfies Sent;
}

type Problem = { readonly retcode: number; readonly why: string } | undefined;

/** TradeModeProblem: SYMBOL_TRADE_MODE for a new order on this side. */
export function tradeModeProblem(info: SymbolInfo, buy: boolean): Problem {
  const symbol = info.symbol;
  if (info.trade_mode === "DISABLED") {
    return { retcode: Retcode.TRADE_DISABLED, why: `trading disabled for ${symbol}` };
  }
  if (info.trade_mode === "CLOSE_ONLY") {
    return { retcode: Retcode.CLOSE_ONLY, why: `${symbol} is close-only` };
  }
  if (info.trade_mode === "LONG_ONLY" && !buy) {
    return { retcode: Retcode.LONG_ONLY, why: `${symbol} is long-only` };
  }
  if (info.trade_mode === "SHORT_ONLY" && buy) {
    return { retcode: Retcode.SHORT_ONLY, why: `${symbol} is short-only` };
  }
  return undefined;
}

/** What OrderModeProblem names each order kind in its refusal. */
const KIND_WORDS: Partial<Record<keyof typeof ORDER_MODE_BITS, string>> = {
  MARKET: "market",
  LIMIT: "limit",
  STOP: "stop",
  STOP_LIMIT: "stop limit",
  CLOSE_BY: "close-by",
};

/**
 * OrderModeProblem: SYMBOL_ORDER_MODE must allow the kind of order (none for a change of
 * levels), and SL/TP when set.
 */
export function orderModeProblem(
  state: FakeEaState,
  info: SymbolInfo,
  kind: keyof typeof ORDER_MODE_BITS | undefined,
  sl: number,
  tp: number,
): Problem {
  const symbol = info.symbol;
  const modes = orderModeFlags(state, info);
  if (kind !== undefined && (modes & ORDER_MODE_BITS[kind]) === 0) {
    return {
      retcode: Retcode.INVALID_ORDER,
      why: `${symbol} allows no ${KIND_WORDS[kind]} orders (SYMBOL_ORDER_MODE)`,
    };
  }
  if (sl > 0 && (modes & ORDER_MODE_BITS.SL) === 0) {
    return {
      retcode: Retcode.INVALID_STOPS,
      why: `${symbol} allows no stop loss (SYMBOL_ORDER_MODE)`,
    };
  }
  if (tp > 0 && (modes & ORDER_MODE_BITS.TP) === 0) {
    return {
      retcode: Retcode.INVALID_STOPS,
      why: `${symbol} allows no take profit (SYMBOL_ORDER_MODE)`,
    };
  }
  return undefined;
}

/** VolumeProblem(): refuse, never round. */
export function volumeCheck(info: SymbolInfo, volume: number): string | undefined {
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

/** RoundToTick: SL/TP on SYMBOL_TRADE_TICK_SIZE's grid, nearest tick. */
export function roundToTick(info: SymbolInfo, price: number): number {
  if (price <= 0) return 0;
  if (info.tick_size <= 0) return normalise(price, info.digits);
  return normalise(Math.round(price / info.tick_size) * info.tick_size, info.digits);
}
