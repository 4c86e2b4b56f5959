/**
 * agent-gtw's commands: `run` (the service), `state` (operator trading state), `status`.
 * Every command prints one clear line on error and returns a documented exit code.
 */
import {
  ExitCode,
  locateConfig,
  parseCommandLine,
  UsageError,
  unknownCommand,
} from "../../shared/cli.ts";
import { AgentError, describeError } from "../../shared/errors.ts";
import { runKeygenCommand } from "../../shared/keys/keygen-command.ts";
import { createLogger, loggerOptions, parseLevel } from "../../shared/log.ts";
import { TRADING_STATES, type TradingState } from "../../shared/protocol/index.ts";
import { UPGRADE_USAGE, upgradeDetails } from "../../shared/service/upgrade-command.ts";
import { runWindowsServiceCommand } from "../../shared/service/windows.ts";
import { CRYPTO_BACKEND_HELP } from "../../shared/sodium/install.ts";
import { createGatewayApp, DEFAULT_MAGIC, GATEWAY_VERSION } from "../app.ts";
import { readSecretFile } from "../backend/terminal/secret.ts";
import { TerminalBackend } from "../backend/terminal/terminal-backend.ts";
import { loadGatewayConfig } from "../config.ts";
import {
  isRunning,
  readOperatorState,
  readStatus,
  writeOperatorState,
} from "../operator/control.ts";
import { operatorCancel } from "./cancel.ts";
import { JOURNAL_DETAILS, runJournalCommand } from "./journal.ts";
import { runReloadCommand } from "./reload.ts";
import { runSelftest } from "./selftest/selftest.ts";
import { runGatewayService } from "./service-run.ts";
import { runSimCommand, SIM_DETAILS, SIM_USAGE } from "./sim.ts";
import { runGatewayUpgrade } from "./upgrade.ts";

const PROGRAM = "agent-gtw";
const CONFIG_ENV = "AGENT_GTW_CONFIG";
const CONFIG_FILE = "agent-gtw.yaml";

/** A command: its usage line, what it does, its options, and how it runs. */
interface GatewayCommand {
  readonly usage: string;
  readonly summary: string;
  readonly details?: string;
  readonly run: (args: readonly string[]) => number | Promise<number>;
}

const CONFIG_LINE = "  --config, -c FILE       the gateway's config file";

/**
 * Every command, for the dispatch, the help and the test that runs each with --help. keygen,
 * service and journal print their own help (they are shared or owned elsewhere).
 */
export const GATEWAY_COMMANDS: Readonly<Record<string, GatewayCommand>> = {
  run: {
    usage: "[--config FILE] [--log-level LEVEL] [--service]",
    summary:
      "run the gateway in the foreground (the default command); --service: under the Windows service manager",
    details: `${CONFIG_LINE}\n  --log-level LEVEL       silent, error, warn, info or debug\n  --service               run as the Windows service (what service install registers)`,
    run: (args) => run(args),
  },
  keygen: {
    usage: "[--dir DIR] [--name NAME] [--terminal-secret]",
    summary: "generate the gateway's CURVE key pair (and the EA link secret)",
    run: (args) => runKeygenCommand("agent-gtw", args),
  },
  service: {
    usage: "install|uninstall|status [--config FILE] [--name NAME]",
    summary: "manage the Windows service (no extra download)",
    run: (args) => runWindowsServiceCommand(args),
  },
  state: {
    usage: "ACTIVE|REDUCING|HALTED [--reason TEXT] [--config FILE]",
    summary: "set the operator trading state; a running gateway applies it within a second",
    details: `  --reason TEXT           why, for the log and status\n${CONFIG_LINE}`,
    run: (args) => setState(args),
  },
  status: {
    usage: "[--config FILE] [--json]",
    summary: "what the running gateway reports (from its status file)",
    details: `${CONFIG_LINE}\n  --json                  print the status file as JSON\n  exit code: 0 running, 1 not running`,
    run: (args) => status(args),
  },
  cancel: {
    usage: "TICKET... | --all [--symbol SYMBOL] [--reason TEXT] [--wait SECONDS] [--config FILE]",
    summary: "cancel pending orders as the operator (also while HALTED)",
    details: `  --all                   every pending order (with --symbol: of that symbol)\n  --reason TEXT           why, for the journal and the log\n  --wait SECONDS          how long to wait for the gateway to answer (default 10)\n${CONFIG_LINE}`,
    run: (args) => operatorCancel(args),
  },
  reload: {
    usage: "[--config FILE] [--wait SECONDS]",
    summary:
      "re-read the authorized client keys now (the folder and the config's inline list) and close the sessions of revoked ones",
    details: `  --wait SECONDS          how long to wait for the gateway to answer (default 10)\n${CONFIG_LINE}`,
    run: (args) => runReloadCommand(args),
  },
  sim: {
    usage: SIM_USAGE,
    summary: "move the simulated market: set or jump a price, change how fast it moves",
    details: SIM_DETAILS,
    run: (args) => runSimCommand(args),
  },
  upgrade: {
    usage: UPGRADE_USAGE,
    summary:
      "replace the service's binary: drain, stop, swap, start, verify; roll back if it fails",
    details: upgradeDetails("agent-gtw", true),
    run: (args) => runGatewayUpgrade(args),
  },
  journal: {
    usage: "verify|repair|backup [options] [--config FILE]",
    summary:
      "check the order journal for loss (verify), rebuild it from what is left and the broker (repair), or copy it while the gateway runs (backup)",
    details: `${JOURNAL_DETAILS}\n${CONFIG_LINE}`,
    run: (args) => runJournalCommand(args),
  },
  selftest: {
    usage: "--backend terminal [--trade] [--symbol SYMBOL] [--wait SECONDS] [--config FILE]",
    summary: "check the MT5 terminal link (stop the gateway first; --trade: DEMO accounts only)",
    details: `  --trade                 also open, modify and close a minimum lot (DEMO accounts only)\n  --symbol SYMBOL         the symbol to test (default: the first of limits.symbols)\n  --wait SECONDS          how long to wait for the EA (default 30)\n${CONFIG_LINE}`,
    run: (args) => selftest(args),
  },
};

const HELP = `agent-gtw ${GATEWAY_VERSION}: the MT5 Live Bridge gateway (CurveZMQ in, MetaTrader 5 out)

Usage:
${Object.entries(GATEWAY_COMMANDS)
  .map(([name, command]) => `  agent-gtw ${name} ${command.usage}\n      ${command.summary}`)
  .join("\n")}
  agent-gtw --version | --help | COMMAND --help

The config file is --config, else $${CONFIG_ENV}, else ${CONFIG_FILE} next to the executable
(or in the working directory when run from source).
${CRYPTO_BACKEND_HELP}

Exit codes: 0 ok, 1 failure (or a failed self-test step), 2 usage error, 3 config or key file error.
`;

/** `agent-gtw COMMAND --help`. */
export function gatewayCommandHelp(name: string): string {
  const command = GATEWAY_COMMANDS[name];
  if (command === undefined) return HELP;
  return `Usage: agent-gtw ${name} ${command.usage}\n\n${command.summary}\n${command.details === undefined ? "" : `\nOptions:\n${command.details}\n`}`;
}

/** Commands that print their own help (their parsers handle --help). */
const OWN_HELP = new Set(["keygen", "service"]);

export async function runGatewayCli(args: readonly string[]): Promise<number> {
  const first = args[0];
  if (first === "--version" || first === "-v") {
    process.stdout.write(`${GATEWAY_VERSION}\n`);
    return ExitCode.OK;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    const topic = args[1];
    if (topic !== undefined && !Object.hasOwn(GATEWAY_COMMANDS, topic))
      throw unknownCommand(topic, Object.keys(GATEWAY_COMMANDS));
    process.stdout.write(topic === undefined ? HELP : gatewayCommandHelp(topic));
    return ExitCode.OK;
  }
  const name = first === undefined || first.startsWith("-") ? "run" : first;
  const rest = name === first ? args.slice(1) : args;
  const command = Object.hasOwn(GATEWAY_COMMANDS, name) ? GATEWAY_COMMANDS[name] : undefined;
  if (command === undefined) throw unknownCommand(name, Object.keys(GATEWAY_COMMANDS));
  if (!OWN_HELP.has(name) && (rest.includes("--help") || rest.includes("-h"))) {
    process.stdout.write(gatewayCommandHelp(name));
    return ExitCode.OK;
  }
  return command.run(rest);
}

async function run(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, {
    config: { type: "string", short: "c" },
    "log-level": { type: "string" },
    service: { type: "boolean" },
  });
  if (positionals.length > 0)
    throw new UsageError(`run takes no arguments, was given ${positionals.join(" ")}`);
  const levelFlag = values["log-level"];
  const configPath = locateConfig(values.config, CONFIG_ENV, CONFIG_FILE);
  if (values.service === true) {
    // Under the SCM the config is loaded inside the service start, so a bad config reaches the
    // service manager as exit code 3 instead of a timeout (deploy.md §3.4).
    const serviceLevel = levelFlag === undefined ? undefined : parseLevel(levelFlag);
    return runGatewayService({
      configPath,
      ...(serviceLevel === undefined ? {} : { logLevel: serviceLevel }),
    });
  }
  const config = loadGatewayConfig(configPath);
  const level = levelFlag === undefined ? config.log.level : parseLevel(levelFlag);
  if (level === undefined)
    throw new UsageError(
      `--log-level must be silent, error, warn, info or debug, was ${levelFlag}`,
    );
  const logger = createLogger("gtw", loggerOptions(config.log, { level }));
  let stop: (signal: string) => void = () => undefined;
  const app = createGatewayApp(config, logger, {
    configPath,
    onLockLost: () => {
      process.exitCode = ExitCode.FAILURE;
      stop("state lock lost");
    },
  });

  let stopping: Promise<void> | undefined;
  stop = (signal: string) => {
    if (stopping !== undefined) {
      logger.warn(
        "Second signal: exiting now; unanswered orders will be reconciled at the next start",
        { signal },
      );
      process.exit(130);
    }
    logger.info("Stopping", { signal });
    stopping = app.stop();
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  // `kill -HUP` re-reads the client keys, like `agent-gtw reload` (POSIX only)
  if (process.platform !== "win32")
    process.on("SIGHUP", () => {
      app.clientKeys.reload("SIGHUP");
    });
  process.on("uncaughtException", (error) => {
    // A bug: log it, stop cleanly so the journal is consistent, and let the service manager restart us.
    logger.error("Uncaught exception; stopping", { error: error.stack ?? String(error) });
    process.exitCode = ExitCode.FAILURE;
    stop("uncaughtException");
  });
  process.on("unhandledRejection", (reason) => {
    logger.error("Unhandled rejection; stopping", {
      error: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason),
    });
    process.exitCode = ExitCode.FAILURE;
    stop("unhandledRejection");
  });

  try {
    await app.start();
  } catch (error) {
    await app.stop().catch(() => undefined);
    throw error;
  }
  // Stay up until a signal starts the shutdown, then wait for it to finish.
  while (stopping === undefined) await Bun.sleep(200);
  await stopping;
  return typeof process.exitCode === "number" ? process.exitCode : ExitCode.OK;
}

function setState(args: readonly string[]): number {
  const { values, positionals } = parseCommandLine(args, {
    config: { type: "string", short: "c" },
    reason: { type: "string" },
  });
  const wanted = positionals[0]?.toUpperCase();
  if (positionals.length !== 1 || !TRADING_STATES.includes(wanted as TradingState)) {
    throw new UsageError(`state needs one of ${TRADING_STATES.join(", ")}`);
  }
  const config = loadGatewayConfig(locateConfig(values.config, CONFIG_ENV, CONFIG_FILE));
  const previous = readOperatorState(config.state_dir);
  writeOperatorState(config.state_dir, {
    state: wanted as TradingState,
    reason: (values.reason ?? "set by operator").slice(0, 200),
    at: Date.now(),
  });
  process.stdout.write(
    `trading state ${previous?.state ?? config.trading_state} -> ${wanted}; a running gateway applies it within a second\n`,
  );
  return ExitCode.OK;
}

function status(args: readonly string[]): number {
  const { values } = parseCommandLine(args, {
    config: { type: "string", short: "c" },
    json: { type: "boolean" },
  });
  const config = loadGatewayConfig(locateConfig(values.config, CONFIG_ENV, CONFIG_FILE));
  const current = readStatus(config.state_dir);
  if (current === undefined) {
    process.stderr.write(
      `${PROGRAM}: no status file in ${config.state_dir}: the gateway has not run there\n`,
    );
    return ExitCode.FAILURE;
  }
  const age = Date.now() - Number(current["updated_at"] ?? 0);
  const running = isRunning(current, Date.now());
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify({ running, ...current })}\n`);
  } else {
    const mt5 = current["mt5"] as { state?: string; detail?: string } | undefined;
    const journal = current["journal"] as
      | { entries?: number; unresolved?: number; failure?: string | null }
      | undefined;
    const crypto = current["crypto"] as { secretbox?: string; detail?: string } | undefined;
    process.stdout.write(
      [
        `gateway   ${String(current["gateway"])} ${running ? "running" : "NOT RUNNING"} (pid ${String(current["pid"])}, updated ${Math.round(age / 1000)} s ago)`,
        `endpoint  ${String(current["endpoint"])}`,
        `trading   ${String(current["effective_trading_state"])} (operator: ${String(current["trading_state"])}, ${String(current["trading_state_reason"])})`,
        `mt5       ${mt5?.state ?? "?"}${mt5?.detail === undefined ? "" : ` (${mt5.detail})`}`,
        `clients   ${String(current["clients_connected"])}`,
        `journal   ${journal?.entries ?? "?"} orders, ${journal?.unresolved ?? "?"} unresolved${journal?.failure ? `, FAILING: ${journal.failure}` : ""}`,
        `crypto    ${crypto?.secretbox ?? "?"}${crypto?.detail === undefined ? "" : ` (${crypto.detail})`}`,
        "",
      ].join("\n"),
    );
  }
  return running ? ExitCode.OK : ExitCode.FAILURE;
}

/** docs/MT5-SETUP.md §8: wait for the EA, run the conformance suite, exit 0 only if all passed. */
async function selftest(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, {
    config: { type: "string", short: "c" },
    backend: { type: "string" },
    trade: { type: "boolean" },
    symbol: { type: "string" },
    wait: { type: "string" },
    "log-level": { type: "string" },
  });
  if (positionals.length > 0)
    throw new UsageError(`selftest takes no arguments, was given ${positionals.join(" ")}`);
  if ((values.backend ?? "terminal") !== "terminal")
    throw new UsageError("selftest checks the terminal backend only: --backend terminal");
  const waitSeconds = Number(values.wait ?? "30");
  if (!Number.isInteger(waitSeconds) || waitSeconds < 1 || waitSeconds > 600)
    throw new UsageError(`--wait must be 1–600 seconds, was ${values.wait}`);
  const level = parseLevel(values["log-level"] ?? "warn");
  if (level === undefined)
    throw new UsageError(
      `--log-level must be silent, error, warn, info or debug, was ${values["log-level"]}`,
    );
  const config = loadGatewayConfig(locateConfig(values.config, CONFIG_ENV, CONFIG_FILE));
  const terminal = config.backend.terminal;
  const symbol = values.symbol ?? (config.limits.symbols[0] as string);
  const logger = createLogger("gtw", { level });
  const backend = new TerminalBackend({
    port: terminal.port,
    secret: readSecretFile(terminal.secret_file),
    heartbeatMs: terminal.heartbeat_ms,
    commandTimeoutMs: terminal.command_timeout_ms,
    logger,
  });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    await backend.start();
  } catch (error) {
    if (!(error instanceof AgentError)) throw error;
    throw new AgentError(
      error.code,
      `${describeError(error)}; if agent-gtw is running, stop it first (the EA connects to one listener)`,
      { cause: error },
    );
  }
  try {
    out(`Waiting up to ${waitSeconds} s for the EA on 127.0.0.1:${backend.port} ...`);
    const deadline = Date.now() + waitSeconds * 1000;
    while (backend.hello() === undefined && Date.now() < deadline) await Bun.sleep(100);
    if (backend.hello() === undefined) {
      // A failed handshake says more than "not connected": wrong secret, old EA, not logged in
      const why = backend.handshakeFailure() ?? backend.link().detail ?? "";
      out(`FAIL link: no EA connected within ${waitSeconds} s (${why}); see docs/MT5-SETUP.md §5`);
      return ExitCode.FAILURE;
    }
    const report = await runSelftest({
      backend,
      trade: values.trade === true,
      symbol,
      logger,
      out,
      magic: DEFAULT_MAGIC,
    });
    out(
      `${report.failed === 0 ? "OK" : "FAILED"}: ${report.passed} passed, ${report.failed} failed`,
    );
    return report.failed === 0 ? ExitCode.OK : ExitCode.FAILURE;
  } finally {
    await backend.stop();
  }
}
