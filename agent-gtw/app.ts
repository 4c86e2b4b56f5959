/**
 * agent-gtw composition root: builds every component from the validated config, owns the start
 * and stop order. main.ts only parses arguments and calls this; tests build the whole gateway
 * here too.
 *
 * Start: lock the state folders → keys → journal (replay, loss checks) → backend → reconcile
 * what a crash left unresolved → cross-check the journal with the broker → bind.
 * Stop: refuse new signed actions → wait for in-flight ones (bounded) → close the socket →
 * stop the backend → close the journal (everything acknowledged is already synced) → unlock.
 */
import { type Clock, systemClock } from "../shared/clock.ts";
import type { CryptoBackendInfo } from "../shared/curve/box-backend.ts";
import { readTokenFile } from "../shared/http-access.ts";
import { readSecretKeyFile } from "../shared/keys/curve-keys.ts";
import type { Logger } from "../shared/log.ts";
import { type MetricsEndpoint, startMetricsEndpoint } from "../shared/metrics/http.ts";
import { SignatureVerifier } from "../shared/protocol/index.ts";
import type { StateLock } from "../shared/service/state-lock.ts";
import { installCryptoBackend } from "../shared/sodium/install.ts";
import { TradingStateHolder } from "../shared/trading-state.ts";
import type { Backend } from "./backend/backend.ts";
import { createBackend } from "./backend/create-backend.ts";
import { TerminalBackend } from "./backend/terminal/terminal-backend.ts";
import { type GatewayConfig, loadGatewayConfig } from "./config.ts";
import { cancelHandler } from "./operator/cancels.ts";
import { ClientKeys } from "./operator/client-keys.ts";
import { readOperatorState, watchOperatorState, writeStatus } from "./operator/control.ts";
import { OperatorDrain } from "./operator/drain.ts";
import {
  collectGatewayParts,
  countSocketEvent,
  createGatewayMetrics,
  executorMetrics,
  type GatewayMetrics,
  journalMetrics,
} from "./operator/metrics.ts";
import { reloadHandler } from "./operator/reload.ts";
import { watchOperatorRequests } from "./operator/requests.ts";
import { loadSigningKeys } from "./operator/signing-keys.ts";
import { simHandler } from "./operator/sim-market.ts";
import { lockStateFolders } from "./operator/state-folders.ts";
import { statusReport } from "./operator/status-report.ts";
import { OrderExecutor } from "./orders/executor.ts";
import { Journal, type JournalIo } from "./orders/journal.ts";
import { Gateway } from "./server/gateway.ts";
import { Refusals } from "./server/refusals.ts";
import { GatewayServer } from "./server/server.ts";
import { StreamHub } from "./streaming/stream-hub.ts";

export const GATEWAY_VERSION: string =
  (globalThis as { AGENT_VERSION?: string }).AGENT_VERSION ?? "0.1.0-dev";

/** Magic number and deviation used when an OPEN does not carry its own. */
export const DEFAULT_MAGIC = 20_261_121;
export const DEFAULT_DEVIATION_POINTS = 20;

export interface GatewayAppOptions {
  readonly clock?: Clock;
  /** Replace the backend (tests, the terminal backend). */
  readonly backend?: Backend;
  /** The journal's file operations (crash tests kill the process between them). */
  readonly journalIo?: JournalIo;
  /** How long stop() waits for in-flight orders before closing anyway. */
  readonly drainTimeoutMs?: number;
  /** The config file, re-read by `agent-gtw reload` for its inline client keys. */
  readonly configPath?: string;
  /** How often the client keys folder is re-scanned besides fs.watch (tests shorten it). */
  readonly keyRescanMs?: number;
  /** Called when the state folder's lock was deleted or taken while running (the CLI stops). */
  readonly onLockLost?: () => void;
}

export interface GatewayApp {
  readonly gateway: Gateway;
  readonly backend: Backend;
  readonly journal: Journal;
  readonly tradingState: TradingStateHolder;
  /** The event stream (SUBSCRIBE / EVENT). */
  readonly streaming: StreamHub;
  /** The endpoint actually bound (port resolved). */
  readonly endpoint: string;
  /** Refusals by reason (server/refusals.ts): the source of the refusal metrics. */
  readonly refusals: Refusals;
  /** The authorized client keys, kept current (operator/client-keys.ts). */
  readonly clientKeys: ClientKeys;
  readonly metrics: GatewayMetrics;
  /** Where /metrics is served once started (undefined: metrics.listen is null). */
  readonly metricsUrl: string | undefined;
  start(): Promise<string>;
  stop(): Promise<void>;
}

export function createGatewayApp(
  config: GatewayConfig,
  logger: Logger,
  options: GatewayAppOptions = {},
): GatewayApp {
  const clock = options.clock ?? systemClock;
  // First: an unusable AGENT_CRYPTO_BACKEND stops the start (exit 2), not a handshake later
  const crypto = installCryptoBackend({ logger });
  const locks = lockStateFolders(config, options.backend === undefined);
  try {
    return buildGatewayApp(config, logger, options, { clock, locks, crypto });
  } catch (error) {
    for (const lock of locks) lock.release();
    throw error;
  }
}

function buildGatewayApp(
  config: GatewayConfig,
  logger: Logger,
  options: GatewayAppOptions,
  held: {
    readonly clock: Clock;
    readonly locks: readonly StateLock[];
    readonly crypto: CryptoBackendInfo;
  },
): GatewayApp {
  const { clock, locks, crypto } = held;
  const server = readSecretKeyFile(config.keys.server_secret);
  let networkServer: GatewayServer | undefined;
  const clientKeys = new ClientKeys({
    dir: config.keys.authorized_clients_dir,
    inline: config.keys.authorized_clients,
    clock,
    logger: logger.child("keys"),
    ...(options.keyRescanMs === undefined ? {} : { rescanMs: options.keyRescanMs }),
    onChange: () => networkServer?.revokeSessions(),
  });
  const signing = loadSigningKeys(config, new Set(clientKeys.current.values()));
  const trustedKeys = signing.keys;
  const operator = readOperatorState(config.state_dir);
  const tradingState = new TradingStateHolder({
    clock,
    logger: logger.child("state"),
    initial: operator?.state ?? config.trading_state,
  });
  const metrics = createGatewayMetrics();
  // Read now: a missing or open token file is a config error before anything starts
  const metricsToken =
    config.metrics.token_file === undefined
      ? undefined
      : readTokenFile(config.metrics.token_file, "metrics.token_file");
  const journal = Journal.open({
    path: config.journal.path,
    clock,
    logger: logger.child("journal"),
    retentionMs: config.journal.retention_days * 24 * 3600 * 1000,
    onSync: journalMetrics(metrics),
    ...(options.journalIo === undefined ? {} : { io: options.journalIo }),
  });
  const refusals = new Refusals({ logger: logger.child("server") });
  const backend = options.backend ?? createBackend(config, clock, logger);
  const verifier = new SignatureVerifier({
    gatewayName: config.gateway.name,
    trustedKeys,
    clock,
    ttlMs: config.signatures.ttl_ms,
    skewMs: config.signatures.max_skew_ms,
  });
  const streaming = new StreamHub({
    backend,
    clock,
    logger: logger.child("stream"),
    maxQueuedEvents: config.streaming.max_queued_events,
    maxSubscribers: config.streaming.max_subscribers,
    maxSubscribersPerClient: config.streaming.max_subscribers_per_client,
  });
  let gateway: Gateway | undefined;
  const executor = new OrderExecutor({
    backend,
    journal,
    verifier,
    limits: {
      symbols: new Set(config.limits.symbols),
      maxVolume: config.limits.max_volume,
      maxOpenPositions: config.limits.max_open_positions,
    },
    tradingState: () => gateway?.effectiveTradingState() ?? "HALTED",
    clock,
    logger: logger.child("orders"),
    defaultMagic: DEFAULT_MAGIC,
    defaultDeviation: DEFAULT_DEVIATION_POINTS,
    keyAllowed: signing.allowed,
    retentionMs: config.journal.retention_days * 24 * 3600 * 1000,
    signatureRefused: (log) => refusals.record("signature_refused", log),
    events: executorMetrics(metrics),
  });
  gateway = new Gateway({
    name: config.gateway.name,
    version: GATEWAY_VERSION,
    backend,
    executor,
    journal,
    tradingState,
    clock,
    logger: logger.child("gateway"),
    streaming,
    signatureWindow: verifier.window,
    refusals,
  });
  const gatewayNow = gateway;
  networkServer = new GatewayServer({
    endpoint: config.endpoint,
    publicKey: server.publicKey,
    secretKey: server.secretKey,
    clients: () => clientKeys.current,
    gateway,
    logger: logger.child("server"),
    handshakeTimeoutMs: config.transport.handshake_timeout_ms,
    helloTimeoutMs: config.transport.hello_timeout_ms,
    heartbeatIntervalMs: config.transport.heartbeat_interval_ms,
    maxRequestBytes: config.transport.max_request_bytes,
    maxInFlightPerClient: config.transport.max_in_flight_per_client,
    maxConnectionsPerClient: config.transport.max_connections_per_client,
    ...(config.transport.allowed_networks === undefined
      ? {}
      : { allowedNetworks: config.transport.allowed_networks }),
    streaming,
    refusals,
  });
  const net = networkServer;
  net.onSocketEvent((event) => countSocketEvent(metrics, event));
  const drain = new OperatorDrain({
    gateway,
    executor,
    journal,
    clock,
    logger: logger.child("control"),
  });
  collectGatewayParts(metrics, {
    version: GATEWAY_VERSION,
    backend,
    journal,
    streaming,
    clientsConnected: () => net.connectedClients,
    tradingState: () => tradingState.state,
    effectiveTradingState: () => gateway?.effectiveTradingState() ?? "HALTED",
    ...(backend instanceof TerminalBackend ? { eaRoundTripMs: () => backend.lastRoundTripMs } : {}),
    refusals: () => refusals.counts(),
  });

  let metricsEndpoint: MetricsEndpoint | undefined;
  let stopWatching: (() => void) | undefined;
  let stopRequests: (() => void) | undefined;
  let stopEvents: (() => void) | undefined;
  let statusTimer: { cancel(): void } | undefined;
  let lockLost = false;
  let started = false;
  const startedAt = clock.now();
  const status = () =>
    statusReport({
      config,
      version: GATEWAY_VERSION,
      startedAt,
      clock,
      net,
      gateway: gatewayNow,
      tradingState,
      backend,
      clientKeys,
      journal,
      executor,
      refusals,
      streaming,
      metricsUrl: () => metricsEndpoint?.url,
      crypto,
    });
  /** Every second: the status file, and whether the state folders are still ours. */
  const tick = () => {
    writeStatus(config.state_dir, status(), logger);
    if (lockLost || locks.every((lock) => lock.check())) return;
    lockLost = true;
    logger.error(
      "The state folder's lock file was deleted or taken by another process; stopping so that two gateways never share a journal",
      { locks: locks.map((lock) => lock.path).join(",") },
    );
    options.onLockLost?.();
  };

  const app: GatewayApp = {
    gateway,
    streaming,
    backend,
    journal,
    tradingState,
    refusals,
    clientKeys,
    get endpoint() {
      return net.endpoint;
    },
    metrics,
    get metricsUrl() {
      return metricsEndpoint?.url;
    },
    async start() {
      // Listening before the backend starts: its first quotes seed the first subscriptions
      streaming.start();
      await backend.start();
      // EVENT frames (EA) and sim fills can settle an UNKNOWN outcome as soon as they happen.
      stopEvents = backend.subscribe((event) => executor.onBackendEvent(event));
      const unresolved = await executor.reconcileUnresolved();
      if (unresolved > 0)
        logger.warn("Some orders are still unresolved; retrying in the background", {
          count: unresolved,
        });
      // Signed actions wait for this; without MT5 it retries in the background
      if (!(await executor.checkBroker()))
        logger.warn("Signed actions are refused until the journal is cross-checked with MT5", {
          reason: executor.brokerCheckState().reason,
        });
      clientKeys.start();
      const endpoint = await net.start();
      if (config.metrics.listen !== null)
        metricsEndpoint = startMetricsEndpoint({
          listen: config.metrics.listen,
          registry: metrics.registry,
          logger: logger.child("metrics"),
          token: metricsToken,
          allow: config.metrics.allow,
        });
      stopWatching = watchOperatorState(
        config.state_dir,
        tradingState,
        clock,
        logger.child("control"),
      );
      const control = logger.child("control");
      stopRequests = watchOperatorRequests({
        stateDir: config.state_dir,
        clock,
        logger: control,
        handlers: {
          cancel: cancelHandler({
            gatewayName: config.gateway.name,
            executor,
            backend,
            clock,
            logger: control,
          }),
          sim: simHandler({ backend, logger: control }),
          drain: drain.handler(),
          reload: reloadHandler({
            logger: control,
            inline: () =>
              options.configPath === undefined
                ? config.keys.authorized_clients
                : loadGatewayConfig(options.configPath).keys.authorized_clients,
            reload: (inline) => {
              const change = clientKeys.reload("agent-gtw reload", inline);
              return { change, closed: net.revokeSessions() };
            },
          }),
        },
      });
      writeStatus(config.state_dir, status(), logger);
      statusTimer = clock.setInterval(tick, 1000);
      started = true;
      logger.info("Gateway ready", {
        gateway: config.gateway.name,
        backend: backend.kind,
        trading_state: tradingState.state,
        clients: clientKeys.current.size,
        signing_keys: trustedKeys.size,
      });
      return endpoint;
    },
    async stop() {
      drain.stop();
      gateway?.drain();
      stopRequests?.();
      const deadline = clock.monotonic() + (options.drainTimeoutMs ?? 10_000);
      while (executor.inFlight > 0 && clock.monotonic() < deadline) await Bun.sleep(10);
      if (executor.inFlight > 0)
        logger.warn("Stopping with orders in flight; they will be reconciled", {
          count: executor.inFlight,
        });
      executor.stop();
      stopEvents?.();
      stopWatching?.();
      clientKeys.stop();
      statusTimer?.cancel();
      await metricsEndpoint?.stop();
      await net.stop();
      streaming.stop();
      await backend.stop();
      if (started) writeStatus(config.state_dir, { ...status(), stopped_at: clock.now() }, logger);
      journal.close();
      for (const lock of locks) lock.release();
      logger.info("Gateway stopped");
    },
  };
  return app;
}
