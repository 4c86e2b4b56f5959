/**
 * agent-inf configuration: the schema (the one source of truth for keys, types and defaults),
 * loading with env overrides, and path resolution against the config file's folder.
 * config/inf.example.yaml documents every key; a test keeps the two in step.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import {
  connectEndpoint,
  listenAddress,
  logSection,
  name,
  positiveInt,
  z85Key,
} from "../shared/config/fields.ts";
import { envParse, loadConfigFile } from "../shared/config/load.ts";
import { parseHostPort } from "../shared/net/index.ts";
import { TRADING_STATES } from "../shared/protocol/index.ts";
import { resolveCredentialPath } from "../shared/service/credentials.ts";
import { GATEWAY_CLIENT_DEFAULTS } from "./gateway/gateway-client.ts";
import {
  DEFAULT_HEARTBEAT_FAILURE_THRESHOLD,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_HEARTBEAT_RECOVERY_SUCCESSES,
} from "./lane/heartbeat.ts";
import { UnknownGatewayError } from "./lane/lane.ts";
import { DEFAULT_FRESHNESS } from "./live-view/live-view.ts";
import { DAILY_LOSS_ACTIONS, type RiskLimits, riskLimitIssues } from "./risk/types.ts";

/** `api.auth`: a bearer token on every request (default), or none (loopback only). */
export const API_AUTH_KINDS = ["token", "none"] as const;
export type ApiAuthKind = (typeof API_AUTH_KINDS)[number];

const nullablePositive = z.number().positive().nullable();

const gatewayEntry = z
  .object({
    /** The gateway's configured name (its gateway.name); orders are signed for it. */
    name,
    endpoint: connectEndpoint(),
    /** The gateway's public CURVE certificate (`agent-gtw.key`) ... */
    server_key_file: z.string().min(1).optional(),
    /** ... or its public key, Z85. */
    server_key: z85Key.optional(),
    /** The gateway used when a request names none. Exactly one entry (or the only one) is default. */
    default: z.boolean().default(false),
    request_timeout_ms: positiveInt.max(120_000).default(GATEWAY_CLIENT_DEFAULTS.requestTimeoutMs),
    order_timeout_ms: positiveInt.max(300_000).default(GATEWAY_CLIENT_DEFAULTS.orderTimeoutMs),
    reconcile_deadline_ms: positiveInt
      .max(3_600_000)
      .default(GATEWAY_CLIENT_DEFAULTS.reconcileDeadlineMs),
  })
  .strict()
  .refine((entry) => (entry.server_key_file === undefined) !== (entry.server_key === undefined), {
    message: "give exactly one of server_key_file or server_key",
  });

const riskSchema = z
  .object({
    allowed_symbols: z.array(z.string().regex(/^[A-Za-z0-9._#+-]{1,32}$/)).min(1),
    max_lots: z.number().positive(),
    max_notional: nullablePositive.default(null),
    require_stop_loss: z.boolean().default(true),
    max_risk_percent: nullablePositive.default(1),
    max_positions: positiveInt.nullable().default(10),
    max_positions_per_symbol: positiveInt.nullable().default(3),
    max_orders_per_second: positiveInt.nullable().default(5),
    max_orders_per_minute: positiveInt.nullable().default(60),
    daily_loss_limit: z
      .object({ money: nullablePositive.default(null), percent: nullablePositive.default(3) })
      .strict()
      .prefault({}),
    daily_loss_action: z.enum(DAILY_LOSS_ACTIONS).default("REDUCING"),
    max_drawdown_percent: nullablePositive.default(10),
    max_spread_points: nullablePositive.default(null),
    max_quote_age_ms: positiveInt.nullable().default(10_000),
    time_zone: z.string().min(1).default("UTC"),
    kelly: z
      .object({
        enabled: z.boolean().default(false),
        fraction: z.number().positive().max(1).default(0.25),
        max_fraction: z.number().positive().max(1).default(0.02),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const inferenceConfigSchema = z
  .object({
    agent: z.object({ name }).strict(),
    keys: z
      .object({
        /** This host's CURVE certificate (`<name>.key_secret`, mode 0600). */
        client_secret: z.string().min(1),
        /** This host's Ed25519 order-signing key (`<name>.sign_secret`, mode 0600). */
        signing_secret: z.string().min(1),
      })
      .strict(),
    gateways: z.array(gatewayEntry).min(1, "configure at least one gateway"),
    heartbeat: z
      .object({
        interval_ms: positiveInt.min(100).max(600_000).default(DEFAULT_HEARTBEAT_INTERVAL_MS),
        /** A PING unanswered this long counts as a failure; at most interval_ms. */
        timeout_ms: positiveInt.optional(),
        failure_threshold: positiveInt.max(100).default(DEFAULT_HEARTBEAT_FAILURE_THRESHOLD),
        recovery_successes: positiveInt.max(100).default(DEFAULT_HEARTBEAT_RECOVERY_SUCCESSES),
      })
      .strict()
      .prefault({}),
    risk: riskSchema,
    /** Trading state at first start; after that the operator's choice is remembered in state_dir. */
    trading_state: z.enum(TRADING_STATES).default("ACTIVE"),
    api: z
      .object({
        /** host:port; a non-loopback host requires a token. */
        listen: listenAddress().default("127.0.0.1:8765"),
        /** `token`: every request needs a bearer token; `none`: loopback only, logged at start. */
        auth: z.enum(API_AUTH_KINDS).default("token"),
        /** The strategy token: trade and read (api/auth.ts). */
        token_file: z.string().min(1).optional(),
        /** The operator token: also the trading state and the breaker. */
        operator_token_file: z.string().min(1).optional(),
        max_body_bytes: positiveInt.max(1_048_576).default(16_384),
      })
      .strict()
      .prefault({}),
    /** The gateways' event streams: the live view and the strategies' streams (API.md §9). */
    stream: z
      .object({
        /** Off: no subscription, orders ask the gateway for everything, stream routes answer 503. */
        enabled: z.boolean().default(true),
        /** An order reuses account figures read this recently (a fill also triggers a re-read). */
        account_max_age_ms: positiveInt.max(60_000).default(DEFAULT_FRESHNESS.accountMaxAgeMs),
        /** An order reuses a symbol's specification read this recently, with the live quote. */
        symbol_info_max_age_ms: positiveInt
          .max(600_000)
          .default(DEFAULT_FRESHNESS.symbolInfoMaxAgeMs),
        /** A live quote not updated for this long is asked for again. */
        quote_idle_ms: positiveInt.max(600_000).default(DEFAULT_FRESHNESS.quoteIdleMs),
        /** Strategy stream connections (SSE and WebSocket) at once. */
        max_connections: positiveInt.max(10_000).default(64),
        /** Trade events queued for one slow stream reader before it is cut off (it resyncs). */
        max_queued_events: positiveInt.max(1_000_000).default(10_000),
      })
      .strict()
      .prefault({}),
    /** The live web dashboard on the API's address (docs/DASHBOARD.md). */
    dashboard: z
      .object({
        /** Serve it under /dashboard (same address, tokens and guards as the API). */
        enabled: z.boolean().default(true),
        /** A login lasts at most this long. */
        session_hours: positiveInt.max(720).default(12),
        /** A session nobody used for this long ends (its page polls every few seconds). */
        idle_minutes: positiveInt.max(1440).default(60),
      })
      .strict()
      .prefault({}),
    /** Where the operator's trading state and the equity high-water mark survive restarts. */
    state_dir: z.string().min(1).default("state"),
    log: logSection,
  })
  .strict()
  .superRefine((config, context) => {
    const defaults = config.gateways.filter((gateway) => gateway.default);
    if (config.gateways.length > 1 && defaults.length !== 1) {
      context.addIssue({
        code: "custom",
        path: ["gateways"],
        message: "with several gateways, mark exactly one default: true",
      });
    }
    const names = config.gateways.map((gateway) => gateway.name);
    if (new Set(names).size !== names.length) {
      context.addIssue({
        code: "custom",
        path: ["gateways"],
        message: "gateway names must be unique",
      });
    }
    if (
      config.heartbeat.timeout_ms !== undefined &&
      config.heartbeat.timeout_ms > config.heartbeat.interval_ms
    ) {
      context.addIssue({
        code: "custom",
        path: ["heartbeat", "timeout_ms"],
        message: "must not exceed interval_ms",
      });
    }
    for (const issue of riskLimitIssues(toRiskLimits(config.risk))) {
      context.addIssue({
        code: "custom",
        path: ["risk", ...issue.path.split(".")],
        message: issue.message,
      });
    }
    for (const issue of apiAuthIssues(config.api)) context.addIssue({ code: "custom", ...issue });
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: config.risk.time_zone });
    } catch {
      context.addIssue({
        code: "custom",
        path: ["risk", "time_zone"],
        message: `unknown IANA time zone ${config.risk.time_zone}`,
      });
    }
  });

export type InferenceConfig = z.infer<typeof inferenceConfigSchema>;

/**
 * The API's auth rules: with `auth: token` (the default) both token files are named; `none`
 * only on a loopback address, and without token files (they would do nothing).
 */
function apiAuthIssues(api: {
  readonly listen: string;
  readonly auth: ApiAuthKind;
  readonly token_file?: string | undefined;
  readonly operator_token_file?: string | undefined;
}): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  const listen = parseHostPort(api.listen);
  if (api.auth === "none") {
    if (listen.ok && !listen.value.host.loopback)
      issues.push({
        path: ["api", "auth"],
        message: `auth: none is allowed on loopback only, and the API listens on ${listen.value.host.host}: use auth: token`,
      });
    for (const key of ["token_file", "operator_token_file"] as const)
      if (api[key] !== undefined)
        issues.push({
          path: ["api", key],
          message: "auth: none uses no token: remove this key, or use auth: token",
        });
    return issues;
  }
  const missing = {
    token_file: "the strategy's bearer token (trade and read)",
    operator_token_file: "the operator's bearer token (trading state, breaker)",
  } as const;
  for (const [key, what] of Object.entries(missing) as [keyof typeof missing, string][])
    if (api[key] === undefined)
      issues.push({
        path: ["api", key],
        message: `required with auth: token (the default): ${what}; write one with \`agent-inf keygen --dir <keys> --add ${key === "token_file" ? "api-token" : "operator-token"}\`, or set auth: none (loopback only)`,
      });
  if (
    api.token_file !== undefined &&
    api.operator_token_file !== undefined &&
    resolve(api.token_file) === resolve(api.operator_token_file)
  )
    issues.push({
      path: ["api", "operator_token_file"],
      message: "must be another file than token_file: the operator's token is not the strategy's",
    });
  return issues;
}
export type GatewayEntry = InferenceConfig["gateways"][number];

/** The gateway entry named, or the default one (marked `default`, else the only one). */
export function findGateway(config: InferenceConfig, name?: string): GatewayEntry {
  const entry =
    name === undefined
      ? (config.gateways.find((gateway) => gateway.default) ?? config.gateways[0])
      : config.gateways.find((gateway) => gateway.name === name);
  if (entry === undefined)
    throw new UnknownGatewayError(
      name,
      config.gateways.map((gateway) => gateway.name),
    );
  return entry;
}

/** The documented environment overrides. */
export const INFERENCE_ENV_OVERRIDES = [
  { env: "AGENT_INF_API_LISTEN", path: ["api", "listen"] },
  { env: "AGENT_INF_HEARTBEAT_MS", path: ["heartbeat", "interval_ms"], parse: envParse.integer },
  { env: "AGENT_LOG_LEVEL", path: ["log", "level"] },
] as const;

export function loadInferenceConfig(
  file: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): InferenceConfig {
  const config = loadConfigFile(file, inferenceConfigSchema, {
    env,
    overrides: INFERENCE_ENV_OVERRIDES,
  });
  return useCredentials(resolvePaths(config, dirname(resolve(file))), env);
}

/**
 * Under systemd the key and token files arrive as credentials (`LoadCredential=`, written by
 * `agent-inf service install`): read `$CREDENTIALS_DIRECTORY/<file name>` where one exists, since
 * the service's user cannot read /etc/agent-inf/keys itself (shared/service/credentials.ts).
 */
export function useCredentials(
  config: InferenceConfig,
  env: Readonly<Record<string, string | undefined>>,
): InferenceConfig {
  if (env["CREDENTIALS_DIRECTORY"] === undefined) return config;
  const credential = (path: string) => resolveCredentialPath(path, env);
  return Object.freeze({
    ...config,
    keys: Object.freeze({
      client_secret: credential(config.keys.client_secret),
      signing_secret: credential(config.keys.signing_secret),
    }),
    gateways: config.gateways.map((gateway) =>
      Object.freeze(
        gateway.server_key_file === undefined
          ? gateway
          : { ...gateway, server_key_file: credential(gateway.server_key_file) },
      ),
    ),
    api: Object.freeze(mapTokenFiles(config.api, credential)),
  });
}

export function resolvePaths(config: InferenceConfig, base: string): InferenceConfig {
  const at = (path: string) => (isAbsolute(path) ? path : resolve(base, path));
  return Object.freeze({
    ...config,
    keys: Object.freeze({
      client_secret: at(config.keys.client_secret),
      signing_secret: at(config.keys.signing_secret),
    }),
    gateways: config.gateways.map((gateway) =>
      Object.freeze(
        gateway.server_key_file === undefined
          ? gateway
          : { ...gateway, server_key_file: at(gateway.server_key_file) },
      ),
    ),
    api: Object.freeze(mapTokenFiles(config.api, at)),
    state_dir: at(config.state_dir),
    log: Object.freeze(
      config.log.file === undefined ? config.log : { ...config.log, file: at(config.log.file) },
    ),
  });
}

/** The api section with both token file paths mapped (resolved, or to a credential). */
function mapTokenFiles(
  api: InferenceConfig["api"],
  map: (path: string) => string,
): InferenceConfig["api"] {
  return {
    ...api,
    ...(api.token_file === undefined ? {} : { token_file: map(api.token_file) }),
    ...(api.operator_token_file === undefined
      ? {}
      : { operator_token_file: map(api.operator_token_file) }),
  };
}

/** The risk monitor's view of the config section. */
export function toRiskLimits(risk: InferenceConfig["risk"]): RiskLimits {
  return {
    allowedSymbols: risk.allowed_symbols,
    maxLots: risk.max_lots,
    maxNotional: risk.max_notional,
    requireStopLoss: risk.require_stop_loss,
    maxRiskPercent: risk.max_risk_percent,
    maxPositions: risk.max_positions,
    maxPositionsPerSymbol: risk.max_positions_per_symbol,
    maxOrdersPerSecond: risk.max_orders_per_second,
    maxOrdersPerMinute: risk.max_orders_per_minute,
    dailyLossLimit: { money: risk.daily_loss_limit.money, percent: risk.daily_loss_limit.percent },
    dailyLossAction: risk.daily_loss_action,
    maxDrawdownPercent: risk.max_drawdown_percent,
    maxSpreadPoints: risk.max_spread_points,
    maxQuoteAgeMs: risk.max_quote_age_ms,
    timeZone: risk.time_zone,
    kelly: {
      enabled: risk.kelly.enabled,
      fraction: risk.kelly.fraction,
      maxFraction: risk.kelly.max_fraction,
    },
  };
}
