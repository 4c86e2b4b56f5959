/**
 * agent-inf's pending-order commands (issue 15 §5): place, pending, modify-order, cancel,
 * close-by and check, each a request to the running agent's local API (docs/API.md §11), so an
 * order typed by hand passes the same risk checks as a strategy's. Pure, like commands.ts, which
 * lists them with the others.
 */
import { UsageError } from "../../shared/cli.ts";
import {
  MAX_COMMENT_LENGTH,
  MAX_MAGIC,
  PENDING_ORDER_TYPES,
  type PendingOrderType,
} from "../../shared/protocol/index.ts";
import {
  commentOption,
  gatewayName,
  get,
  positiveNumber,
  postOrder,
  priceOrNone,
  stopPrice,
  symbolName,
  text,
  ticketArgument,
  wholeNumber,
} from "./args.ts";
import {
  type Action,
  type ArgValues,
  type CommandSpec,
  GATEWAY_LINE,
  GATEWAY_OPTION,
  ORDER_LINES,
  ORDER_OPTIONS,
} from "./command.ts";

const EXPIRES_LINE =
  "  --expires WHEN          GTC (until cancelled; the default), DAY (the trading day's end), or\n" +
  "                          a time with its zone, 2026-11-20T21:00:00Z (whole seconds)";
const TYPES = PENDING_ORDER_TYPES.join("|");
const SIDES = "BUY|SELL";
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})$/;

/** A pending order's type, in any letter case. */
function orderType(input: string, allowed: readonly string[], what: string): string {
  const upper = input.toUpperCase();
  if (!allowed.includes(upper))
    throw new UsageError(
      `${what} must be one of ${allowed.join(", ")}, was ${JSON.stringify(input)}`,
    );
  return upper;
}

/** --expires: GTC, DAY, or an ISO time with a zone (SPECIFIED, Unix ms on a whole second). */
export function expires(input: string | undefined): { type_time?: string; expiration?: number } {
  if (input === undefined) return {};
  const upper = input.toUpperCase();
  if (upper === "GTC" || upper === "DAY") return { type_time: upper };
  const ms = ISO_TIME.test(input) ? Date.parse(input) : Number.NaN;
  if (!Number.isFinite(ms))
    throw new UsageError(
      `--expires must be GTC, DAY or a time with its zone such as 2026-11-20T21:00:00Z, was ${JSON.stringify(input)}`,
    );
  if (ms % 1000 !== 0)
    throw new UsageError("--expires must be on a whole second (MT5 keeps seconds)");
  return { type_time: "SPECIFIED", expiration: ms };
}

function price(values: ArgValues, name: string): number | undefined {
  return stopPrice(`--${name}`, text(values, name));
}

/** TYPE SYMBOL VOLUME and the order's terms, as PLACE and ORDER_CHECK take them. */
function orderTerms(
  command: string,
  positionals: readonly string[],
  values: ArgValues,
  types: readonly string[],
): Record<string, unknown> {
  const [type, symbol, volume, ...extra] = positionals;
  if (type === undefined || symbol === undefined || volume === undefined || extra.length > 0)
    throw new UsageError(`${command} needs TYPE SYMBOL VOLUME`);
  return {
    type: orderType(type, types, "TYPE"),
    symbol: symbolName(symbol),
    volume: positiveNumber("VOLUME", volume),
    price: price(values, "price"),
    stoplimit: price(values, "stoplimit"),
    sl: price(values, "sl"),
    tp: price(values, "tp"),
    ...expires(text(values, "expires")),
  };
}

const TERMS_OPTIONS = {
  price: { type: "string" },
  stoplimit: { type: "string" },
  sl: { type: "string" },
  tp: { type: "string" },
  expires: { type: "string" },
} as const;

const TERMS_LINES = [
  "  --price PRICE           the order price: the limit or stop price (a stop-limit's trigger)",
  "  --stoplimit PRICE       stop-limit types: the price of the limit order placed on the trigger",
  "  --sl PRICE / --tp PRICE stop-loss / take-profit, from the price the order opens at",
  EXPIRES_LINE,
];

export const PENDING_COMMANDS: Readonly<Record<string, CommandSpec>> = {
  place: {
    group: "orders",
    usage: `${TYPES} SYMBOL VOLUME --price PRICE [--stoplimit PRICE] [--sl PRICE] [--tp PRICE] [--expires GTC|DAY|TIME] [--filling FOK|IOC|RETURN] [--magic N] [--comment TEXT] [--client-order-id ID] [--gateway NAME]`,
    synopsis:
      "TYPE SYMBOL VOLUME --price PRICE [--sl PRICE] [--tp PRICE] [--expires WHEN] [options]",
    summary: "place a pending order: a limit, stop or stop-limit (risk-checked from its own price)",
    details: [
      `  TYPE                    ${PENDING_ORDER_TYPES.join(", ")}`,
      ...TERMS_LINES,
      "  --filling MODE          FOK, IOC or RETURN (default: as for market orders)",
      "  --magic N               expert magic number",
      `  --comment TEXT          order comment (≤ ${MAX_COMMENT_LENGTH} characters)`,
      ...ORDER_LINES,
    ].join("\n"),
    options: {
      ...TERMS_OPTIONS,
      filling: { type: "string" },
      magic: { type: "string" },
      comment: { type: "string" },
      ...ORDER_OPTIONS,
    },
    json: true,
    build: ({ positionals, values }) => {
      const terms = orderTerms("place", positionals, values, PENDING_ORDER_TYPES);
      if (terms["price"] === undefined) throw new UsageError("place needs --price PRICE");
      const filling = text(values, "filling");
      const magic = text(values, "magic");
      return postOrder("/v1/pending", values, {
        ...terms,
        type_filling:
          filling === undefined
            ? undefined
            : orderType(filling, ["FOK", "IOC", "RETURN"], "--filling"),
        magic: magic === undefined ? undefined : wholeNumber("--magic", magic, 0, MAX_MAGIC),
        comment: commentOption(values),
      });
    },
  },
  pending: {
    group: "orders",
    usage: "[--symbol SYMBOL | --group MASKS | --ticket TICKET] [--gateway NAME]",
    summary: 'pending orders: all, of a symbol, of a group ("*USD*,!EUR*") or one by ticket',
    details: [
      "  --symbol SYMBOL         only this symbol's orders",
      "  --group MASKS           symbols matching the masks, as MT5's orders_get(group=...)",
      "  --ticket TICKET         only this order",
      GATEWAY_LINE,
    ].join("\n"),
    options: {
      symbol: { type: "string" },
      group: { type: "string" },
      ticket: { type: "string" },
      ...GATEWAY_OPTION,
    },
    json: true,
    build: ({ positionals, values }) => {
      if (positionals.length > 0)
        throw new UsageError(`pending takes no arguments, was given ${positionals.join(" ")}`);
      const symbol = text(values, "symbol");
      const group = text(values, "group");
      const ticket = text(values, "ticket");
      if ([symbol, group, ticket].filter((value) => value !== undefined).length > 1)
        throw new UsageError("pending takes at most one of --symbol, --group and --ticket");
      return get("pending", "/v1/pending", values, {
        symbol: symbol === undefined ? undefined : symbolName(symbol),
        group,
        ticket:
          ticket === undefined
            ? undefined
            : String(wholeNumber("--ticket", ticket, 1, Number.MAX_SAFE_INTEGER)),
      });
    },
  },
  "modify-order": {
    group: "orders",
    usage:
      "TICKET [--price PRICE] [--stoplimit PRICE] [--sl PRICE|none] [--tp PRICE|none] [--expires GTC|DAY|TIME] [--client-order-id ID] [--gateway NAME]",
    synopsis:
      "TICKET [--price PRICE] [--sl PRICE|none] [--tp PRICE|none] [--expires WHEN] [options]",
    summary: "change a pending order's price, stop-limit price, stops or expiration",
    details: [
      ...TERMS_LINES.map((line) =>
        line.replace("stop-loss / take-profit", "new SL / TP; none removes it"),
      ),
      ...ORDER_LINES,
    ].join("\n"),
    options: { ...TERMS_OPTIONS, ...ORDER_OPTIONS },
    json: true,
    build: ({ positionals, values }) => {
      const ticket = ticketArgument("modify-order", positionals);
      const sl = text(values, "sl");
      const tp = text(values, "tp");
      const fields = {
        price: price(values, "price"),
        stoplimit: price(values, "stoplimit"),
        sl: sl === undefined ? undefined : priceOrNone("--sl", sl),
        tp: tp === undefined ? undefined : priceOrNone("--tp", tp),
        ...expires(text(values, "expires")),
      };
      if (Object.values(fields).every((value) => value === undefined))
        throw new UsageError(
          "modify-order needs one of --price, --stoplimit, --sl, --tp and --expires",
        );
      return postOrder(`/v1/pending/${ticket}/modify`, values, fields);
    },
  },
  cancel: {
    group: "orders",
    usage: "TICKET [--operator] [--client-order-id ID] [--gateway NAME]",
    summary: "cancel a pending order (allowed while REDUCING; while HALTED with --operator)",
    details: [
      "  --operator              send with the operator token: cancels while this host is HALTED",
      ...ORDER_LINES,
    ].join("\n"),
    options: {
      operator: { type: "boolean" },
      ...ORDER_OPTIONS,
    },
    json: true,
    build: ({ positionals, values }) => {
      const action = postOrder(
        `/v1/pending/${ticketArgument("cancel", positionals)}/cancel`,
        values,
        {},
      );
      return values["operator"] === true ? asOperator(action) : action;
    },
  },
  "close-by": {
    group: "orders",
    usage: "TICKET TICKET_BY [--comment TEXT] [--client-order-id ID] [--gateway NAME]",
    summary: "close a position by an opposite one on the same symbol (hedging accounts)",
    details: [
      `  --comment TEXT          the close-by order's comment (≤ ${MAX_COMMENT_LENGTH} characters)`,
      ...ORDER_LINES,
    ].join("\n"),
    options: {
      comment: { type: "string" },
      ...ORDER_OPTIONS,
    },
    json: true,
    build: ({ positionals, values }) => {
      const [ticket, ticketBy, ...extra] = positionals;
      if (ticket === undefined || ticketBy === undefined || extra.length > 0)
        throw new UsageError("close-by needs TICKET TICKET_BY");
      return postOrder(`/v1/positions/${ticketArgument("close-by", [ticket])}/close-by`, values, {
        ticket_by: wholeNumber("TICKET_BY", ticketBy, 1, Number.MAX_SAFE_INTEGER),
        comment: commentOption(values),
      });
    },
  },
  check: {
    group: "orders",
    usage: `BUY|SELL|${TYPES} SYMBOL VOLUME [--price PRICE] [--stoplimit PRICE] [--sl PRICE] [--tp PRICE] [--expires WHEN] | margin ${SIDES} SYMBOL VOLUME --price PRICE | profit ${SIDES} SYMBOL VOLUME --open PRICE --close PRICE [--gateway NAME]`,
    synopsis: "TYPE SYMBOL VOLUME [--price PRICE] [options] | margin ... | profit ...",
    summary: "ask MT5 what an order would do (OrderCheck), or its margin or profit; sends nothing",
    details: [
      "  TYPE SYMBOL VOLUME      MT5's order check of a market (BUY, SELL) or pending order: the",
      "                          retcode it would get and the account after it",
      ...TERMS_LINES,
      "  margin SIDE SYMBOL VOLUME --price PRICE",
      "                          the margin one trade needs (OrderCalcMargin)",
      "  profit SIDE SYMBOL VOLUME --open PRICE --close PRICE",
      "                          the profit of one trade between two prices (OrderCalcProfit)",
      GATEWAY_LINE,
      "  exit code: 0 MT5 would accept (or a calculation), 6 MT5 would refuse",
    ].join("\n"),
    options: {
      ...TERMS_OPTIONS,
      open: { type: "string" },
      close: { type: "string" },
      ...GATEWAY_OPTION,
    },
    json: true,
    build: ({ positionals, values }) => check(positionals, values),
  },
};

function check(positionals: readonly string[], values: ArgValues): Action {
  const [kind, ...rest] = positionals;
  if (kind === "margin" || kind === "profit") {
    const [side, symbol, volume, ...extra] = rest;
    if (side === undefined || symbol === undefined || volume === undefined || extra.length > 0)
      throw new UsageError(`check ${kind} needs ${SIDES} SYMBOL VOLUME`);
    const needed = (name: string) => {
      const value = price(values, name);
      if (value === undefined) throw new UsageError(`check ${kind} needs --${name} PRICE`);
      return value;
    };
    const body = {
      type: orderType(side, ["BUY", "SELL"], "the side"),
      symbol: symbolName(symbol),
      volume: positiveNumber("VOLUME", volume),
      ...(kind === "margin"
        ? { price: needed("price") }
        : { price_open: needed("open"), price_close: needed("close") }),
    };
    return post("calc", `/v1/check/${kind}`, values, body);
  }
  const terms = orderTerms("check", positionals, values, ["BUY", "SELL", ...PENDING_ORDER_TYPES]);
  if (
    terms["price"] === undefined &&
    (PENDING_ORDER_TYPES as readonly string[]).includes(terms["type"] as PendingOrderType)
  )
    throw new UsageError(`check of a ${terms["type"] as string} needs --price PRICE`);
  return post("order-check", "/v1/check", values, terms);
}

/** A read that takes a body (the checks): POST, no client_order_id. */
function post(
  view: "order-check" | "calc",
  path: string,
  values: ArgValues,
  fields: Record<string, unknown>,
): Action {
  const gateway = text(values, "gateway");
  const body: Record<string, unknown> =
    gateway === undefined ? {} : { gateway: gatewayName(gateway) };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) body[key] = value;
  return { kind: "api", view, call: { method: "POST", path, body } };
}

function asOperator(action: Action): Action {
  return action.kind === "api" ? { ...action, call: { ...action.call, role: "operator" } } : action;
}
