/**
 * `agent-gtw run --service`: the gateway under the Windows service control manager. The SCM
 * starts `"<exe>" run --service --config "<config>"` (written by `agent-gtw service install`);
 * this hands the process to shared/service/windows-scm.ts and builds the gateway inside the
 * service's start, so a bad config is reported to the SCM as a failed start (exit code 3)
 * instead of a process that died before the SCM heard from it.
 *
 * A service has no console (stdout goes nowhere), so the log always goes to a file: log.file
 * from the config, else logs\agent-gtw.log next to the config file.
 */
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ExitCode, exitCodeFor } from "../../shared/cli.ts";
import {
  createLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  loggerOptions,
} from "../../shared/log.ts";
import { runAsWindowsService } from "../../shared/service/windows-scm.ts";
import { createGatewayApp, type GatewayApp } from "../app.ts";
import { loadGatewayConfig } from "../config.ts";

export interface GatewayServiceOptions {
  readonly configPath: string;
  /** The installed service name (for the log; the SCM ignores it for own-process services). */
  readonly name?: string;
  readonly logLevel?: LogLevel;
}

/** The log file a service uses when its config names none. */
export function defaultServiceLogFile(configPath: string): string {
  return join(dirname(resolve(configPath)), "logs", "agent-gtw.log");
}

/** Resolves with the process exit code once the SCM has been told STOPPED. */
export async function runGatewayService(options: GatewayServiceOptions): Promise<number> {
  const fallbackLog = defaultServiceLogFile(options.configPath);
  try {
    mkdirSync(dirname(fallbackLog), { recursive: true });
  } catch {
    // The config may name another log file; a failure to log is reported by the logger itself
  }
  let logger: Logger = createLogger("gtw", {
    file: fallbackLog,
    ...(options.logLevel === undefined ? {} : { level: options.logLevel }),
  });
  // The lifecycle keeps the logger it was given; this one follows the config's once it is loaded
  const current: Logger = {
    get level() {
      return logger.level;
    },
    error: (message: string, fields?: LogFields) => logger.error(message, fields),
    warn: (message: string, fields?: LogFields) => logger.warn(message, fields),
    info: (message: string, fields?: LogFields) => logger.info(message, fields),
    debug: (message: string, fields?: LogFields) => logger.debug(message, fields),
    child: (tag: string) => logger.child(tag),
  };
  let app: GatewayApp | undefined;

  return runAsWindowsService(
    options.name ?? "agent-gtw",
    async (control) => {
      const config = loadGatewayConfig(options.configPath);
      const logFile = config.log.file ?? fallbackLog;
      // The logger appends but does not create folders; `service install` creates the usual one
      try {
        mkdirSync(dirname(logFile), { recursive: true });
      } catch {
        // Reported by the logger on its first line
      }
      logger = createLogger(
        "gtw",
        loggerOptions(config.log, { level: options.logLevel, file: logFile }),
      );
      logger.info("Starting as a Windows service", {
        service: control.serviceName,
        config: options.configPath,
      });
      // A bug must not leave a half-dead service that the SCM believes is running: stop cleanly
      // (the journal stays consistent) and report a failure, so the recovery actions restart us
      process.on("uncaughtException", (error) => {
        logger.error("Uncaught exception; stopping", { error: error.stack ?? String(error) });
        control.fail(ExitCode.FAILURE, "uncaught exception");
      });
      process.on("unhandledRejection", (reason) => {
        logger.error("Unhandled rejection; stopping", {
          error: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason),
        });
        control.fail(ExitCode.FAILURE, "unhandled rejection");
      });
      app = createGatewayApp(config, logger, {
        configPath: options.configPath,
        onLockLost: () => control.fail(ExitCode.FAILURE, "state folder lock lost"),
      });
      await app.start();
    },
    async () => {
      await app?.stop();
    },
    {
      logger: current,
      exitCodeFor,
    },
  );
}
