/**
 * agent-inf's command line: parseCli turns arguments into a plain command description without
 * touching the network or the disk (so every usage error is table-tested), and runInferenceCli
 * runs it. The table of commands is commands.ts; they run in run.ts (the service),
 * ping.ts (direct PING) and api-commands.ts (one-shot commands through the running agent's API).
 */
import { ExitCode, type OptionSpec, parseCommandLine, unknownCommand } from "../../shared/cli.ts";
import { runKeygenCommand } from "../../shared/keys/keygen-command.ts";
import { runSystemdServiceCommand } from "../../shared/service/systemd.ts";
import { INFERENCE_VERSION } from "../version.ts";
import { runApiCommand } from "./api-commands.ts";
import { text } from "./args.ts";
import type { ArgValues, CliCommand } from "./command.ts";
import { COMMANDS, commandHelp, HELP } from "./commands.ts";
import { runMarketCommand } from "./market-output.ts";
import { runPing } from "./ping.ts";
import { runService } from "./run.ts";
import { runInferenceUpgrade } from "./upgrade.ts";
import { runWatch } from "./watch.ts";

/** Commands that parse their own arguments (shared with agent-gtw). */
export const SETUP_COMMANDS = ["keygen", "service", "upgrade"] as const;
const KNOWN_COMMANDS = [...Object.keys(COMMANDS), ...SETUP_COMMANDS];

/** Turn the arguments into a command description; throws UsageError. */
export function parseCli(args: readonly string[]): CliCommand {
  const first = args[0];
  if (first === "--version" || first === "-v") return { kind: "version" };
  if (first === "--help" || first === "-h" || first === "help") {
    const topic = args[1];
    if (topic === undefined) return { kind: "help", text: HELP };
    const spec = Object.hasOwn(COMMANDS, topic) ? COMMANDS[topic] : undefined;
    if (spec === undefined) throw unknownCommand(topic, KNOWN_COMMANDS);
    return { kind: "help", text: commandHelp(topic, spec) };
  }
  const name = first === undefined || first.startsWith("-") ? "run" : first;
  const rest = name === first ? args.slice(1) : args;
  const setup = SETUP_COMMANDS.find((command) => command === name);
  if (setup !== undefined) return { kind: "setup", name: setup, args: rest };
  const spec = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (spec === undefined) throw unknownCommand(name, KNOWN_COMMANDS);
  const { values, positionals } = parseCommandLine(rest, {
    config: { type: "string", short: "c" },
    help: { type: "boolean", short: "h" },
    ...(spec.json ? { json: { type: "boolean" } } : {}),
    ...spec.options,
  } as OptionSpec);
  const argValues = values as ArgValues;
  if (argValues["help"] === true) return { kind: "help", text: commandHelp(name, spec) };
  const config = text(argValues, "config");
  return {
    ...spec.build({ positionals, values: argValues }),
    name,
    json: argValues["json"] === true,
    ...(config === undefined ? {} : { config }),
  };
}

/** Parse, then run; every command returns its exit code. */
export async function runInferenceCli(args: readonly string[]): Promise<number> {
  const command = parseCli(args);
  switch (command.kind) {
    case "version":
      process.stdout.write(`${INFERENCE_VERSION}\n`);
      return ExitCode.OK;
    case "help":
      process.stdout.write(command.text);
      return ExitCode.OK;
    case "run":
      return runService(command);
    case "ping":
      return runPing(command);
    case "api":
      return runApiCommand(command);
    case "watch":
      return runWatch(command);
    case "market":
      return runMarketCommand(command);
    case "setup":
      if (command.name === "keygen") return runKeygenCommand("agent-inf", command.args);
      if (command.name === "upgrade") return runInferenceUpgrade(command.args);
      return runSystemdServiceCommand(command.args);
  }
}
