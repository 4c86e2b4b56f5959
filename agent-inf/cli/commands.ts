/**
 * agent-inf's command table: every command with its usage, help text, options, and the function
 * that turns its parsed arguments into what to do (a request to the local API, a ping, the
 * service). Pure: nothing here reads the disk or the network. command-line.ts parses and
 * dispatches.
 */
import { UsageError } from "../../shared/cli.ts";
import { parseLevel } from "../../shared/log.ts";
import {
  COMMENT_TAG_LENGTH,
  MAX_COMMENT_LENGTH,
  MAX_DEVIATION_POINTS,
  MAX_MAGIC,
} from "../../shared/protocol/index.ts";
import { CRYPTO_BACKEND_HELP } from "../../shared/sodium/install.ts";
import { INFERENCE_VERSION } from "../version.ts";
import {
  clientOrderId,
  control,
  gatewayName,
  get,
  noArguments,
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
  CONFIG_ENV,
  CONFIG_FILE,
  type CommandSpec,
  type Group,
  PING_MAX_COUNT,
  PROGRAM,
} from "./command.ts";
import { MARKET_COMMANDS } from "./market-commands.ts";

const GATEWAY_OPTION = { gateway: { type: "string", short: "g" } } as const;
const GATEWAY_LINE =
  "  --gateway, -g NAME      a configured gateway (default: the config's default one)";
const ORDER_ID_LINE =
  "  --client-order-id ID    idempotency key (≤ 24 of A-Z a-z 0-9 _ -); a repeat returns the first outcome";

export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  run: {
    group: "service",
    usage: "[--log-level LEVEL]",
    summary: "run the agent and its local strategy API (the default command)",
    details:
      "  --log-level LEVEL       silent, error, warn, info or debug (default: the config's log.level)",
    options: { "log-level": { type: "string" } },
    json: false,
    build: ({ positionals, values }) => {
      noArguments("run", positionals);
      const flag = text(values, "log-level");
      if (flag === undefined) return { kind: "run" };
      const logLevel = parseLevel(flag);
      if (logLevel === undefined)
        throw new UsageError(`--log-level must be silent, error, warn, info or debug, was ${flag}`);
      return { kind: "run", logLevel };
    },
  },
  // `keygen`, `service` and `upgrade` parse their own arguments (shared/keys/keygen-command.ts,
  // shared/service/systemd.ts, shared/service/upgrade-command.ts, shared with agent-gtw);
  // command-line.ts dispatches them before this table.
  open: {
    group: "orders",
    usage:
      "BUY|SELL SYMBOL VOLUME [--sl PRICE] [--tp PRICE] [--deviation N] [--magic N] [--comment TEXT] [--client-order-id ID] [--gateway NAME]",
    synopsis: "BUY|SELL SYMBOL VOLUME [--sl PRICE] [--tp PRICE] [options]",
    summary: "open a market position (risk-checked and signed like a strategy's order)",
    details: [
      "  --sl PRICE / --tp PRICE stop-loss / take-profit price",
      "  --deviation N           maximum slippage in points",
      "  --magic N               expert magic number for the position",
      `  --comment TEXT          position comment (≤ ${MAX_COMMENT_LENGTH} characters; MT5 keeps the first ${MAX_COMMENT_LENGTH - COMMENT_TAG_LENGTH - 1} after the bridge's tag)`,
      ORDER_ID_LINE,
      GATEWAY_LINE,
    ].join("\n"),
    options: {
      sl: { type: "string" },
      tp: { type: "string" },
      deviation: { type: "string" },
      magic: { type: "string" },
      comment: { type: "string" },
      "client-order-id": { type: "string" },
      ...GATEWAY_OPTION,
    },
    json: true,
    build: ({ positionals, values }) => {
      const [side, symbol, volume, ...extra] = positionals;
      if (side === undefined || symbol === undefined || volume === undefined || extra.length > 0)
        throw new UsageError("open needs BUY|SELL SYMBOL VOLUME");
      const upper = side.toUpperCase();
      if (upper !== "BUY" && upper !== "SELL")
        throw new UsageError(`the side must be BUY or SELL, was ${JSON.stringify(side)}`);
      const comment = text(values, "comment");
      if (comment !== undefined && comment.length > MAX_COMMENT_LENGTH)
        throw new UsageError(
          `--comment must be at most ${MAX_COMMENT_LENGTH} characters, was ${comment.length}`,
        );
      const deviation = text(values, "deviation");
      const magic = text(values, "magic");
      return postOrder("/v1/orders", values, {
        symbol: symbolName(symbol),
        side: upper,
        volume: positiveNumber("VOLUME", volume),
        sl: stopPrice("--sl", text(values, "sl")),
        tp: stopPrice("--tp", text(values, "tp")),
        deviation:
          deviation === undefined
            ? undefined
            : wholeNumber("--deviation", deviation, 0, MAX_DEVIATION_POINTS),
        magic: magic === undefined ? undefined : wholeNumber("--magic", magic, 0, MAX_MAGIC),
        comment,
      });
    },
  },
  close: {
    group: "orders",
    usage: "TICKET [--volume LOTS] [--client-order-id ID] [--gateway NAME]",
    summary: "close a position, in full or (--volume) in part",
    details: [
      "  --volume LOTS           lots to close (default: the whole position)",
      ORDER_ID_LINE,
      GATEWAY_LINE,
    ].join("\n"),
    options: {
      volume: { type: "string" },
      "client-order-id": { type: "string" },
      ...GATEWAY_OPTION,
    },
    json: true,
    build: ({ positionals, values }) => {
      const volume = text(values, "volume");
      return postOrder(`/v1/positions/${ticketArgument("close", positionals)}/close`, values, {
        volume: volume === undefined ? undefined : positiveNumber("--volume", volume),
      });
    },
  },
  modify: {
    group: "orders",
    usage: "TICKET [--sl PRICE|none] [--tp PRICE|none] [--client-order-id ID] [--gateway NAME]",
    summary: "change a position's stop-loss and/or take-profit (none removes it)",
    details: [
      "  --sl PRICE|none         new stop-loss; none removes it; omitted keeps it",
      "  --tp PRICE|none         new take-profit; none removes it; omitted keeps it",
      ORDER_ID_LINE,
      GATEWAY_LINE,
    ].join("\n"),
    options: {
      sl: { type: "string" },
      tp: { type: "string" },
      "client-order-id": { type: "string" },
      ...GATEWAY_OPTION,
    },
    json: true,
    build: ({ positionals, values }) => {
      const ticket = ticketArgument("modify", positionals);
      const sl = text(values, "sl");
      const tp = text(values, "tp");
      if (sl === undefined && tp === undefined)
        throw new UsageError("modify needs --sl and/or --tp");
      return postOrder(`/v1/positions/${ticket}/modify`, values, {
        sl: sl === undefined ? undefined : priceOrNone("--sl", sl),
        tp: tp === undefined ? undefined : priceOrNone("--tp", tp),
      });
    },
  },
  order: {
    group: "orders",
    usage: "CLIENT_ORDER_ID [--gateway NAME]",
    summary: "what the gateway recorded for an order (after an UNKNOWN outcome, for example)",
    details: [
      GATEWAY_LINE,
      "  exit code: 0 FILLED, 1 never seen, 4 PENDING or UNKNOWN, 6 REJECTED, 7 NOT_EXECUTED",
    ].join("\n"),
    options: { ...GATEWAY_OPTION },
    json: true,
    build: ({ positionals, values }) => {
      const [id, ...extra] = positionals;
      if (id === undefined || extra.length > 0) throw new UsageError("order needs CLIENT_ORDER_ID");
      return get("order-record", `/v1/orders/${clientOrderId(id)}`, values);
    },
  },
  account: {
    group: "data",
    usage: "[--gateway NAME]",
    summary: "balance, equity and margin of the gateway's MT5 account",
    details: GATEWAY_LINE,
    options: { ...GATEWAY_OPTION },
    json: true,
    build: ({ positionals, values }) => {
      noArguments("account", positionals);
      return get("account", "/v1/account", values);
    },
  },
  positions: {
    group: "data",
    usage: "[--symbol SYMBOL] [--gateway NAME]",
    summary: "open positions",
    details: ["  --symbol SYMBOL         only this symbol's positions", GATEWAY_LINE].join("\n"),
    options: { symbol: { type: "string" }, ...GATEWAY_OPTION },
    json: true,
    build: ({ positionals, values }) => {
      noArguments("positions", positionals);
      const symbol = text(values, "symbol");
      return get("positions", "/v1/positions", values, {
        symbol: symbol === undefined ? undefined : symbolName(symbol),
      });
    },
  },
  symbol: {
    group: "data",
    usage: "SYMBOL [--gateway NAME]",
    summary: "a symbol's quote and trading specification",
    details: GATEWAY_LINE,
    options: { ...GATEWAY_OPTION },
    json: true,
    build: ({ positionals, values }) => {
      const [symbol, ...extra] = positionals;
      if (symbol === undefined || extra.length > 0) throw new UsageError("symbol needs SYMBOL");
      return get("symbol", `/v1/symbols/${encodeURIComponent(symbolName(symbol))}`, values);
    },
  },
  ...MARKET_COMMANDS,
  watch: {
    group: "data",
    usage: "SYMBOL [SYMBOL...] [--count N] [--gateway NAME]",
    summary: "live quotes from the agent's stream, one updating line per symbol (Ctrl-C stops)",
    details: [
      "  --count, -n N           stop after N quote updates",
      GATEWAY_LINE,
      "  with --json: the stream's messages (quotes, fills, SL/TP hits), one JSON per line",
    ].join("\n"),
    options: { count: { type: "string", short: "n" }, ...GATEWAY_OPTION },
    json: true,
    build: ({ positionals, values }) => {
      if (positionals.length === 0) throw new UsageError("watch needs at least one SYMBOL");
      if (positionals.length > 64) throw new UsageError("watch takes at most 64 symbols");
      const symbols = [...new Set(positionals.map(symbolName))];
      const count = text(values, "count");
      const gateway = text(values, "gateway");
      return {
        kind: "watch",
        symbols,
        ...(count === undefined ? {} : { count: wholeNumber("--count", count, 1, 1_000_000_000) }),
        ...(gateway === undefined ? {} : { gateway: gatewayName(gateway) }),
      };
    },
  },
  status: {
    group: "operator",
    usage: "",
    summary:
      "per gateway: connection, heartbeat, latency, clock offset, breaker, trading state, MT5 link, and what would make orders fail",
    details:
      "  exit code: 0 when every gateway is ok; 1 when something fails or will soon fail orders (each named with its fix: clock offset, gateway name, connection, MT5 link), or the agent is not running",
    options: {},
    json: true,
    build: ({ positionals }) => {
      noArguments("status", positionals);
      return { kind: "api", view: "health", call: { method: "GET", path: "/v1/health" } };
    },
  },
  halt: stateCommand("halt", "HALTED", "no orders at all"),
  reduce: stateCommand("reduce", "REDUCING", "closes only, no new positions"),
  resume: stateCommand("resume", "ACTIVE", "trade normally"),
  breaker: {
    group: "operator",
    usage: "engage|reset [--reason TEXT] [--gateway NAME]",
    summary: "engage the circuit breaker (kill switch for new positions) or reset it",
    details: [
      "  --reason TEXT           why, for the log",
      "  --gateway, -g NAME      one gateway (default: all)",
    ].join("\n"),
    options: { reason: { type: "string" }, ...GATEWAY_OPTION },
    json: true,
    build: ({ positionals, values }) => {
      const [action, ...extra] = positionals;
      if ((action !== "engage" && action !== "reset") || extra.length > 0)
        throw new UsageError("breaker needs engage or reset");
      return control("/v1/breaker", values, { action }, `breaker ${action}`);
    },
  },
  ping: {
    group: "diagnostics",
    usage: "[--count N] [--warmup N] [--interval-ms MS] [--gateway NAME]",
    summary: "PING the gateway directly with this host's keys (needs no running agent)",
    details: [
      `  --count, -n N           PINGs to send one after another (default 10, at most ${PING_MAX_COUNT})`,
      "  --interval-ms MS        pause between PINGs (default 0)",
      "  --warmup N              send N PINGs first and leave them out of the figures (default 0)",
      GATEWAY_LINE,
      "  exit code: 0 every PING answered, 1 any lost",
    ].join("\n"),
    options: {
      count: { type: "string", short: "n" },
      "interval-ms": { type: "string" },
      warmup: { type: "string" },
      ...GATEWAY_OPTION,
    },
    json: true,
    build: ({ positionals, values }) => {
      noArguments("ping", positionals);
      const count = text(values, "count");
      const interval = text(values, "interval-ms");
      const warmup = text(values, "warmup");
      const gateway = text(values, "gateway");
      return {
        kind: "ping",
        count: count === undefined ? 10 : wholeNumber("--count", count, 1, PING_MAX_COUNT),
        intervalMs: interval === undefined ? 0 : wholeNumber("--interval-ms", interval, 0, 60_000),
        // Issue 7 benchmark: a latency figure without the first, cold PINGs in its p99
        ...(warmup === undefined
          ? {}
          : { warmup: wholeNumber("--warmup", warmup, 0, PING_MAX_COUNT) }),
        ...(gateway === undefined ? {} : { gateway: gatewayName(gateway) }),
      };
    },
  },
};

/** Every command, for the help and its tests. */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

const GROUP_TITLES: Readonly<Record<Group, string>> = {
  service: "Service",
  orders: "Orders, through the running agent (risk-checked and signed)",
  data: "Account and market, through the running agent",
  operator: "Operator, through the running agent",
  diagnostics: "Diagnostics",
};

export const HELP = `${PROGRAM} ${INFERENCE_VERSION}: the MT5 Live Bridge inference agent (risk checks, order signing, CurveZMQ to agent-gtw)

Usage: ${PROGRAM} [COMMAND] [ARGUMENTS] [--config FILE] [--json]   (no command: run)
${(Object.keys(GROUP_TITLES) as Group[])
  .filter((group) => Object.values(COMMANDS).some((spec) => spec.group === group))
  .map(
    (group) =>
      `\n${GROUP_TITLES[group]}:\n${Object.entries(COMMANDS)
        .filter(([, spec]) => spec.group === group)
        .map(
          ([name, spec]) =>
            `  ${`${name} ${spec.synopsis ?? spec.usage}`.trimEnd()}\n      ${spec.summary}`,
        )
        .join("\n")}`,
  )
  .join("\n")}

Setup (without the agent running):
  keygen --name NAME [--dir DIR] | --add api-token|operator-token [--dir DIR]
      generate this host's CURVE and order-signing key pairs and the local API's tokens,
      or add one missing token to an existing key folder
  service install|uninstall|status [--config FILE]
      install agent-inf as a hardened systemd service (see ${PROGRAM} service --help)
  upgrade --binary FILE | --rollback [--config FILE]
      replace the service's binary: stop (drains), swap, start, verify; roll back if it fails

  ${PROGRAM} COMMAND --help     the command's options
  ${PROGRAM} --version

Every command takes --config FILE (-c). The config file is --config, else $${CONFIG_ENV}, else
${CONFIG_FILE} next to the executable (or in the working directory when run from source).
--json prints the data as JSON (the local API's answer) instead of a table.
${CRYPTO_BACKEND_HELP}

Exit codes: 0 ok (order FILLED), 1 failure (a PING lost, agent not running, status not ok),
2 usage error, 3 config or key file error, 4 order outcome UNKNOWN (the client_order_id is
printed: check it later with \`${PROGRAM} order ID\`), 5 order DENIED by this host's risk
checks (nothing sent), 6 order REJECTED by the gateway or MT5, 7 order ERROR (not executed).
`;

export function commandHelp(name: string, spec = COMMANDS[name]): string {
  if (spec === undefined) return HELP;
  const common = `  --config, -c FILE       the agent's config file${spec.json ? "\n  --json                  print JSON instead of a table" : ""}`;
  return `Usage: ${`${PROGRAM} ${name} ${spec.usage}`.trimEnd()}\n\n${spec.summary}\n\nOptions:\n${spec.details === undefined ? "" : `${spec.details}\n`}${common}\n`;
}

// ---------------------------------------------------------------------------------------------

function stateCommand(
  name: string,
  state: "ACTIVE" | "REDUCING" | "HALTED",
  summary: string,
): CommandSpec {
  // HALTED is the strictest state: no loss limit's hold can stand in its way
  const overridable = state !== "HALTED";
  return {
    group: "operator",
    usage: `[--reason TEXT] [--gateway NAME]${overridable ? " [--override-risk]" : ""}`,
    summary: `set the trading state ${state}: ${summary}`,
    details: [
      "  --reason TEXT           why, for the log and `status`",
      "  --gateway, -g NAME      one gateway (default: all)",
      ...(overridable
        ? [
            "  --override-risk         lift a loss limit's hold on the state (logged; needs --reason)",
          ]
        : []),
    ].join("\n"),
    options: {
      reason: { type: "string" },
      ...GATEWAY_OPTION,
      ...(overridable ? { "override-risk": { type: "boolean" } } : {}),
    },
    json: true,
    build: ({ positionals, values }) => {
      noArguments(name, positionals);
      const override = values["override-risk"] === true;
      if (override && values["reason"] === undefined)
        throw new UsageError(
          "--override-risk needs --reason: say why the loss limit is overridden",
        );
      return control(
        "/v1/trading-state",
        values,
        { state, ...(override ? { override_risk: true } : {}) },
        `trading state ${state}`,
      );
    },
  };
}
