/**
 * `agent-gtw upgrade` and `agent-inf upgrade`: the command line around upgrade.ts, shared by
 * both agents. The service manager is the platform's (systemd on Linux, the SCM on Windows);
 * the agent supplies its drain and health probe. Exit codes: 0 upgraded or rolled back as asked,
 * 1 aborted (nothing changed), rolled back automatically, or failed; 2 usage.
 */
import { resolve } from "node:path";
import { ExitCode, isCompiled, parseCommandLine, UsageError } from "../cli.ts";
import { type CommandRunner, spawnCommand } from "./command-runner.ts";
import { systemdServiceControl } from "./systemd.ts";
import {
  DEFAULT_VERIFY_TIMEOUT_MS,
  rollback,
  type ServiceControl,
  type UpgradeHooks,
  UpgradeOutcome,
  upgrade,
} from "./upgrade.ts";
import type { UpgradeFiles } from "./upgrade-files.ts";
import { scServiceControl } from "./windows.ts";

export const UPGRADE_USAGE =
  "--binary FILE | --rollback [--config FILE] [--name NAME] [--drain-timeout SECONDS] [--verify-timeout SECONDS]";

export function upgradeDetails(program: string, drains: boolean): string {
  return [
    "  --binary FILE           the new executable: checked, drained, swapped, started, verified;",
    "                          rolled back automatically when it does not verify",
    `  --rollback              put back the previous binary (${program}.previous)`,
    "  --config, -c FILE       the agent's config file (for the health check)",
    `  --name NAME             the service name (default ${program})`,
    ...(drains
      ? ["  --drain-timeout SECONDS how long in-flight orders may take to finish (default 30)"]
      : []),
    "  --verify-timeout SECONDS how long the new binary has to report its version and health (default 60)",
    "  --installed FILE        the binary the service runs (default: this executable)",
    ...(drains ? [] : ["The stop drains: the agent answers what is in flight before it exits."]),
    "Run as root (Linux) or from an elevated prompt (Windows). Exit 0: done; 1: aborted (nothing",
    "changed), rolled back, or failed (the message says what to do).",
  ].join("\n");
}

export interface AgentUpgrade {
  readonly program: string;
  /** Whether the agent drains through a request before the stop (agent-gtw). */
  readonly drains?: boolean;
  /** The agent's drain and health probe, from its config file. */
  readonly hooks: (configPath: string, drainTimeoutMs: number) => UpgradeHooks;
  /** --config, else the agent's usual place. */
  readonly locateConfig: (flag: string | undefined) => string;
}

/** Seams for tests; everything real by default. */
export interface UpgradeCommandSeams {
  readonly service?: (name: string) => ServiceControl;
  readonly run?: CommandRunner;
  readonly files?: UpgradeFiles;
  readonly out?: (text: string) => void;
  readonly err?: (text: string) => void;
}

export async function runUpgradeCommand(
  args: readonly string[],
  agent: AgentUpgrade,
  seams: UpgradeCommandSeams = {},
): Promise<number> {
  const out = seams.out ?? ((text: string) => process.stdout.write(text));
  const err = seams.err ?? ((text: string) => process.stderr.write(text));
  if (args.includes("--help") || args.includes("-h")) {
    out(
      `Usage: ${agent.program} upgrade ${UPGRADE_USAGE}\n\n${upgradeDetails(agent.program, agent.drains === true)}\n`,
    );
    return ExitCode.OK;
  }
  const { values, positionals } = parseCommandLine(args, {
    binary: { type: "string" },
    rollback: { type: "boolean" },
    config: { type: "string", short: "c" },
    name: { type: "string" },
    installed: { type: "string" },
    "drain-timeout": { type: "string" },
    "verify-timeout": { type: "string" },
  });
  if (positionals.length > 0)
    throw new UsageError(`upgrade takes options only, was given ${positionals.join(" ")}`);
  const asked = values.rollback === true;
  if ((values.binary === undefined) !== asked)
    throw new UsageError("upgrade needs --binary FILE or --rollback (one of the two)");
  const name = values.name ?? agent.program;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,79}$/.test(name))
    throw new UsageError(`--name is not a valid service name: ${name}`);
  const drainMs = seconds(values["drain-timeout"], "--drain-timeout", 30) * 1000;
  const verifyMs =
    seconds(values["verify-timeout"], "--verify-timeout", DEFAULT_VERIFY_TIMEOUT_MS / 1000) * 1000;
  const installedFlag = values.installed;
  if (installedFlag === undefined && !isCompiled())
    throw new UsageError(
      "run upgrade from the installed binary, or name it with --installed FILE (running from source)",
    );
  const installed = resolve(installedFlag ?? process.execPath);
  const service = (seams.service ?? platformService)(name);
  const runs = await service.binary?.().catch(() => undefined);
  if (runs !== undefined && !samePath(runs, installed)) {
    err(
      `${agent.program}: upgrade: ${service.description} runs ${runs}, not ${installed}; run the upgrade from that binary or pass --installed ${runs}\n`,
    );
    return ExitCode.FAILURE;
  }
  const options = {
    program: agent.program,
    installed,
    service,
    hooks: agent.hooks(agent.locateConfig(values.config), drainMs),
    run: seams.run ?? spawnCommand,
    out: (line: string) => out(`${line}\n`),
    verifyTimeoutMs: verifyMs,
    ...(seams.files === undefined ? {} : { files: seams.files }),
  };
  const result = asked
    ? await rollback(options)
    : await upgrade(options, resolve(values.binary as string));
  const done =
    result.outcome === UpgradeOutcome.UPGRADED || result.outcome === UpgradeOutcome.RESTORED;
  if (done) out(`${result.message}\n`);
  else err(`${agent.program}: ${result.outcome}: ${result.message}\n`);
  return done ? ExitCode.OK : ExitCode.FAILURE;
}

function platformService(name: string): ServiceControl {
  if (process.platform === "win32") return scServiceControl(name);
  if (process.platform === "linux") return systemdServiceControl(name);
  throw new UsageError(`upgrade manages systemd or Windows services, not ${process.platform}`);
}

function seconds(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 600)
    throw new UsageError(`${flag} must be 1–600 seconds, was ${text}`);
  return value;
}

function samePath(a: string, b: string): boolean {
  return process.platform === "win32" ? a.toLowerCase() === b.toLowerCase() : a === b;
}
