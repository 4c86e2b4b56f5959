/**
 * The market-data commands (`symbols`, `rates`, `ticks`, `history`) of agent-inf's command
 * table: their usage, options and the API request each makes (docs/API.md §10). Times are
 * checked here with the API's own parser, so a typo is a usage error before anything is sent.
 * market-output.ts prints the answers as they stream.
 */
import { UsageError } from "../../shared/cli.ts";
import { isTimeframe, TICK_KINDS, TIMEFRAMES } from "../../shared/protocol/index.ts";
import { ApiError } from "../api/input.ts";
import { parseTime } from "../api/market-input.ts";
import { gatewayName, symbolName, text, wholeNumber } from "./args.ts";
import type { Action, ArgValues, CommandSpec, MarketView } from "./command.ts";

const GATEWAY_LINE =
  "  --gateway, -g NAME      a configured gateway (default: the config's default one)";
const FORMAT_LINES = [
  "  --csv                   print CSV (what the API answers with Accept: text/csv)",
  "  with --json: the API's JSON as it streams (one row per line)",
].join("\n");
const TIME_LINE =
  "  times: ISO-8601 (2026-12-01, 2026-12-01T10:30:00Z, …+02:00) or Unix seconds; no zone is the broker's server time";
const COMMON = { gateway: { type: "string", short: "g" }, csv: { type: "boolean" } } as const;

/** A time option, checked as the API will read it; passed on as typed. */
function timeOption(values: ArgValues, name: string): string | undefined {
  const value = text(values, name);
  if (value === undefined) return undefined;
  try {
    parseTime(name, value);
  } catch (error) {
    if (error instanceof ApiError)
      throw new UsageError(error.message.replace(`query parameter ${name}`, `--${name}`));
    throw error;
  }
  return value;
}

function marketAction(
  view: MarketView,
  path: string,
  values: ArgValues,
  query: Record<string, string | undefined>,
): Action {
  const search = new URLSearchParams();
  const gateway = text(values, "gateway");
  if (gateway !== undefined) search.set("gateway", gatewayName(gateway));
  for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, value);
  const csv = values["csv"] === true;
  if (csv && values["json"] === true) throw new UsageError("choose one of --json and --csv");
  if (csv && view === "symbols") throw new UsageError("symbols answers JSON only; use --json");
  return { kind: "market", view, path: search.size === 0 ? path : `${path}?${search}`, csv };
}

function count(values: ArgValues, max: number): string | undefined {
  const value = text(values, "count");
  return value === undefined ? undefined : String(wholeNumber("--count", value, 1, max));
}

export const MARKET_COMMANDS: Readonly<Record<string, CommandSpec>> = {
  symbols: {
    group: "data",
    usage: "[--group MASK] [--gateway NAME]",
    summary: "the broker's symbols with their quotes (MT5's symbols_get)",
    details: [
      '  --group MASK            MT5\'s filter: "EUR*", "*,!*JPY*" (comma-separated, ! excludes)',
      GATEWAY_LINE,
    ].join("\n"),
    options: { group: { type: "string" }, ...COMMON },
    json: true,
    build: ({ positionals, values }) => {
      if (positionals.length > 0) throw new UsageError("symbols takes no arguments");
      return marketAction("symbols", "/v1/symbols", values, { group: text(values, "group") });
    },
  },
  rates: {
    group: "data",
    usage:
      "SYMBOL TIMEFRAME [--count N] [--start N] [--from TIME] [--to TIME] [--csv] [--gateway NAME]",
    synopsis:
      "SYMBOL TIMEFRAME [--count N | --start N --count N | --from T --count N | --from T --to T]",
    summary: "bars, oldest first (MT5's copy_rates_from_pos, copy_rates_from, copy_rates_range)",
    details: [
      `  TIMEFRAME               ${TIMEFRAMES.join(" ")}`,
      "  --count N               how many bars: the latest N, or N from --start / up to --from (default 100)",
      "  --start N               position of the newest bar wanted; 0 is the bar being built now",
      "  --from TIME --to TIME   the bars opening in this range",
      TIME_LINE,
      FORMAT_LINES,
      GATEWAY_LINE,
    ].join("\n"),
    options: {
      count: { type: "string", short: "n" },
      start: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      ...COMMON,
    },
    json: true,
    build: ({ positionals, values }) => {
      const [symbol, frame, ...extra] = positionals;
      if (symbol === undefined || frame === undefined || extra.length > 0)
        throw new UsageError("rates needs SYMBOL TIMEFRAME");
      const timeframe = frame.toUpperCase();
      if (!isTimeframe(timeframe))
        throw new UsageError(
          `TIMEFRAME must be one of ${TIMEFRAMES.join(" ")}, was ${JSON.stringify(frame)}`,
        );
      const from = timeOption(values, "from");
      const to = timeOption(values, "to");
      const start = text(values, "start");
      const counted = count(values, 1_000_000) ?? (to === undefined ? "100" : undefined);
      if (
        to !== undefined &&
        (from === undefined || text(values, "count") !== undefined || start !== undefined)
      )
        throw new UsageError("--to goes with --from only");
      if (start !== undefined && from !== undefined)
        throw new UsageError("--start and --from are two ways to say where: give one");
      return marketAction("rates", `/v1/rates/${encodeURIComponent(symbolName(symbol))}`, values, {
        timeframe,
        from,
        to,
        start: start === undefined ? undefined : String(wholeNumber("--start", start, 0, 999_999)),
        count: counted,
      });
    },
  },
  ticks: {
    group: "data",
    usage:
      "SYMBOL --from TIME (--count N | --to TIME) [--flags INFO|TRADE|ALL] [--csv] [--gateway NAME]",
    synopsis: "SYMBOL --from TIME (--count N | --to TIME) [--flags INFO|TRADE|ALL]",
    summary:
      "ticks, oldest first (MT5's copy_ticks_from, copy_ticks_range; a range is at most 31 days)",
    details: [
      "  --from TIME             the first tick at or after this time",
      "  --count N               how many ticks",
      "  --to TIME               or: every tick up to this time",
      `  --flags KIND            ${TICK_KINDS.join(", ")} (default ALL): bid/ask changes, trades, or both`,
      TIME_LINE,
      FORMAT_LINES,
      GATEWAY_LINE,
    ].join("\n"),
    options: {
      from: { type: "string" },
      to: { type: "string" },
      count: { type: "string", short: "n" },
      flags: { type: "string" },
      ...COMMON,
    },
    json: true,
    build: ({ positionals, values }) => {
      const [symbol, ...extra] = positionals;
      if (symbol === undefined || extra.length > 0) throw new UsageError("ticks needs SYMBOL");
      const from = timeOption(values, "from");
      const to = timeOption(values, "to");
      const counted = count(values, 1_000_000);
      if (from === undefined) throw new UsageError("ticks needs --from");
      if ((to === undefined) === (counted === undefined))
        throw new UsageError("ticks needs --count or --to (one of them)");
      const flags = text(values, "flags")?.toUpperCase();
      if (flags !== undefined && !(TICK_KINDS as readonly string[]).includes(flags))
        throw new UsageError(
          `--flags must be one of ${TICK_KINDS.join(", ")}, was ${JSON.stringify(flags)}`,
        );
      return marketAction("ticks", `/v1/ticks/${encodeURIComponent(symbolName(symbol))}`, values, {
        from,
        to,
        count: counted,
        flags,
      });
    },
  },
  history: {
    group: "data",
    usage:
      "deals|orders (--from TIME [--to TIME] [--group MASK] | --position ID | --ticket N) [--csv] [--gateway NAME]",
    synopsis: "deals|orders (--from TIME [--to TIME] [--group MASK] | --position ID | --ticket N)",
    summary: "the account's deal or order history (MT5's history_deals_get, history_orders_get)",
    details: [
      "  --from TIME             from this time (deals by time, orders by setup time)",
      "  --to TIME               up to this time (default: now and later)",
      "  --group MASK            only symbols matching MT5's filter (with --from)",
      "  --position ID           every deal or order of one position",
      "  --ticket N              one deal or order",
      TIME_LINE,
      FORMAT_LINES,
      GATEWAY_LINE,
    ].join("\n"),
    options: {
      from: { type: "string" },
      to: { type: "string" },
      group: { type: "string" },
      position: { type: "string" },
      ticket: { type: "string" },
      ...COMMON,
    },
    json: true,
    build: ({ positionals, values }) => {
      const [what, ...extra] = positionals;
      if ((what !== "deals" && what !== "orders") || extra.length > 0)
        throw new UsageError("history needs deals or orders");
      const from = timeOption(values, "from");
      const to = timeOption(values, "to");
      const position = text(values, "position");
      const ticket = text(values, "ticket");
      const forms = [
        from !== undefined || to !== undefined,
        position !== undefined,
        ticket !== undefined,
      ];
      if (forms.filter(Boolean).length !== 1)
        throw new UsageError(
          "history needs one of --from (with --to, --group), --position, --ticket",
        );
      if (to !== undefined && from === undefined) throw new UsageError("--to goes with --from");
      const group = text(values, "group");
      if (group !== undefined && from === undefined)
        throw new UsageError("--group goes with --from");
      const id = (name: string, value: string | undefined) =>
        value === undefined
          ? undefined
          : String(wholeNumber(name, value, 1, Number.MAX_SAFE_INTEGER));
      return marketAction(what === "deals" ? "deals" : "orders", `/v1/history/${what}`, values, {
        from,
        to,
        group,
        position: id("--position", position),
        ticket: id("--ticket", ticket),
      });
    },
  },
};
