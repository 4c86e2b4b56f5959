/**
 * agent-gtw's commands: `run` (the service), `state` (operator trading state), `status`.
 * Every command prints one clear line on error and returns a documented exit code.
 */
import { ExitCode, locateConfig, parseCommandLine, UsageError } from "../../shared/cli.ts";
import { AgentError, describeError } from "../../shared/errors.ts";
import { runKeygenCommand } from "../../shared/keys/keygen-command.ts";
import { createLogger, parseLevel } from "../../shared/log.ts";
import { TRADING_STATES, type TradingState } from "../../shared/protocol/index.ts";
import { runWindowsServiceCommand } from "../../shared/service/windows.ts";
import { CRYPTO_BACKEND_HELP } from "../../shared/sodium/install.ts";
import { createGatewayApp, DEFAULT_MAGIC, GATEWAY_VERSION } from "../app.ts";
import { readSecretFile } from "../backend/terminal/secret.ts";
import { TerminalBackend } from "../backend/terminal/terminal-backend.ts";
import { loadGatewayConfig } from "../config.ts";
import { readOperatorState, readStatus, writeOperatorState } from "../operator/control.ts";
import { operatorCancel } from "./cancel.ts";
import { runSelftest } from "./selftest/selftest.ts";
import { runGatewayService } from "./service-run.ts";

const PROGRAM = "agent-gtw";
const CONFIG_ENV = "AGENT_GTW_CONFIG";
const CONFIG_FILE = "agent-gtw.yaml";

const HELP = `agent-gtw ${GATEWAY_VERSION}: the MT5 Live Bridge gateway (CurveZMQ in, MetaTrader 5 out)

Usage:
  agent-gtw [run] [--config FILE] [--log-level LEVEL]   run the gateway in the foreground
  agent-gtw run --service [--config FILE]               run under the Windows service manager
  agent-gtw keygen [--dir DIR] [--name NAME] [--terminal-secret]
                                                        generate the gateway's CURVE key pair
  agent-gtw service install|uninstall|status [--config FILE] [--name NAME]
                                                        manage the Windows service (no extra download)
  agent-gtw state ACTIVE|REDUCING|HALTED [--reason TEXT] [--config FILE]
                                                        set the operator trading state
  agent-gtw status [--config FILE] [--json]             what the running gateway reports
  agent-gtw cancel TICKET... | --all [--symbol SYMBOL] [--reason TEXT] [--wait SECONDS] [--config FILE]
                                                        cancel pending orders as the operator
                                                        (also while HALTED)
  agent-gtw selftest --backend terminal [--trade] [--symbol SYMBOL] [--wait SECONDS] [--config FILE]
                                                        check the MT5 terminal link (stop the
                                                        gateway first; --trade: DEMO accounts only)
  agent-gtw --version | --help

The config file is --config, else $${CONFIG_ENV}, else ${CONFIG_FILE} next to the executable
(or in the working directory when run from source).
${CRYPTO_BACKEND_HELP}

Exit codes: 0 ok, 1 failure (or a failed self-test step), 2 usage error, 3 config or key file error.
`;

export async function runGatewayCli(args: readonly string[]): Promise<number> {
  const first = args[0];
  if (first === "--version" || first === "-v") {
    process.stdout.write(`${GATEWAY_VERSION}\n`);
    return ExitCode.OK;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(HELP);
    return ExitCode.OK;
  }
  const command = first === undefined || first.startsWith("-") ? "run" : first;
  const rest = command === first ? args.slice(1) : args;
  switch (command) {
    case "run":
      return run(rest);
    case "state":
      return setState(rest);
    case "status":
      return status(rest);
    case "cancel":
      return operatorCancel(rest);
    case "selftest":
      return selftest(rest);
    case "keygen":
      return runKeygenCommand("agent-gtw", rest);
    case "service":
      return runWindowsServiceCommand(rest);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

async function run(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, {
    config: { type: "string", short: "c" },
    "log-level": { type: "string" },
    service: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return ExitCode.OK;
  }
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
  const logger = createLogger("gtw", {
    level,
    ...(config.log.file === undefined ? {} : { file: config.log.file }),
  });
  const app = createGatewayApp(config, logger);

  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
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
  const running = current["stopped_at"] === undefined && age < 5000;
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
