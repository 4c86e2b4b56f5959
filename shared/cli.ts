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

/** parseArgs with strict checking; errors become UsageError with a plain message. */
export function parseCommandLine<const T extends OptionSpec>(args: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(describeError(error).replace(/^TypeError \[[A-Z_]+\]: /, ""));
  }
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
