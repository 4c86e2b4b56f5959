/**
 * agent-gtw configuration: the schema (the one source of truth for keys, types and defaults),
 * loading with env overrides, and path resolution against the config file's folder.
 * config/gtw.example.yaml documents every key; a test keeps the two in step.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import {
  bindEndpoint,
  ipAddress,
  listenAddress,
  logSection,
  name,
  network,
  positiveInt,
  z85Key,
} from "../shared/config/fields.ts";
import { envParse, loadConfigFile } from "../shared/config/load.ts";
import { metricsAccessProblem } from "../shared/metrics/http.ts";
import { DEFAULTS } from "../shared/net/index.ts";
import {
  DEFAULT_CLOCK_SKEW_MS,
  DEFAULT_SIGNATURE_TTL_MS,
  MAX_CLOCK_SKEW_MS,
  MAX_SIGNATURE_TTL_MS,
  TRADING_STATES,
} from "../shared/protocol/index.ts";
import {
  DEFAULT_BALANCE,
  DEFAULT_CURRENCY,
  DEFAULT_LEVERAGE,
  DEFAULT_LOGIN,
  DEFAULT_TICK_INTERVAL_MS,
  volatilityProblem,
} from "./backend/sim/options.ts";
import { DEFAULT_SYMBOLS } from "./backend/sim/symbols.ts";
import { DEFAULT_RETENTION_DAYS } from "./orders/journal.ts";
import { STREAM_DEFAULTS } from "./streaming/stream-hub.ts";

/** An inference host needs one connection; a few spare cover a reconnect racing the old one. */
export const DEFAULT_CONNECTIONS_PER_CLIENT = 8;

/** Where agent-gtw serves /metrics unless the config says otherwise: loopback only. */
export const DEFAULT_METRICS_LISTEN = "127.0.0.1:9701";

const authorizedClient = z.object({ name, public_key: z85Key }).strict();

const signingKey = z
  .object({
    key_id: name,
    /** Ed25519 public key file written by keygen (`*.sign`). */
    file: z.string().min(1).optional(),
    /** Or the public key itself, Z85. */
    public_key: z85Key.optional(),
    /**
     * The CURVE clients (names of authorized clients) whose connections may carry orders signed
     * with this key. Without it: the client named like the key id (keygen gives both one name).
     */
    clients: z.array(name).min(1).optional(),
  })
  .strict()
  .refine((key) => (key.file === undefined) !== (key.public_key === undefined), {
    message: "give exactly one of file or public_key",
  });

const simBackend = z
  .object({
    seed: z.number().int().default(1),
    state_dir: z.string().min(1).default("state/sim"),
    sessions: z.enum(["forex", "always"]).default("forex"),
    tick_interval_ms: positiveInt.max(60_000).default(DEFAULT_TICK_INTERVAL_MS),
    /** Multiple of each symbol's realistic volatility: one number, or per symbol (+ default). */
    volatility: z
      .union([z.number(), z.record(z.string(), z.number())])
      .default(1)
      .superRefine((setting, context) => {
        const problem = volatilityProblem(
          setting,
          DEFAULT_SYMBOLS.map((spec) => spec.symbol),
        );
        if (problem !== undefined) context.addIssue({ code: "custom", message: problem });
      }),
    account: z
      .object({
        login: positiveInt.default(DEFAULT_LOGIN),
        currency: z
          .string()
          .regex(/^[A-Z]{3}$/)
          .default(DEFAULT_CURRENCY),
        balance: z.number().positive().default(DEFAULT_BALANCE),
        leverage: positiveInt.max(10_000).default(DEFAULT_LEVERAGE),
        margin_mode: z.enum(["HEDGING", "NETTING"]).default("HEDGING"),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The EA accepts a heartbeat in this range (GatewayBridge.mq5 HEARTBEAT_MIN_MS/MAX_MS). */
export const TERMINAL_HEARTBEAT_MIN_MS = 200;
export const TERMINAL_HEARTBEAT_MAX_MS = 10_000;

const terminalBackend = z
  .object({
    /** Loopback port the EA dials; the gateway listens on 127.0.0.1 only. */
    port: z.number().int().min(1).max(65535).default(5701),
    /** File holding the secret both ends of the EA link prove they know (keygen writes it). */
    secret_file: z.string().min(1).default("keys/terminal.secret"),
    /** Renamed: the EA link no longer sends a token (docs/EA-LINK.md §6.1). */
    token_file: z
      .never({
        error:
          "token_file was renamed secret_file: the EA link proves a shared secret instead of sending a token; regenerate it with `agent-gtw keygen --terminal-secret` and set the EA's InpSecret",
      })
      .optional(),
    heartbeat_ms: positiveInt
      .min(TERMINAL_HEARTBEAT_MIN_MS)
      .max(TERMINAL_HEARTBEAT_MAX_MS)
      .default(1000),
    command_timeout_ms: positiveInt.min(100).max(120_000).default(10_000),
  })
  .strict();

export const gatewayConfigSchema = z
  .object({
    gateway: z.object({ name }).strict(),
    /** ROUTER endpoint, e.g. tcp://0.0.0.0:5700. */
    endpoint: bindEndpoint().default("tcp://0.0.0.0:5700"),
    keys: z
      .object({
        /** The gateway's CURVE secret certificate (zcert `*.key_secret`). */
        server_secret: z.string().min(1),
        /** Directory of client public certificates (`*.key`), a list of keys, or both. */
        authorized_clients_dir: z.string().min(1).optional(),
        authorized_clients: z.array(authorizedClient).default([]),
        /** Order-signing keys whose signatures the gateway accepts. */
        signing_keys: z.array(signingKey).min(1, "at least one trusted signing key is required"),
      })
      .strict(),
    backend: z
      .object({
        type: z.enum(["sim", "terminal"]).default("sim"),
        sim: simBackend.prefault({}),
        terminal: terminalBackend.prefault({}),
      })
      .strict()
      .prefault({}),
    limits: z
      .object({
        /** Symbols the gateway will trade; anything else is refused. */
        symbols: z.array(z.string().regex(/^[A-Za-z0-9._#+-]{1,32}$/)).min(1),
        /** Lots per OPEN (and per partial CLOSE). */
        max_volume: z.number().positive(),
        /** Open positions on the account plus pending orders, counting all of them. */
        max_open_positions: positiveInt,
      })
      .strict(),
    /** Trading state at first start; after that the state file remembers the operator's choice. */
    trading_state: z.enum(TRADING_STATES).default("ACTIVE"),
    signatures: z
      .object({
        ttl_ms: positiveInt.max(MAX_SIGNATURE_TTL_MS).default(DEFAULT_SIGNATURE_TTL_MS),
        max_skew_ms: z.number().int().min(0).max(MAX_CLOCK_SKEW_MS).default(DEFAULT_CLOCK_SKEW_MS),
      })
      .strict()
      .prefault({}),
    journal: z
      .object({
        path: z.string().min(1).default("state/orders.journal"),
        retention_days: positiveInt.max(3650).default(DEFAULT_RETENTION_DAYS),
      })
      .strict()
      .prefault({}),
    /** Where the operator's trading-state file and the status file live. */
    state_dir: z.string().min(1).default("state"),
    transport: z
      .object({
        handshake_timeout_ms: positiveInt.max(120_000).default(DEFAULTS.handshakeTimeoutMs),
        /** The greeting and CURVE HELLO must arrive this soon (far sooner than the handshake). */
        hello_timeout_ms: positiveInt.max(60_000).default(DEFAULTS.helloTimeoutMs),
        heartbeat_interval_ms: z.number().int().min(0).max(60_000).default(2000),
        max_request_bytes: positiveInt.max(1_048_576).default(65_536),
        /** Requests being executed at once per client connection; more get RATE_LIMITED. */
        max_in_flight_per_client: positiveInt.max(100_000).default(1024),
        /** Connections one client may hold; a newer one closes its oldest. */
        max_connections_per_client: positiveInt.max(1024).default(DEFAULT_CONNECTIONS_PER_CLIENT),
        /** Client networks allowed to connect (defence in depth; the keys decide who gets in). */
        allowed_networks: z.array(network()).min(1).optional(),
      })
      .strict()
      .prefault({}),
    /** The event stream (SUBSCRIBE / EVENT, docs/PROTOCOL.md §13). */
    streaming: z
      .object({
        /** Trade events queued for one slow peer before it gets RESYNC_REQUIRED and is cut off. */
        max_queued_events: positiveInt.max(1_000_000).default(STREAM_DEFAULTS.maxQueuedEvents),
        /** Peers subscribed at once. */
        max_subscribers: positiveInt.max(10_000).default(STREAM_DEFAULTS.maxSubscribers),
        /** Of them, connections of one client. */
        max_subscribers_per_client: positiveInt
          .max(10_000)
          .default(STREAM_DEFAULTS.maxSubscribersPerClient),
      })
      .strict()
      .prefault({}),
    log: logSection,
    /** Prometheus GET /metrics (docs/DEPLOY.md, Monitoring). */
    metrics: z
      .object({
        /** host:port, or null for no metrics endpoint. Off loopback: token_file and/or allow. */
        listen: listenAddress().nullable().default(DEFAULT_METRICS_LISTEN),
        /** File holding the bearer token a scrape must send. */
        token_file: z.string().min(1).optional(),
        /** IP addresses allowed to scrape (canonical spelling). */
        allow: z.array(ipAddress()).max(256).default([]),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((config, context) => {
    if (config.transport.hello_timeout_ms >= config.transport.handshake_timeout_ms) {
      context.addIssue({
        code: "custom",
        path: ["transport", "hello_timeout_ms"],
        message: `must be less than transport.handshake_timeout_ms (${config.transport.handshake_timeout_ms})`,
      });
    }
    const { listen, token_file, allow } = config.metrics;
    if (listen !== null) {
      const problem = metricsAccessProblem(listen, token_file !== undefined, allow);
      if (problem !== null)
        context.addIssue({ code: "custom", path: ["metrics", "listen"], message: problem });
    }
    if (
      config.keys.authorized_clients_dir === undefined &&
      config.keys.authorized_clients.length === 0
    ) {
      context.addIssue({
        code: "custom",
        path: ["keys", "authorized_clients"],
        message: "no client is authorized: set authorized_clients_dir or list authorized_clients",
      });
    }
  });

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

/** The documented environment overrides (README, configuration reference). */
export const GATEWAY_ENV_OVERRIDES = [
  { env: "AGENT_GTW_ENDPOINT", path: ["endpoint"] },
  { env: "AGENT_GTW_BACKEND", path: ["backend", "type"] },
  {
    env: "AGENT_GTW_TERMINAL_PORT",
    path: ["backend", "terminal", "port"],
    parse: envParse.integer,
  },
  { env: "AGENT_LOG_LEVEL", path: ["log", "level"] },
] as const;

/** Load, validate and resolve every path against the config file's folder. */
export function loadGatewayConfig(
  file: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): GatewayConfig {
  const config = loadConfigFile(file, gatewayConfigSchema, {
    env,
    overrides: GATEWAY_ENV_OVERRIDES,
  });
  return resolvePaths(config, dirname(resolve(file)));
}

export function resolvePaths(config: GatewayConfig, base: string): GatewayConfig {
  const at = (path: string) => (isAbsolute(path) ? path : resolve(base, path));
  return Object.freeze({
    ...config,
    keys: Object.freeze({
      ...config.keys,
      server_secret: at(config.keys.server_secret),
      ...(config.keys.authorized_clients_dir === undefined
        ? {}
        : { authorized_clients_dir: at(config.keys.authorized_clients_dir) }),
      signing_keys: config.keys.signing_keys.map((key) =>
        Object.freeze(key.file === undefined ? key : { ...key, file: at(key.file) }),
      ),
    }),
    backend: Object.freeze({
      ...config.backend,
      sim: Object.freeze({ ...config.backend.sim, state_dir: at(config.backend.sim.state_dir) }),
      terminal: Object.freeze({
        ...config.backend.terminal,
        secret_file: at(config.backend.terminal.secret_file),
      }),
    }),
    journal: Object.freeze({ ...config.journal, path: at(config.journal.path) }),
    state_dir: at(config.state_dir),
    log: Object.freeze(
      config.log.file === undefined ? config.log : { ...config.log, file: at(config.log.file) },
    ),
    metrics: Object.freeze(
      config.metrics.token_file === undefined
        ? config.metrics
        : { ...config.metrics, token_file: at(config.metrics.token_file) },
    ),
  });
}
