/**
 * The operator's hand on the simulated market (`agent-gtw sim price|jump|volatility`), so a
 * strategy's SL/TP and pending-order paths can be tried in seconds: set a symbol's price, jump it
 * by points or percent, or change how fast it moves. Requests come through the operator channel
 * (requests.ts); a price change is a pinned tick of the sim's history (the market continues from
 * it, history keeps it, durable before the answer) and triggers SL/TP, pending orders and
 * stop-out like any tick. Refused unless the backend is the simulated one: a real account's
 * prices are the market's.
 *
 * Refusals are values with a code, so the command can say exactly what was wrong.
 */
import type { Logger } from "../../shared/log.ts";
import { checkSymbol, ErrorCode } from "../../shared/protocol/index.ts";
import type { Backend } from "../backend/backend.ts";
import { volatilityValueProblem } from "../backend/sim/options.ts";
import { SimBackend } from "../backend/sim/sim-backend.ts";
import type { OperatorResult, RequestBody, RequestHandler } from "./requests.ts";

export const SIM_ACTIONS = ["price", "jump", "volatility"] as const;
export type SimAction = (typeof SIM_ACTIONS)[number];

/** Why a sim request was refused. */
export const SimRefusal = {
  /** The gateway's backend is not the simulated one. */
  SIM_ONLY: "SIM_ONLY",
  UNKNOWN_SYMBOL: ErrorCode.UNKNOWN_SYMBOL,
  /** The symbol's session is closed: a pin would be a tick in a closed market. */
  MARKET_CLOSED: ErrorCode.MARKET_CLOSED,
  INVALID_PRICE: "INVALID_PRICE",
  /** More than a factor PRICE_RANGE from the current price: likely a misplaced decimal point. */
  PRICE_TOO_FAR: "PRICE_TOO_FAR",
  INVALID_VOLATILITY: "INVALID_VOLATILITY",
  INVALID_REQUEST: "INVALID_REQUEST",
} as const;
export type SimRefusal = (typeof SimRefusal)[keyof typeof SimRefusal];

/** A new price more than this factor away from the current one is refused. */
export const PRICE_RANGE = 5;

/** What the command writes (besides `at`). */
export type SimCommand =
  | {
      readonly action: "price";
      readonly symbol: string;
      readonly bid: number;
      readonly ask?: number;
    }
  | { readonly action: "jump"; readonly symbol: string; readonly points: number }
  | { readonly action: "jump"; readonly symbol: string; readonly percent: number }
  | { readonly action: "volatility"; readonly symbol: string; readonly multiplier: number };

export interface SimQuote {
  readonly bid: number;
  readonly ask: number;
}

export interface SimResult extends OperatorResult {
  readonly error_code?: SimRefusal;
  readonly symbol?: string;
  readonly before?: SimQuote;
  readonly after?: SimQuote;
  /** The volatility multiplier in force afterwards. */
  readonly volatility?: number;
  /** Positions on the symbol that the move closed (SL, TP or stop-out). */
  readonly closed?: readonly number[];
}

type Refused = { readonly error: string; readonly error_code: SimRefusal };
const refuse = (error_code: SimRefusal, error: string): Refused => ({ error, error_code });

export interface SimHandlerOptions {
  readonly backend: Backend;
  readonly logger: Logger;
}

/** The gateway side: the handler of `sim` requests. */
export function simHandler(options: SimHandlerOptions): RequestHandler {
  return (request) => runSim(options, request);
}

async function runSim(
  options: SimHandlerOptions,
  request: RequestBody,
): Promise<Omit<SimResult, "id">> {
  const { backend, logger } = options;
  if (!(backend instanceof SimBackend)) {
    return refuse(
      SimRefusal.SIM_ONLY,
      `this gateway's backend is ${backend.kind}: only the simulated market's prices can be set`,
    );
  }
  const command = readSimCommand(request);
  if ("error" in command) return command;
  const { symbol } = command;
  const info = await backend.symbolInfo(symbol);
  if (info === undefined) return refuse(SimRefusal.UNKNOWN_SYMBOL, `the sim has no ${symbol}`);
  const before = { bid: info.bid, ask: info.ask };
  if (command.action === "volatility") {
    await backend.setVolatility(symbol, command.multiplier);
    logger.warn("Operator changed sim volatility", { symbol, volatility: command.multiplier });
    return { symbol, before, after: before, volatility: command.multiplier };
  }
  if (!info.session_open) {
    return refuse(
      SimRefusal.MARKET_CLOSED,
      `${symbol}'s session is closed now; set backend.sim.sessions: always to move prices at any time`,
    );
  }
  const target = moveTarget(before, info.point, command);
  if ("error" in target) return target;
  const open = new Set((await backend.positions(symbol)).map((position) => position.ticket));
  const after = await backend.pinPrice(symbol, target.bid, target.ask);
  const still = new Set((await backend.positions(symbol)).map((position) => position.ticket));
  const closed = [...open].filter((ticket) => !still.has(ticket));
  logger.warn("Operator moved a sim price", {
    symbol,
    bid: after.bid,
    ask: after.ask,
    closed: closed.length,
  });
  return {
    symbol,
    before,
    after: { bid: after.bid, ask: after.ask },
    volatility: backend.volatility(symbol) ?? 1,
    closed,
  };
}

/**
 * Where a price command takes the quote: `price` sets the bid (and the ask, else keeps the
 * spread); `jump` moves both by points or by a percentage of the mid. Prices are rounded to the
 * symbol's digits by the sim.
 */
export function moveTarget(
  quote: SimQuote,
  point: number,
  command: Exclude<SimCommand, { action: "volatility" }>,
): SimQuote | Refused {
  let bid: number;
  let ask: number;
  if (command.action === "price") {
    bid = command.bid;
    ask = command.ask ?? command.bid + (quote.ask - quote.bid);
  } else {
    const mid = (quote.bid + quote.ask) / 2;
    const delta =
      "points" in command
        ? command.points * point
        : Math.round((mid * command.percent) / 100 / point) * point;
    bid = quote.bid + delta;
    ask = quote.ask + delta;
  }
  if (!(bid > 0) || !(ask >= bid)) {
    return refuse(
      SimRefusal.INVALID_PRICE,
      `the move gives bid ${bid} and ask ${ask}; a price must be above 0 with ask >= bid`,
    );
  }
  const ratio = (bid + ask) / (quote.bid + quote.ask);
  if (ratio > PRICE_RANGE || ratio < 1 / PRICE_RANGE) {
    return refuse(
      SimRefusal.PRICE_TOO_FAR,
      `${bid} is more than ${PRICE_RANGE} times away from the current ${quote.bid}; check the decimal point`,
    );
  }
  return { bid, ask };
}

const finite = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);

/** The command in a request file, or why it cannot be run. */
export function readSimCommand(request: RequestBody): SimCommand | Refused {
  const { action, symbol } = request;
  if (!SIM_ACTIONS.includes(action as SimAction)) {
    return refuse(SimRefusal.INVALID_REQUEST, `action must be one of ${SIM_ACTIONS.join(", ")}`);
  }
  const problem = checkSymbol(symbol);
  if (problem !== undefined) return refuse(SimRefusal.INVALID_REQUEST, `symbol ${problem}`);
  const name = symbol as string;
  switch (action as SimAction) {
    case "price": {
      const { bid, ask } = request;
      if (!finite(bid) || (ask !== undefined && !finite(ask)))
        return refuse(SimRefusal.INVALID_PRICE, "bid (and ask, if given) must be numbers");
      return { action: "price", symbol: name, bid, ...(ask === undefined ? {} : { ask }) };
    }
    case "jump": {
      const { points, percent } = request;
      if ((points === undefined) === (percent === undefined))
        return refuse(SimRefusal.INVALID_REQUEST, "a jump needs points or percent (one of them)");
      if (points !== undefined) {
        if (!finite(points) || !Number.isInteger(points) || points === 0)
          return refuse(SimRefusal.INVALID_PRICE, "points must be a whole number other than 0");
        return { action: "jump", symbol: name, points };
      }
      if (!finite(percent) || percent === 0 || Math.abs(percent) >= 100)
        return refuse(SimRefusal.INVALID_PRICE, "percent must be between -100 and 100, not 0");
      return { action: "jump", symbol: name, percent };
    }
    case "volatility": {
      const { multiplier } = request;
      const invalid = finite(multiplier) ? volatilityValueProblem(multiplier) : "must be a number";
      if (invalid !== undefined)
        return refuse(SimRefusal.INVALID_VOLATILITY, `the volatility multiplier ${invalid}`);
      return { action: "volatility", symbol: name, multiplier: multiplier as number };
    }
  }
}
