/**
 * `agent-gtw reload`: make a running gateway re-read its authorized client keys now (the folder
 * and the config file's inline list) and close the sessions of keys no longer authorized
 * (operator/reload.ts has the mechanism). Prints what changed; exits 0 once the gateway did it.
 */
import { ExitCode, locateConfig, parseCommandLine, UsageError } from "../../shared/cli.ts";
import { loadGatewayConfig } from "../config.ts";
import {
  type ReloadResult,
  readReloadResult,
  withdrawReloadRequest,
  writeReloadRequest,
} from "../operator/reload.ts";

const CONFIG_ENV = "AGENT_GTW_CONFIG";
const CONFIG_FILE = "agent-gtw.yaml";

export const RELOAD_HELP = `Usage: agent-gtw reload [--config FILE] [--wait SECONDS]
  Re-read the authorized client keys of the running gateway (keys.authorized_clients_dir and the
  config file's keys.authorized_clients) and close the sessions of keys no longer authorized.
  The folder is also watched, so removing a key file takes effect within seconds without this.
`;

export async function runReloadCommand(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, {
    config: { type: "string", short: "c" },
    wait: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help === true) {
    process.stdout.write(RELOAD_HELP);
    return ExitCode.OK;
  }
  if (positionals.length > 0) throw new UsageError("reload takes no arguments");
  const waitSeconds = Number(values.wait ?? "10");
  if (!Number.isInteger(waitSeconds) || waitSeconds < 1 || waitSeconds > 60)
    throw new UsageError(`--wait must be 1–60 seconds, was ${values.wait}`);
  const config = loadGatewayConfig(locateConfig(values.config, CONFIG_ENV, CONFIG_FILE));
  const id = writeReloadRequest(config.state_dir, Date.now());
  const deadline = Date.now() + waitSeconds * 1000;
  let result: ReloadResult | undefined = readReloadResult(config.state_dir, id);
  while (result === undefined) {
    if (Date.now() > deadline) {
      process.stderr.write(
        withdrawReloadRequest(config.state_dir, id)
          ? `agent-gtw: no running gateway took the request within ${waitSeconds} s; it was withdrawn (is agent-gtw running with state_dir ${config.state_dir}?)\n`
          : `agent-gtw: the gateway took the request but has not answered within ${waitSeconds} s; check its log\n`,
      );
      return ExitCode.FAILURE;
    }
    await Bun.sleep(100);
    result = readReloadResult(config.state_dir, id);
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
