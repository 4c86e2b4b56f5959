/**
 * `agent-gtw cancel`: the operator's way to remove pending orders from a running gateway, even
 * while trading is HALTED (operator/cancels.ts has the mechanism). Prints one line per order and
 * exits 0 only when every cancel executed.
 */
import { ExitCode, locateConfig, parseCommandLine, UsageError } from "../../shared/cli.ts";
import { checkSymbol, checkTicket } from "../../shared/protocol/index.ts";
import { loadGatewayConfig } from "../config.ts";
import type { CancelResult } from "../operator/cancels.ts";
import { noAnswerMessage, parseWaitSeconds, sendOperatorRequest } from "./operator-request.ts";

const CONFIG_ENV = "AGENT_GTW_CONFIG";
const CONFIG_FILE = "agent-gtw.yaml";

export async function operatorCancel(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, {
    config: { type: "string", short: "c" },
    all: { type: "boolean" },
    symbol: { type: "string" },
    reason: { type: "string" },
    wait: { type: "string" },
  });
  const all = values.all === true;
  if (all === positionals.length > 0) {
    throw new UsageError("cancel needs order tickets or --all (one of the two)");
  }
  const tickets = positionals.map((text) => {
    const ticket = Number(text);
    if (checkTicket(ticket) !== undefined)
      throw new UsageError(`cancel: ${JSON.stringify(text)} is not an order ticket`);
    return ticket;
  });
  if (values.symbol !== undefined && (!all || checkSymbol(values.symbol) !== undefined)) {
    throw new UsageError("--symbol needs --all and a valid symbol");
  }
  const waitSeconds = parseWaitSeconds(values.wait);
  const config = loadGatewayConfig(locateConfig(values.config, CONFIG_ENV, CONFIG_FILE));
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const result = await sendOperatorRequest<CancelResult>(
    config.state_dir,
    "cancel",
    {
      tickets: all ? "all" : tickets,
      ...(values.symbol === undefined ? {} : { symbol: values.symbol }),
      reason: (values.reason ?? "operator cancel").slice(0, 200),
    },
    waitSeconds,
  );
  if (typeof result === "string") {
    process.stderr.write(
      noAnswerMessage(result, waitSeconds, config.state_dir, "nothing was cancelled"),
    );
    return ExitCode.FAILURE;
  }
  if (result.error !== undefined) {
    process.stderr.write(`agent-gtw: cancel refused: ${result.error}\n`);
    return ExitCode.FAILURE;
  }
  if (result.results.length === 0) out("no pending orders to cancel");
  for (const outcome of result.results) {
    out(
      outcome.status === "FILLED"
        ? `order ${outcome.ticket} cancelled`
        : `order ${outcome.ticket} NOT cancelled: ${outcome.error_code ?? outcome.status} ${outcome.error_msg ?? ""}`.trimEnd(),
    );
  }
  return result.results.every((outcome) => outcome.status === "FILLED")
    ? ExitCode.OK
    : ExitCode.FAILURE;
}
