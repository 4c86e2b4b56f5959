/**
 * agent-gtw composition root: builds every component from the validated config, owns the start
 * and stop order. main.ts only parses arguments and calls this; tests build the whole gateway
 * here too.
 *
 * Start: keys → journal (replay) → backend → reconcile what a crash left unresolved → bind.
 * Stop: refuse new signed actions → wait for in-flight ones (bounded) → close the socket →
 * stop the backend → close the journal (everything acknowledged is already synced).
 */
import { type Clock, systemClock } from "../shared/clock.ts";
import { z85DecodeKey, z85Encode } from "../shared/curve/z85.ts";
import { AgentError, FaultCode } from "../shared/errors.ts";
import { readTokenFile } from "../shared/http-access.ts";
import { readPublicKeysDir, readSecretKeyFile } from "../shared/keys/curve-keys.ts";
import { readSigningPublicKeyFile } from "../shared/keys/signing-keys.ts";
import type { Logger } from "../shared/log.ts";
import { type MetricsEndpoint, startMetricsEndpoint } from "../shared/metrics/http.ts";
import { SignatureVerifier } from "../shared/protocol/index.ts";
import { installCryptoBackend } from "../shared/sodium/install.ts";
import { TradingStateHolder } from "../shared/trading-state.ts";
import type { Backend } from "./backend/backend.ts";
import { SimBackend } from "./backend/sim/sim-backend.ts";
import { readSecretFile } from "./backend/terminal/secret.ts";
import { TerminalBackend } from "./backend/terminal/terminal-backend.ts";
import type { GatewayConfig } from "./config.ts";
import { cancelHandler } from "./operator/cancels.ts";
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
import { watchOperatorRequests } from "./operator/requests.ts";
import { simHandler } from "./operator/sim-market.ts";
import { OrderExecutor } from "./orders/executor.ts";
import { Journal, type JournalIo } from "./orders/journal.ts";
import { Gateway } from "./server/gateway.ts";
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
  const server = readSecretKeyFile(config.keys.server_secret);
  const clients = loadAuthorizedClients(config, logger);
  const trustedKeys = loadSigningKeys(config);
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
  });
  const networkServer = new GatewayServer({
    endpoint: config.endpoint,
    publicKey: server.publicKey,
    secretKey: server.secretKey,
    clients: () => clients,
    gateway,
    logger: logger.child("server"),
    handshakeTimeoutMs: config.transport.handshake_timeout_ms,
    heartbeatIntervalMs: config.transport.heartbeat_interval_ms,
    maxRequestBytes: config.transport.max_request_bytes,
    maxInFlightPerClient: config.transport.max_in_flight_per_client,
    streaming,
  });
  networkServer.onSocketEvent((event) => countSocketEvent(metrics, event));
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
    clientsConnected: () => networkServer.connectedClients,
    tradingState: () => tradingState.state,
    effectiveTradingState: () => gateway?.effectiveTradingState() ?? "HALTED",
    ...(backend instanceof TerminalBackend ? { eaRoundTripMs: () => backend.lastRoundTripMs } : {}),
  });

  let metricsEndpoint: MetricsEndpoint | undefined;
  let stopWatching: (() => void) | undefined;
  let stopRequests: (() => void) | undefined;
  let stopEvents: (() => void) | undefined;
  let statusTimer: { cancel(): void } | undefined;
  let started = false;
  const startedAt = clock.now();
  const status = () => ({
    pid: process.pid,
    version: GATEWAY_VERSION,
    gateway: config.gateway.name,
    endpoint: networkServer.endpoint,
    started_at: startedAt,
    updated_at: clock.now(),
    trading_state: tradingState.state,
    trading_state_reason: tradingState.reason,
    effective_trading_state: gateway?.effectiveTradingState(),
    mt5: backend.link(),
    clients_connected: networkServer.connectedClients,
    journal: {
      entries: journal.size,
      unresolved: journal.unresolved().length,
      failure: journal.failure?.message ?? null,
    },
    requests: gateway?.counters,
    streaming: streaming.stats(),
    metrics: metricsEndpoint?.url ?? null,
    crypto,
  });

  const app: GatewayApp = {
    gateway,
    streaming,
    backend,
    journal,
    tradingState,
    get endpoint() {
      return networkServer.endpoint;
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
      const endpoint = await networkServer.start();
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
        },
      });
      writeStatus(config.state_dir, status(), logger);
      statusTimer = clock.setInterval(() => writeStatus(config.state_dir, status(), logger), 1000);
      started = true;
      logger.info("Gateway ready", {
        gateway: config.gateway.name,
        backend: backend.kind,
        trading_state: tradingState.state,
        clients: clients.size,
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
      statusTimer?.cancel();
      await metricsEndpoint?.stop();
      await networkServer.stop();
      streaming.stop();
      await backend.stop();
      if (started) writeStatus(config.state_dir, { ...status(), stopped_at: clock.now() }, logger);
      journal.close();
      logger.info("Gateway stopped");
    },
  };
  return app;
}

/** The backend the config names: the simulated MT5 or the terminal (EA) link. */
export function createBackend(config: GatewayConfig, clock: Clock, logger: Logger): Backend {
  if (config.backend.type === "terminal") {
    const terminal = config.backend.terminal;
    return new TerminalBackend({
      port: terminal.port,
      secret: readSecretFile(terminal.secret_file),
      heartbeatMs: terminal.heartbeat_ms,
      commandTimeoutMs: terminal.command_timeout_ms,
      clock,
      logger,
    });
  }
  const sim = config.backend.sim;
  return new SimBackend({
    clock,
    seed: sim.seed,
    stateDir: sim.state_dir,
    logger: logger.child("sim"),
    sessions: sim.sessions,
    tickIntervalMs: sim.tick_interval_ms,
    volatility: sim.volatility,
    account: {
      login: sim.account.login,
      currency: sim.account.currency,
      balance: sim.account.balance,
      leverage: sim.account.leverage,
      marginMode: sim.account.margin_mode,
    },
  });
}

/** Z85 → client name, from the directory of `*.key` files and the inline list. */
function loadAuthorizedClients(config: GatewayConfig, logger: Logger): Map<string, string> {
  const clients = new Map<string, string>();
  if (config.keys.authorized_clients_dir !== undefined) {
    for (const file of readPublicKeysDir(config.keys.authorized_clients_dir)) {
      const name =
        file.metadata.get("name") ?? file.path.replace(/^.*[\\/]/, "").replace(/\.key$/, "");
      clients.set(z85Encode(file.publicKey), name);
    }
  }
  for (const client of config.keys.authorized_clients) {
    clients.set(z85Encode(z85DecodeKey(client.public_key)), client.name);
  }
  if (clients.size === 0)
    logger.warn("No client key is authorized: every connection will be refused");
  return clients;
}

function loadSigningKeys(config: GatewayConfig): Map<string, Uint8Array> {
  const keys = new Map<string, Uint8Array>();
  for (const entry of config.keys.signing_keys) {
    let publicKey: Uint8Array;
    if (entry.file !== undefined) {
      const file = readSigningPublicKeyFile(entry.file);
      if (file.keyId !== entry.key_id) {
        throw new AgentError(
          FaultCode.CONFIG_INVALID,
          `config: signing key ${entry.file} has key-id ${file.keyId}, but the config names it ${entry.key_id}`,
        );
      }
      publicKey = file.publicKey;
    } else {
      publicKey = z85DecodeKey(entry.public_key as string);
    }
    keys.set(entry.key_id, publicKey);
  }
  return keys;
}
