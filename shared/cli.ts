/**
 * What both agents' command lines share: argument parsing that refuses unknown options, the
 * documented exit codes, locating the config file, and turning any error into one clear line.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { AgentError, describeError, FaultCode } from "./errors.ts";

/** Exit codes, documented in the README. */
export const ExitCode = {
  OK: 0,
  /** The command ran and failed (gateway unreachable, order refused, service error). */
  FAILURE: 1,
  /** Bad command line. */
  USAGE: 2,
  /** Bad config file or key file. */
  CONFIG: 3,
  /** The outcome of an order is unknown (timed out and could not be reconciled). */
  UNKNOWN_OUTCOME: 4,
  /** agent-inf's risk checks refused the order: nothing was sent. */
  DENIED: 5,
  /** The gateway or MT5 refused the order (a retcode, a limit, the trading state). */
  REJECTED: 6,
  /** The order was not executed: the gateway answered an error (signature, expiry, busy, ...). */
  ORDER_ERROR: 7,
} as const;

/** A bad command line; any AgentError with code USAGE exits 2 the same way (exitCodeFor). */
export class UsageError extends AgentError {
  constructor(message: string, options?: ErrorOptions) {
    super(FaultCode.USAGE, message, options);
    this.name = "UsageError";
  }
}

/** Fault codes with an exit code of their own; every other fault exits FAILURE (1). */
const EXIT_CODE_OF_FAULT: Partial<Record<FaultCode, number>> = {
  [FaultCode.USAGE]: ExitCode.USAGE,
  [FaultCode.CONFIG_INVALID]: ExitCode.CONFIG,
  [FaultCode.KEY_FILE_INVALID]: ExitCode.CONFIG,
  [FaultCode.KEY_FILE_INSECURE]: ExitCode.CONFIG,
  [FaultCode.KEY_FILE_EXISTS]: ExitCode.CONFIG,
};

/** The documented exit code for anything a command throws, wherever it was thrown. */
export function exitCodeFor(error: unknown): number {
  if (!(error instanceof AgentError)) return ExitCode.FAILURE;
  return EXIT_CODE_OF_FAULT[error.code] ?? ExitCode.FAILURE;
}

export type OptionSpec = Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean }
>;

/**
 * parseArgs with strict checking; errors become UsageError with a plain message. A mistyped
 * option gets "did you mean", and a negative number is named as one (parseArgs would call
 * `-0.1` an unknown option `-0`).
 */
export function parseCommandLine<const T extends OptionSpec>(args: readonly string[], options: T) {
  const end = args.indexOf("--");
  for (const arg of end === -1 ? args : args.slice(0, end)) {
    if (/^-(\d|\.\d)/.test(arg))
      throw new UsageError(
        `${arg} is a negative number: volumes, prices, tickets and counts are positive (to sell, open SELL)`,
      );
  }
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = describeError(error).replace(/^TypeError \[[A-Z_]+\]: /, "");
    const unknown = /Unknown option '(-{1,2}[^']*)'/.exec(message)?.[1];
    const known = Object.keys(options).map((name) => `--${name}`);
    const guess =
      unknown === undefined ? undefined : closest(unknown.split("=")[0] as string, known);
    throw new UsageError(
      unknown === undefined
        ? message
        : `unknown option ${unknown}${guess === undefined ? "" : `; did you mean ${guess}?`}`,
    );
  }
}

/**
 * For scripts: when the arguments ask for help (`--help`, `-h`), print `usage` and return true;
 * the script then exits 0 before doing anything.
 */
export function printedHelp(args: readonly string[], usage: string): boolean {
  if (!args.includes("--help") && !args.includes("-h")) return false;
  process.stdout.write(usage.endsWith("\n") ? usage : `${usage}\n`);
  return true;
}

/** An unknown command, with the nearest known one when it is a likely typo. */
export function unknownCommand(name: string, known: readonly string[]): UsageError {
  const guess = closest(name, known);
  return new UsageError(
    `unknown command ${JSON.stringify(name)}${guess === undefined ? "" : `; did you mean ${guess}?`}`,
  );
}

/** The candidate within a small edit distance of `word` (or that it abbreviates), if one. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  for (const candidate of candidates) {
    const distance =
      candidate.startsWith(word) && word.length >= 4 ? 0.5 : editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** Edit distance counting a swap of neighbours as one edit (typos), case-insensitive. */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const rows: number[][] = [Array.from({ length: y.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min(
        (rows[i - 1]?.[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (rows[i - 1]?.[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1])
        best = Math.min(best, (rows[i - 2]?.[j - 2] as number) + 1);
      row[j] = best;
    }
    rows.push(row);
  }
  return rows[x.length]?.[y.length] as number;
}

/** True when running as a `bun build --compile` executable (deploy.md §1.3). */
export function isCompiled(): boolean {
  return Bun.main.startsWith("/$bunfs/") || Bun.main.includes("~BUN");
}

/**
 * The config file: --config, else the environment variable, else `<name>` next to the
 * executable (compiled) or in the working directory (development).
 */
export function locateConfig(flag: string | undefined, envVar: string, fileName: string): string {
  if (flag !== undefined) return flag;
  const fromEnv = process.env[envVar];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const candidates = isCompiled() ? [join(dirname(process.execPath), fileName)] : [fileName];
  return candidates.find((path) => existsSync(path)) ?? (candidates[0] as string);
}

/** Print an error as one line (ConfigError: its issue list) and return the exit code for it. */
export function reportError(program: string, error: unknown): number {
  const code = exitCodeFor(error);
  const hint = code === ExitCode.USAGE ? ` (see ${program} --help)` : "";
  process.stderr.write(`${program}: ${describeError(error)}${hint}\n`);
  return code;
}
