/**
 * `agent-gtw reload`: make a running gateway re-read its authorized client keys now (the folder
 * and the config file's inline list) and close the sessions of keys no longer authorized
 * (operator/reload.ts). Prints what changed; exits 0 once the gateway did it.
 */
import { ExitCode, locateConfig, parseCommandLine, UsageError } from "../../shared/cli.ts";
import { loadGatewayConfig } from "../config.ts";
import type { ReloadResult } from "../operator/reload.ts";
import { noAnswerMessage, parseWaitSeconds, sendOperatorRequest } from "./operator-request.ts";

const CONFIG_ENV = "AGENT_GTW_CONFIG";
const CONFIG_FILE = "agent-gtw.yaml";

export async function runReloadCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, {
    config: { type: "string", short: "c" },
    wait: { type: "string" },
  });
  if (positionals.length > 0) throw new UsageError("reload takes no arguments");
  const waitSeconds = parseWaitSeconds(values.wait);
  const config = loadGatewayConfig(locateConfig(values.config, CONFIG_ENV, CONFIG_FILE));
  const result = await sendOperatorRequest<ReloadResult>(
    config.state_dir,
    "reload",
    {},
    waitSeconds,
  );
  if (typeof result === "string") {
    process.stderr.write(
      noAnswerMessage(result, waitSeconds, config.state_dir, "no key was re-read"),
    );
    return ExitCode.FAILURE;
  }
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const change = result.change;
  if (change !== undefined) {
    out(
      `clients   ${change.clients} authorized; added: ${change.added.join(", ") || "none"}; removed: ${change.removed.join(", ") || "none"}`,
    );
    out(`sessions  ${result.closed ?? 0} closed (keys no longer authorized)`);
    for (const problem of change.problems) out(`PROBLEM   ${problem}`);
  }
  if (result.error !== undefined) {
    process.stderr.write(`agent-gtw: reload: ${result.error}\n`);
    return ExitCode.FAILURE;
  }
  return (change?.problems.length ?? 0) === 0 ? ExitCode.OK : ExitCode.FAILURE;
}
