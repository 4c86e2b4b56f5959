/**
 * Test-only: the fake EA's pending-order builds (EA-LINK §10.6; BuildPlace, BuildModifyOrder,
 * BuildCancel and BuildCloseBy in BridgePending.mqh), in the EA's order of checks. Whatever a
 * trade server decides (placement distances, stops and freeze levels, money, expiry in market
 * time) is the simulated broker's: PLACE's OrderCheck is the sim's own check of the request, and
 * OrderSend is the sim call the request amounts to, so those rules have one home.
 */
import {
  type FillingMode,
  isStopLimit,
  ORDER_TIME_TYPES,
  type OrderTimeType,
  orderSide,
  PENDING_ORDER_TYPES,
  type PendingOrderType,
  Retcode,
  type SymbolInfo,
} from "../../../../shared/protocol/index.ts";
import type { EaRecord, FlatObject } from "./ea-json.ts";
import { err, type FakeEaState, fillingFor } from "./fake-reads.ts";
import {
  commonProblem,
  isReply,
  orderModeProblem,
  positionNamed,
  type Refuse,
  roundToTick,
  type Sent,
  selectPosition,
  tradeModeProblem,
  volumeCheck,
} from "./fake-trade-build.ts";
import { EXPIRATION_BITS } from "./fake-translate.ts";

const FILLINGS: readonly string[] = ["FOK", "IOC", "RETURN"];

/** An optional price field: absent → 0; present but not a number or negative → undefined. */
function price(request: FlatObject, key: string): number | undefined {
  if (!request.has(key)) return 0;
  const value = request.number(key);
  return value === undefined || value < 0 ? undefined : value;
}

/** LifetimeFields: type_time (default GTC) and expiration (server ms, SPECIFIED* only). */
function lifetime(
  request: FlatObject,
  state: FakeEaState,
): { typeTime: OrderTimeType; expiration: number } | string {
  const name = request.has("type_time") ? request.string("type_time") : "GTC";
  if (name === undefined || !(ORDER_TIME_TYPES as readonly string[]).includes(name)) {
    return "type_time must be GTC, DAY, SPECIFIED or SPECIFIED_DAY";
  }
  const serverMs = request.has("expiration") ? request.integer("expiration") : 0;
  const specified = name === "SPECIFIED" || name === "SPECIFIED_DAY";
  if (serverMs === undefined || serverMs < 0 || specified !== serverMs > 0) {
    return "expiration (server ms) is required for SPECIFIED and SPECIFIED_DAY, and only for them";
  }
  return {
    typeTime: name as OrderTimeType,
    expiration: serverMs === 0 ? 0 : state.broker.toUnix(serverMs),
  };
}

/** ExpirationProblem: SYMBOL_EXPIRATION_MODE must allow the lifetime. */
function expirationProblem(info: SymbolInfo, typeTime: OrderTimeType): string | undefined {
  const allowed = (info.expiration_modes ?? []).reduce((bits, m) => bits | EXPIRATION_BITS[m], 0);
  if ((allowed & EXPIRATION_BITS[typeTime]) !== 0) return undefined;
  return `${info.symbol} does not allow ${typeTime} orders (SYMBOL_EXPIRATION_MODE)`;
}

/** The terms PLACE and ORDER_CHECK share, as OrderTerms() reads them. */
export interface Terms {
  readonly symbol: string;
  readonly type: PendingOrderType | "BUY" | "SELL";
  readonly volume: number;
  /** 0 for a market type without one. */
  readonly price: number;
  readonly stoplimit: number;
  readonly sl: number;
  readonly tp: number;
  readonly typeTime: OrderTimeType;
  /** Unix ms, 0 = none. */
  readonly expiration: number;
  /** "" = the EA's choice (FillingFor). */
  readonly filling: string;
}

/** OrderTerms(): a BAD_REQUEST reply, or the terms; market types only when `market`. */
export function orderTerms(
  request: FlatObject,
  state: FakeEaState,
  market: boolean,
): { readonly terms: Terms } | { readonly reply: EaRecord } {
  const symbol = request.string("symbol");
  const typeName = request.string("order_type");
  const volume = request.number("volume");
  if (symbol === undefined || typeName === undefined || volume === undefined) {
    return { reply: err("BAD_REQUEST", "symbol, order_type and volume are required") };
  }
  const types: readonly string[] = market
    ? ["BUY", "SELL", ...PENDING_ORDER_TYPES]
    : PENDING_ORDER_TYPES;
  if (!types.includes(typeName)) {
    return { reply: err("BAD_REQUEST", `order_type must be one of ${types.join(", ")}`) };
  }
  const type = typeName as Terms["type"];
  const pending = type !== "BUY" && type !== "SELL";
  const at = price(request, "price");
  if (volume <= 0 || at === undefined || (pending && at <= 0)) {
    return { reply: err("BAD_REQUEST", "volume must be > 0, and price > 0 for a pending order") };
  }
  const stoplimit = price(request, "stoplimit");
  if (stoplimit === undefined || isStopLimit(type) !== stoplimit > 0) {
    return {
      reply: err(
        "BAD_REQUEST",
        "stoplimit (> 0) is required for stop-limit types, and only for them",
      ),
    };
  }
  const sl = price(request, "sl");
  const tp = price(request, "tp");
  if (sl === undefined || tp === undefined) {
    return { reply: err("BAD_REQUEST", "sl and tp must be prices >= 0 (0 = none)") };
  }
  const life = lifetime(request, state);
  if (typeof life === "string") return { reply: err("BAD_REQUEST", life) };
  const filling = request.has("filling") ? request.string("filling") : "";
  if (filling === undefined || (filling !== "" && !FILLINGS.includes(filling))) {
    return { reply: err("BAD_REQUEST", "filling must be FOK, IOC or RETURN") };
  }
  return { terms: { symbol, type, volume, price: at, stoplimit, sl, tp, ...life, filling } };
}

export async function buildPlace(
  state: FakeEaState,
  request: FlatObject,
  refuse: Refuse,
): Promise<EaRecord | Sent> {
  const read = orderTerms(request, state, false);
  if ("reply" in read) return read.reply;
  const parsed = read.terms;
  const { symbol, volume, sl, tp } = parsed;
  const type = parsed.type as PendingOrderType;
  const common = commonProblem(request);
  if (common !== undefined) return common;
  const info = await state.sim.symbolInfo(symbol);
  if (info === undefined) return err("UNKNOWN_SYMBOL", `unknown symbol ${symbol}`);
  const tradeMode = tradeModeProblem(info, orderSide(type) === "BUY");
  if (tradeMode !== undefined) return refuse(tradeMode.retcode, tradeMode.why);
  const kind = isStopLimit(type) ? "STOP_LIMIT" : type.endsWith("LIMIT") ? "LIMIT" : "STOP";
  const modeProblem = orderModeProblem(state, info, kind, sl, tp);
  if (modeProblem !== undefined) return refuse(modeProblem.retcode, modeProblem.why);
  const expiry = expirationProblem(info, parsed.typeTime);
  if (expiry !== undefined) return refuse(Retcode.INVALID_EXPIRATION, expiry);
  if (volume > state.maxLots + 1e-9) {
    return refuse(Retcode.INVALID_VOLUME, `volume above the EA's InpMaxLots ${state.maxLots}`);
  }
  const volumeProblem = volumeCheck(info, volume);
  if (volumeProblem !== undefined) return refuse(Retcode.INVALID_VOLUME, volumeProblem);
  if (!(info.bid > 0 && info.ask > 0)) return refuse(Retcode.PRICE_OFF, `no quote for ${symbol}`);
  const terms = { ...requestTerms(state, request, info, parsed), type };
  return {
    symbol,
    sl: terms.sl ?? 0,
    tp: terms.tp ?? 0,
    filling: terms.filling,
    check: () => state.sim.orderCheck({ ...terms, deviation: state.deviation }),
    call: (coid) => state.sim.placeOrder({ ...terms, clientOrderId: coid }),
  } satisfies Sent;
}

/** SetOrderTerms(): the terms as the request carries them, prices on the tick grid. */
export function requestTerms(
  state: FakeEaState,
  request: FlatObject,
  info: SymbolInfo,
  terms: Terms,
) {
  const level = (value: number) => (value === 0 ? null : roundToTick(info, value));
  return {
    symbol: terms.symbol,
    volume: terms.volume,
    price: roundToTick(info, terms.price),
    stoplimit: level(terms.stoplimit),
    sl: level(terms.sl),
    tp: level(terms.tp),
    typeTime: terms.typeTime,
    expiration: terms.expiration,
    filling: (terms.filling === "" ? fillingFor(info) : terms.filling) as FillingMode,
    magic: request.integer("magic") ?? state.magic,
    comment: request.string("comment") ?? "",
  };
}

/** OrderSelect(ticket) among the active orders; undefined when it is not there. */
async function selectOrder(state: FakeEaState, ticket: number) {
  return (await state.sim.orders({ ticket }))[0];
}

export async function buildModifyOrder(
  state: FakeEaState,
  request: FlatObject,
  refuse: Refuse,
): Promise<EaRecord | Sent> {
  const ticket = request.integer("ticket");
  if (ticket === undefined || ticket <= 0) return err("BAD_REQUEST", "ticket is required");
  const prices = ["price", "stoplimit", "sl", "tp"].map((key) => price(request, key));
  const [at, stoplimit, sl, tp] = prices;
  const positive = (key: string, value: number | undefined) => !request.has(key) || value !== 0;
  if (prices.includes(undefined) || !positive("price", at) || !positive("stoplimit", stoplimit)) {
    return err("BAD_REQUEST", "price and stoplimit must be > 0, sl and tp >= 0 (0 = none)");
  }
  const timeName = request.string("type_time");
  const expiration = request.integer("expiration");
  if (
    (request.has("type_time") &&
      (timeName === undefined || !(ORDER_TIME_TYPES as readonly string[]).includes(timeName))) ||
    (request.has("expiration") && (expiration === undefined || expiration < 0))
  ) {
    return err("BAD_REQUEST", "type_time must be an ORDER_TIME name, expiration server ms >= 0");
  }
  const order = await selectOrder(state, ticket);
  if (order === undefined) return refuse(Retcode.INVALID, `order ${ticket} not found`);
  if (request.has("stoplimit") && !isStopLimit(order.type)) {
    return refuse(Retcode.INVALID, `order ${ticket} is not a stop-limit order`);
  }
  const info = (await state.sim.symbolInfo(order.symbol)) as SymbolInfo;
  // Omitted fields keep the order's own (TRADE_ACTION_MODIFY needs them all)
  const final = {
    price: roundToTick(info, request.has("price") ? (at as number) : order.price_open),
    stoplimit: request.has("stoplimit")
      ? roundToTick(info, stoplimit as number)
      : order.price_stoplimit,
    sl: roundToTick(info, request.has("sl") ? (sl as number) : (order.sl ?? 0)),
    tp: roundToTick(info, request.has("tp") ? (tp as number) : (order.tp ?? 0)),
  };
  const modeProblem = orderModeProblem(state, info, undefined, final.sl, final.tp);
  if (modeProblem !== undefined) return refuse(modeProblem.retcode, modeProblem.why);
  if (timeName !== undefined) {
    const expiry = expirationProblem(info, timeName as OrderTimeType);
    if (expiry !== undefined) return refuse(Retcode.INVALID_EXPIRATION, expiry);
  }
  // A new lifetime without an expiration has none; an untouched lifetime is the order's own
  const newExpiration =
    expiration !== undefined
      ? expiration === 0
        ? 0
        : state.broker.toUnix(expiration)
      : timeName !== undefined
        ? 0
        : undefined;
  return {
    sl: final.sl,
    tp: final.tp,
    filling: "",
    call: (coid) =>
      state.sim.modifyOrder({
        clientOrderId: coid,
        ticket,
        price: final.price,
        stoplimit: final.stoplimit ?? undefined,
        sl: final.sl === 0 ? null : final.sl,
        tp: final.tp === 0 ? null : final.tp,
        typeTime: timeName as OrderTimeType | undefined,
        expiration: newExpiration,
      }),
  } satisfies Sent;
}

export async function buildCancel(
  state: FakeEaState,
  request: FlatObject,
  refuse: Refuse,
): Promise<EaRecord | Sent> {
  const ticket = request.integer("ticket");
  if (ticket === undefined || ticket <= 0) return err("BAD_REQUEST", "ticket is required");
  if ((await selectOrder(state, ticket)) === undefined) {
    return refuse(Retcode.INVALID, `order ${ticket} not found`);
  }
  return {
    sl: 0,
    tp: 0,
    filling: "",
    call: (coid) => state.sim.cancelOrder({ clientOrderId: coid, ticket }),
  } satisfies Sent;
}

export async function buildCloseBy(
  state: FakeEaState,
  request: FlatObject,
  refuse: Refuse,
): Promise<EaRecord | Sent> {
  const by = request.integer("ticket_by");
  if (by === undefined || by <= 0) return err("BAD_REQUEST", "ticket_by is required");
  const common = commonProblem(request);
  if (common !== undefined) return common;
  const selected = await positionNamed(state, request, refuse);
  if (isReply(selected)) return selected;
  const ticket = selected.current;
  const opposite = await selectPosition(state, by);
  if (opposite === undefined) {
    return refuse(Retcode.POSITION_CLOSED, `position ${by} not found`, ticket);
  }
  const info = (await state.sim.symbolInfo(selected.position.symbol)) as SymbolInfo;
  const modeProblem = orderModeProblem(state, info, "CLOSE_BY", 0, 0);
  if (modeProblem !== undefined) return refuse(modeProblem.retcode, modeProblem.why, ticket);
  return {
    ticket,
    sl: 0,
    tp: 0,
    filling: "",
    call: (coid) =>
      state.sim.closeBy({
        clientOrderId: coid,
        ticket: selected.position.ticket,
        ticketBy: opposite.position.ticket,
        magic: request.integer("magic") ?? state.magic,
        comment: request.string("comment") ?? "",
      }),
  } satisfies Sent;
}
