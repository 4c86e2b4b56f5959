/**
 * The vocabulary agent-inf's commands share: what a parsed command is (CliCommand, Action), how
 * a command is specified in the table (CommandSpec), and the program's names. Types and
 * constants only, so the command families and the table import it without importing each other.
 */
import type { OptionSpec } from "../../shared/cli.ts";
import type { LogLevel } from "../../shared/log.ts";

export const PROGRAM = "agent-inf";
export const CONFIG_ENV = "AGENT_INF_CONFIG";
export const CONFIG_FILE = "agent-inf.yaml";
export const PING_MAX_COUNT = 100_000;

/** How the API's answer is shown, and which exit code it maps to (cli-format.ts). */
export type ApiView =
  | "order-result"
  | "order-record"
  | "account"
  | "positions"
  | "symbol"
  | "health"
  | "control";

/** Market data (market-output.ts): streamed, printed as a table, JSON or CSV. */
export type MarketView = "symbols" | "rates" | "ticks" | "deals" | "orders";

export interface ApiCall {
  readonly method: "GET" | "POST";
  /** Path and query string, e.g. `/v1/positions?symbol=EURUSD`. */
  readonly path: string;
  readonly body?: Readonly<Record<string, unknown>>;
}

export type Action =
  | { readonly kind: "run"; readonly logLevel?: LogLevel }
  | {
      readonly kind: "ping";
      readonly count: number;
      readonly intervalMs: number;
      /** PINGs sent first and left out of the figures (connection and JIT warm-up). */
      readonly warmup?: number;
      readonly gateway?: string;
    }
  | { readonly kind: "api"; readonly view: ApiView; readonly call: ApiCall }
  | {
      readonly kind: "market";
      readonly view: MarketView;
      /** Path and query string of the GET. */
      readonly path: string;
      readonly csv: boolean;
    }
  | {
      readonly kind: "watch";
      readonly symbols: readonly string[];
      readonly gateway?: string;
      readonly count?: number;
    };

export interface Parsed {
  readonly positionals: readonly string[];
  readonly values: ArgValues;
}

export type Group = "service" | "orders" | "data" | "operator" | "diagnostics";

export interface CommandSpec {
  readonly group: Group;
  /** Arguments after the command name, for the command's help. */
  readonly usage: string;
  /** A shorter form for the overview, when `usage` is long. */
  readonly synopsis?: string;
  readonly summary: string;
  /** Option lines for `agent-inf COMMAND --help`. */
  readonly details?: string;
  readonly options: OptionSpec;
  /** Whether the output is data, so --json applies. */
  readonly json: boolean;
  readonly build: (parsed: Parsed) => Action;
}

/** Option values as node:util parseArgs returns them (no `multiple` options here). */
export type ArgValues = Readonly<Record<string, string | boolean | undefined>>;

export type CliCommand =
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "version" }
  /** keygen, service and upgrade: they parse their own arguments. */
  | {
      readonly kind: "setup";
      readonly name: "keygen" | "service" | "upgrade";
      readonly args: readonly string[];
    }
  | (Action & { readonly name: string; readonly config?: string; readonly json: boolean });
