/**
 * Options of the simulated broker, their defaults in one place, and the checks that make a bad
 * combination fail at construction instead of on the first trade.
 */
import type { Clock } from "../../../shared/clock.ts";
import { AgentError, FaultCode } from "../../../shared/errors.ts";
import type { Logger } from "../../../shared/log.ts";
import type { FillingMode, MarginMode } from "../../../shared/protocol/index.ts";
import { MAX_VOLATILITY, MIN_VOLATILITY } from "./history/symbol-history.ts";
import type { SessionSchedule } from "./sessions.ts";
import type { SymbolOverride } from "./symbols.ts";

export const DEFAULT_LOGIN = 5_000_001;
export const DEFAULT_CURRENCY = "USD";
export const DEFAULT_BALANCE = 10_000;
export const DEFAULT_LEVERAGE = 100;
export const DEFAULT_STOP_OUT_LEVEL = 50;
export const DEFAULT_MARGIN_CALL_LEVEL = 100;
export const DEFAULT_TICK_INTERVAL_MS = 250;
/** Older than this while the session is open, a quote counts as missing (10021). */
export const DEFAULT_STALE_QUOTE_MS = 30_000;
/** Compact the state log into a snapshot once it holds this many records. */
export const DEFAULT_COMPACT_EVERY = 10_000;
export const SIM_SERVER_NAME = "SimBroker-Demo";

export interface SimAccountOptions {
  readonly login?: number;
  readonly name?: string;
  /** Deposit currency; default USD. */
  readonly currency?: string;
  /** Opening balance of a fresh state directory (ignored once state exists). */
  readonly balance?: number;
  readonly leverage?: number;
  readonly marginMode?: MarginMode;
  /** ACCOUNT_MARGIN_SO_SO, percent. */
  readonly stopOutLevel?: number;
  /** ACCOUNT_MARGIN_SO_CALL, percent. */
  readonly marginCallLevel?: number;
}

export interface SimBackendOptions {
  readonly clock: Clock;
  /** Seeds the quote generator of a fresh state directory. */
  readonly seed: number;
  /** Where the broker's books live (snapshot + write-ahead log); created if missing. */
  readonly stateDir: string;
  readonly logger?: Logger;
  readonly account?: SimAccountOptions;
  /** Changes to default symbols, or complete new ones. */
  readonly symbols?: readonly SymbolOverride[];
  /** "forex" (default): weekly Fri 22:00 → Sun 22:00 UTC close; "always": never closes. */
  readonly sessions?: SessionSchedule;
  readonly tickIntervalMs?: number;
  readonly staleQuoteMs?: number;
  /** Trade requests per rolling second before TOO_MANY_REQUESTS (10024); default unlimited. */
  readonly maxOrdersPerSecond?: number;
  /** Open positions before LIMIT_POSITIONS (10040); default unlimited. */
  readonly maxPositions?: number;
  /** Active pending orders before LIMIT_ORDERS (10033, ACCOUNT_LIMIT_ORDERS); default unlimited. */
  readonly maxPendingOrders?: number;
  /** The terminal's Algo Trading switch; false gives CLIENT_DISABLES_AT (10027). Default true. */
  readonly tradeAllowed?: boolean;
  /**
   * Filling mode every request carries. The Backend interface has no filling field, so by default
   * the sim chooses like the EA: FOK if the symbol allows it, else IOC, else RETURN.
   */
  readonly forceFilling?: FillingMode;
  readonly compactEvery?: number;
  /**
   * How fast prices move, as a multiple of each symbol's own (realistic) daily volatility: one
   * number for every symbol, or per symbol with an optional `default`. Default 1. A change
   * applies from the next start on; the past already generated stays as it was.
   */
  readonly volatility?: VolatilitySetting;
}

export type VolatilitySetting = number | Readonly<Record<string, number>>;

/** The key of a per-symbol volatility map that sets every symbol not named. */
export const VOLATILITY_DEFAULT_KEY = "default";

/**
 * What is wrong with a volatility setting for these symbols, or undefined: a multiplier out of
 * bounds, or a symbol the sim does not have. One check for the config schema and the sim.
 */
export function volatilityProblem(
  setting: VolatilitySetting,
  symbols: readonly string[],
): string | undefined {
  const entries = typeof setting === "number" ? [["", setting] as const] : Object.entries(setting);
  for (const [name, value] of entries) {
    if (name !== "" && name !== VOLATILITY_DEFAULT_KEY && !symbols.includes(name)) {
      return `volatility names ${name}, which is not a sim symbol (known: ${symbols.join(", ")}, or ${VOLATILITY_DEFAULT_KEY})`;
    }
    const problem = volatilityValueProblem(value);
    if (problem !== undefined) return `volatility${name === "" ? "" : ` of ${name}`} ${problem}`;
  }
  return undefined;
}

/** Why a volatility multiplier is out of bounds, or undefined. */
export function volatilityValueProblem(value: number): string | undefined {
  return Number.isFinite(value) && value >= MIN_VOLATILITY && value <= MAX_VOLATILITY
    ? undefined
    : `must be a multiplier from ${MIN_VOLATILITY} to ${MAX_VOLATILITY} (1 = realistic), was ${value}`;
}

/** The multiplier of every symbol under a setting (checked with volatilityProblem). */
export function resolveVolatility(
  setting: VolatilitySetting | undefined,
  symbols: readonly string[],
): Map<string, number> {
  const resolved = new Map<string, number>();
  if (setting === undefined) return resolved;
  const problem = volatilityProblem(setting, symbols);
  if (problem !== undefined) throw usage(`sim: ${problem}`);
  for (const symbol of symbols) {
    const value =
      typeof setting === "number"
        ? setting
        : (setting[symbol] ?? setting[VOLATILITY_DEFAULT_KEY] ?? 1);
    resolved.set(symbol, value);
  }
  return resolved;
}

export interface ResolvedAccount {
  readonly login: number;
  readonly name: string;
  readonly currency: string;
  readonly balance: number;
  readonly leverage: number;
  readonly marginMode: MarginMode;
  readonly stopOutLevel: number;
  readonly marginCallLevel: number;
}

export function resolveAccount(options: SimAccountOptions = {}): ResolvedAccount {
  const account: ResolvedAccount = {
    login: options.login ?? DEFAULT_LOGIN,
    name: options.name ?? "Simulated Account",
    currency: options.currency ?? DEFAULT_CURRENCY,
    balance: options.balance ?? DEFAULT_BALANCE,
    leverage: options.leverage ?? DEFAULT_LEVERAGE,
    marginMode: options.marginMode ?? "HEDGING",
    stopOutLevel: options.stopOutLevel ?? DEFAULT_STOP_OUT_LEVEL,
    marginCallLevel: options.marginCallLevel ?? DEFAULT_MARGIN_CALL_LEVEL,
  };
  if (!Number.isSafeInteger(account.login) || account.login <= 0) {
    throw usage(`sim: account login must be a positive integer (was ${account.login})`);
  }
  if (!Number.isFinite(account.balance) || account.balance < 0) {
    throw usage(`sim: account balance must be ≥ 0 (was ${account.balance})`);
  }
  if (!Number.isSafeInteger(account.leverage) || account.leverage < 1) {
    throw usage(`sim: account leverage must be an integer ≥ 1 (was ${account.leverage})`);
  }
  if (account.marginMode !== "HEDGING" && account.marginMode !== "NETTING") {
    throw usage(`sim: account marginMode must be HEDGING or NETTING (was ${account.marginMode})`);
  }
  if (!(account.stopOutLevel >= 0) || account.stopOutLevel > account.marginCallLevel) {
    throw usage(
      `sim: stop-out level must be ≥ 0 and ≤ the margin-call level (was ${account.stopOutLevel} ` +
        `and ${account.marginCallLevel})`,
    );
  }
  return account;
}

/** Throws unless `value` is undefined or a positive integer. */
export function positiveInteger(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
    throw usage(`sim: ${name} must be a positive integer (was ${value})`);
  }
  return value;
}

export function usage(message: string): AgentError {
  return new AgentError(FaultCode.USAGE, message);
}
