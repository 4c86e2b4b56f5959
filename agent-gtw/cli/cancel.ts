/**
 * `agent-gtw cancel`: the operator's way to remove pending orders from a running gateway, even
 * while trading is HALTED (operator/cancels.ts has the mechanism). Prints one line per order and
 * exits 0 only when every cancel executed.
 */
import { ExitCode, locateConfig, parseCommandLine, UsageError } from "../../shared/cli.ts";
import { checkSymbol, checkTicket } from "../../shared/protocol/index.ts";
import { loadGatewayConfig } from "../config.ts";
import {
  type CancelResult,
  readCancelResult,
  withdrawCancelCommand,
  writeCancelCommand,
} from "../operator/cancels.ts";

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
  const waitSeconds = Number(values.wait ?? "10");
  if (!Number.isInteger(waitSeconds) || waitSeconds < 1 || waitSeconds > 60)
    throw new UsageError(`--wait must be 1–60 seconds, was ${values.wait}`);
  const config = loadGatewayConfig(locateConfig(values.config, CONFIG_ENV, CONFIG_FILE));
  const id = writeCancelCommand(config.state_dir, {
    tickets: all ? "all" : tickets,
    ...(values.symbol === undefined ? {} : { symbol: values.symbol }),
    reason: (values.reason ?? "operator cancel").slice(0, 200),
    at: Date.now(),
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const deadline = Date.now() + waitSeconds * 1000;
  let result: CancelResult | undefined = readCancelResult(config.state_dir, id);
  while (result === undefined) {
    if (Date.now() > deadline) {
      if (withdrawCancelCommand(config.state_dir, id)) {
        process.stderr.write(
          `agent-gtw: no running gateway took the request within ${waitSeconds} s; it was withdrawn, nothing was cancelled (is agent-gtw running with state_dir ${config.state_dir}?)\n`,
        );
      } else {
        process.stderr.write(
          `agent-gtw: the gateway took the request but has not answered within ${waitSeconds} s; check its log and \`agent-gtw status\`\n`,
        );
      }
      return ExitCode.FAILURE;
    }
    await Bun.sleep(100);
    result = readCancelResult(config.state_dir, id);
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
