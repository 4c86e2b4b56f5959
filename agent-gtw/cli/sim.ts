/**
 * `agent-gtw sim price|jump|volatility`: move the simulated market of a running gateway, so a
 * strategy's SL/TP and pending orders can be tried in seconds (operator/sim-market.ts runs it).
 * Exit codes: 0 done, 1 refused (named code) or no gateway answered, 2 bad command line.
 */
import { ExitCode, locateConfig, parseCommandLine, UsageError } from "../../shared/cli.ts";
import { checkSymbol } from "../../shared/protocol/index.ts";
import { loadGatewayConfig } from "../config.ts";
import { SIM_ACTIONS, type SimCommand, type SimResult } from "../operator/sim-market.ts";
import { noAnswerMessage, parseWaitSeconds, sendOperatorRequest } from "./operator-request.ts";

const CONFIG_ENV = "AGENT_GTW_CONFIG";
const CONFIG_FILE = "agent-gtw.yaml";

export const SIM_USAGE =
  "price SYMBOL BID [ASK] | jump SYMBOL +50points|-0.5% | volatility SYMBOL MULTIPLIER [--config FILE]";

export const SIM_DETAILS = `  price SYMBOL BID [ASK]  set the bid (and ask; else the spread is kept)
  jump SYMBOL DELTA       move bid and ask: +50points, -20points, +0.5% (or --pct -0.5)
  volatility SYMBOL N     from now on move N times the symbol's realistic pace (0.1-100);
                          the next start applies backend.sim.volatility again
  --pct                   DELTA is a percentage of the mid price
  --wait SECONDS          how long to wait for the gateway to answer (default 10)
  --config, -c FILE       the gateway's config file
The market continues from the new price; SL/TP and pending orders trigger at once.
Refused unless backend.type is sim, and while the symbol's session is closed.`;

/** A signed number as the operator types it (parseCommandLine would take "-5" for an option). */
const SIGNED = /^[+-](\d|\.\d)/;

export async function runSimCommand(args: readonly string[]): Promise<number> {
  const signed = args.filter((arg) => SIGNED.test(arg));
  const { values, positionals } = parseCommandLine(
    args.filter((arg) => !SIGNED.test(arg)),
    {
      config: { type: "string", short: "c" },
      pct: { type: "boolean" },
      wait: { type: "string" },
    },
  );
  const words = [...positionals.slice(0, 2), ...signed, ...positionals.slice(2)];
  const command = parseSimCommand(words, values.pct === true);
  const waitSeconds = parseWaitSeconds(values.wait);
  const config = loadGatewayConfig(locateConfig(values.config, CONFIG_ENV, CONFIG_FILE));
  if (config.backend.type !== "sim") {
    process.stderr.write(
      `agent-gtw: sim refused: SIM_ONLY: backend.type is ${config.backend.type}; only the simulated market's prices can be set\n`,
    );
    return ExitCode.FAILURE;
  }
  const result = await sendOperatorRequest<SimResult>(
    config.state_dir,
    "sim",
    command,
    waitSeconds,
  );
  if (typeof result === "string") {
    process.stderr.write(noAnswerMessage(result, waitSeconds, config.state_dir, "nothing moved"));
    return ExitCode.FAILURE;
  }
  if (result.error !== undefined) {
    process.stderr.write(
      `agent-gtw: sim refused: ${result.error_code === undefined ? "" : `${result.error_code}: `}${result.error}\n`,
    );
    return ExitCode.FAILURE;
  }
  process.stdout.write(describeResult(command, result));
  return ExitCode.OK;
}

/** The words after `sim`, checked (UsageError, exit 2, for anything malformed). */
export function parseSimCommand(words: readonly string[], percent: boolean): SimCommand {
  const [action, rawSymbol, ...rest] = words;
  if (!SIM_ACTIONS.includes(action as (typeof SIM_ACTIONS)[number]))
    throw new UsageError(
      action === undefined
        ? `sim needs an action: ${SIM_ACTIONS.join(", ")}`
        : `unknown sim action ${JSON.stringify(action)}; known: ${SIM_ACTIONS.join(", ")}`,
    );
  // The sim's symbols are upper case; MT5 matches names without regard to case
  const symbol = rawSymbol?.toUpperCase();
  if (symbol === undefined || checkSymbol(symbol) !== undefined)
    throw new UsageError(`sim ${action} needs a symbol, e.g. EURUSD`);
  if (percent && action !== "jump") throw new UsageError("--pct applies to sim jump only");
  const count = action === "price" ? [1, 2] : [1, 1];
  if (rest.length < (count[0] as number) || rest.length > (count[1] as number))
    throw new UsageError(`sim ${action} ${symbol} needs ${usageOf(action as string)}`);
  const first = rest[0] as string;
  switch (action) {
    case "price": {
      const bid = positive(first, "BID");
      const ask = rest[1] === undefined ? undefined : positive(rest[1], "ASK");
      if (ask !== undefined && ask < bid)
        throw new UsageError(`ASK ${rest[1]} is below BID ${first}`);
      return { action: "price", symbol, bid, ...(ask === undefined ? {} : { ask }) };
    }
    case "jump":
      return parseJump(symbol, first, percent);
    default: {
      const multiplier = positive(first, "MULTIPLIER");
      return { action: "volatility", symbol, multiplier };
    }
  }
}

function parseJump(symbol: string, text: string, percent: boolean): SimCommand {
  const match = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(points|point|pts|pt|%)?$/i.exec(text);
  const unit = match?.[2]?.toLowerCase();
  const value = Number(match?.[1]);
  if (match === null || !Number.isFinite(value) || value === 0)
    throw new UsageError(
      `jump ${JSON.stringify(text)}: give a move like +50points, -20points or +0.5% (not 0)`,
    );
  if (unit === "%" || percent) {
    if (unit !== undefined && unit !== "%")
      throw new UsageError(`jump ${text}: --pct takes a plain number, e.g. --pct -0.5`);
    if (Math.abs(value) >= 100) throw new UsageError(`jump ${text}: a percentage within ±100`);
    return { action: "jump", symbol, percent: value };
  }
  if (unit === undefined)
    throw new UsageError(
      `jump ${text}: say the unit: ${text}points, or ${text}% (or --pct ${text})`,
    );
  if (!Number.isInteger(value))
    throw new UsageError(`jump ${text}: points are whole (a point is the last digit)`);
  return { action: "jump", symbol, points: value };
}

function positive(text: string, what: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0)
    throw new UsageError(`${what} must be a number above 0, was ${JSON.stringify(text)}`);
  return value;
}

function usageOf(action: string): string {
  if (action === "price") return "BID [ASK]";
  if (action === "jump") return "a move like +50points or -0.5%";
  return "a MULTIPLIER (1 = realistic)";
}

function describeResult(command: SimCommand, result: SimResult): string {
  const quote = (value: SimResult["before"]) =>
    value === undefined ? "?" : `${value.bid} / ${value.ask}`;
  if (command.action === "volatility")
    return `${result.symbol} moves ${result.volatility}x its realistic pace from now on (bid/ask ${quote(result.after)})\n`;
  const lines = [`${result.symbol} ${quote(result.before)} -> ${quote(result.after)}`];
  if (result.closed !== undefined && result.closed.length > 0)
    lines.push(`closed by the move: position ${result.closed.join(", ")}`);
  return `${lines.join("\n")}\n`;
}
