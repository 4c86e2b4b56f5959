/**
 * `agent-inf run`: the service. Start: config → logger → app (keys, lanes, heartbeats) → local
 * API. Stop (SIGINT/SIGTERM): the API first, so no new order arrives while the lanes close, and it
 * lets in-flight requests finish; then the app. A second signal exits at once (130); an uncaught
 * error is logged and stops the agent the same graceful way with exit code 1, so the service
 * manager restarts it.
 */
import { ExitCode, locateConfig } from "../../shared/cli.ts";
import { describeError } from "../../shared/errors.ts";
import { createLogger, loggerOptions } from "../../shared/log.ts";
import { type ServiceNotifier, startServiceNotifier } from "../../shared/service/sd-notify.ts";
import { apiAuthFromConfig } from "../api/auth.ts";
import { type ApiServer, startApiServer } from "../api/server.ts";
import { createInferenceApp } from "../app.ts";
import { loadInferenceConfig } from "../config.ts";
import { INFERENCE_VERSION } from "../version.ts";
import { answerTimeoutMs } from "./api-commands.ts";
import { type CliCommand, CONFIG_ENV, CONFIG_FILE, PROGRAM } from "./command.ts";

type RunCommand = Extract<CliCommand, { kind: "run" }>;

export async function runService(command: RunCommand): Promise<number> {
  const config = loadInferenceConfig(locateConfig(command.config, CONFIG_ENV, CONFIG_FILE));
  // Read before anything starts: a missing or empty token is a config error, not a half-started agent.
  const auth = apiAuthFromConfig(config.api);
  const logger = createLogger("inf", loggerOptions(config.log, { level: command.logLevel }));
  const app = createInferenceApp(config, logger);
  // In-flight orders may need their whole reconcile deadline; past that, stop regardless.
  const drainMs = answerTimeoutMs(config, true);

  let stopping: Promise<void> | undefined;
  let failure: unknown;
  const started = (async (): Promise<ApiServer | undefined> => {
    await app.start();
    // A signal during app.start(): do not open the API only to close it again.
    if (stopping !== undefined) return undefined;
    return startApiServer(app, {
      listen: config.api.listen,
      auth,
      maxBodyBytes: config.api.max_body_bytes,
      stopGraceMs: drainMs,
      dashboard: {
        enabled: config.dashboard.enabled,
        sessionTtlMs: config.dashboard.session_hours * 3_600_000,
        idleTimeoutMs: config.dashboard.idle_minutes * 60_000,
      },
    });
  })();

  const shutdown = async (): Promise<void> => {
    const api = await started.catch((error: unknown) => {
      failure ??= error;
      return undefined;
    });
    if (api !== undefined)
      await api
        .stop()
        .catch((error: unknown) =>
          logger.error("Closing the API failed", { error: describeError(error) }),
        );
    await app.stop();
  };
  let notifier: ServiceNotifier | undefined;
  const onSignal = (signal: string) => {
    if (stopping !== undefined) {
      logger.warn("Second signal: exiting now; check unanswered orders with `agent-inf order ID`", {
        signal,
      });
      process.exit(130);
    }
    logger.info("Stopping", { reason: signal });
    notifier?.stopping(`stopping: ${signal}`);
    stopping = shutdown();
  };
  // A bug: log it, close the API and the connections in order, and exit 1 so the service
  // manager restarts us with a clean state. One that happens while stopping only gets logged.
  const onCrash = (what: string, error: unknown) => {
    logger.error(`${what}; stopping`, {
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    process.exitCode = ExitCode.FAILURE;
    notifier?.stopping(`stopping: ${what}`);
    stopping ??= shutdown();
  };
  const onSigint = () => onSignal("SIGINT");
  const onSigterm = () => onSignal("SIGTERM");
  const onException = (error: Error) => onCrash("Uncaught exception", error);
  const onRejection = (reason: unknown) => onCrash("Unhandled rejection", reason);
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  process.on("uncaughtException", onException);
  process.on("unhandledRejection", onRejection);

  try {
    let api: ApiServer | undefined;
    try {
      api = await started;
    } catch (error) {
      // Port taken, bad listen address...: close what app.start() opened, then report.
      stopping ??= shutdown();
      await stopping;
      throw error;
    }
    // The API logs its URL; stdout gets it too, for whoever started us by hand.
    if (api !== undefined)
      process.stdout.write(`${PROGRAM} ${INFERENCE_VERSION}: strategy API at ${api.url}\n`);
    // Under systemd (Type=notify): READY=1 now, watchdog pings while we run (no-op elsewhere).
    notifier = startServiceNotifier(logger, {
      status: api === undefined ? "running" : `strategy API at ${api.url}`,
    });
    // Stay up until a signal (or a crash handler) starts the shutdown, then wait for it.
    while (stopping === undefined) await Bun.sleep(200);
    await stopping;
    if (failure !== undefined) throw failure;
    return typeof process.exitCode === "number" ? process.exitCode : ExitCode.OK;
  } finally {
    notifier?.close();
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigterm);
    process.off("uncaughtException", onException);
    process.off("unhandledRejection", onRejection);
  }
}
