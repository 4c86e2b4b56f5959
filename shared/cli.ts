/**
 * What both agents' command lines share: argument parsing that refuses unknown options, the
 * documented exit codes, locating the config file, and turning any error into one clear line.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { AgentError, ConfigError, describeError } from "./errors.ts";

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

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
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
  if (error instanceof UsageError) {
    process.stderr.write(`${program}: ${error.message} (see ${program} --help)\n`);
    return ExitCode.USAGE;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`${program}: ${error.message}\n`);
    return ExitCode.CONFIG;
  }
  if (error instanceof AgentError && error.code.startsWith("KEY_FILE")) {
    process.stderr.write(`${program}: ${error.message}\n`);
    return ExitCode.CONFIG;
  }
  process.stderr.write(`${program}: ${describeError(error)}\n`);
  return ExitCode.FAILURE;
}
