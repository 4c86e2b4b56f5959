/**
 * The command line of every benchmark script under scripts/: strict options (an unknown one is
 * an error), `--help` / `-h` printing the script's usage, and a bad option or value reported in
 * one line with the usage (exit 2) rather than a stack trace.
 */
import { type OptionSpec, parseCommandLine, UsageError } from "../../shared/cli.ts";

export interface BenchCommandLine {
  /** The script's name in messages, e.g. "bench-orders". */
  readonly name: string;
  /** Printed for --help and after a usage error. */
  readonly usage: string;
  /** Positional arguments accepted (default none). */
  readonly maxPositionals?: number;
}

/** Print the usage error and exit 2. */
function usageExit(command: BenchCommandLine, message: string): never {
  process.stderr.write(`${command.name}: ${message}\n\n${command.usage}\n`);
  process.exit(2);
}

/**
 * Parse `argv` (without the runtime and script); exits on --help (0) and on bad usage (2).
 * `integer(value, option, fallback, min, max)` reads a numeric option the same way.
 */
export function parseBenchArgs<const T extends OptionSpec>(
  argv: readonly string[],
  command: BenchCommandLine,
  options: T,
) {
  // Asked before parsing, so that --help works next to any other (even a bad) option
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${command.usage}\n`);
    process.exit(0);
  }
  let parsed: ReturnType<typeof parseCommandLine<T>>;
  try {
    parsed = parseCommandLine(argv, options);
  } catch (error) {
    if (error instanceof UsageError) usageExit(command, error.message);
    throw error;
  }
  const extra = parsed.positionals.length - (command.maxPositionals ?? 0);
  if (extra > 0) {
    usageExit(command, `unexpected arguments: ${parsed.positionals.slice(-extra).join(" ")}`);
  }
  /** An integer in [min, max], or `fallback` when absent; anything else is a usage error. */
  const integer = (
    value: string | undefined,
    option: string,
    fallback: number,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
  ): number => {
    if (value === undefined) return fallback;
    const number = Number(value);
    if (!Number.isSafeInteger(number) || number < min || number > max) {
      usageExit(command, `${option} must be an integer in ${min}..${max}, was ${value}`);
    }
    return number;
  };
  return { values: parsed.values, positionals: parsed.positionals, integer };
}
