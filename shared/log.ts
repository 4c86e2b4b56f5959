/**
 * Logging for both agents: consola underneath, one line per event on stderr (journald and Windows
 * log files both want lines), optionally mirrored to a file. Components receive a Logger and never
 * import consola, so tests can pass a silent one.
 *
 * Wording: capital first letter, no trailing period, identifiers as key=value. Audit lines start
 * with a marker from DESIGN §6 (`[SIG_OK]`, `[MT5_FILLED]`, ...) so they can be grepped.
 */
import {
  type ConsolaInstance,
  type ConsolaReporter,
  createConsola,
  type LogObject,
} from "consola/core";
import { LogFile } from "./log-file.ts";

export { DEFAULT_LOG_KEEP, DEFAULT_LOG_MAX_SIZE_MB } from "./log-file.ts";

export const LOG_LEVELS = ["silent", "error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** consola's numeric levels for our names. */
const CONSOLA_LEVEL: Record<LogLevel, number> = {
  silent: -999,
  error: 0,
  warn: 1,
  info: 3,
  debug: 4,
};

export type LogFields = Readonly<
  Record<string, string | number | boolean | bigint | null | undefined>
>;

export interface Logger {
  readonly level: LogLevel;
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  /** A logger for a sub-component: tags nest as `gtw:server`. */
  child(tag: string): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Also append every line to this file (a GUI-subsystem Windows service has no console). */
  file?: string;
  /** Rotate the file past this size (config `log.max_size_mb`). */
  maxFileBytes?: number;
  /** Rotated files kept (config `log.keep`). */
  keepFiles?: number;
  /** Write lines here instead of stderr (tests, CLI capture). */
  sink?: (line: string) => void;
}

/** A config's `log` section as the agents' schemas produce it (shared/config/fields.ts). */
export interface LogSection {
  readonly level: LogLevel;
  readonly file?: string | undefined;
  readonly max_size_mb: number;
  readonly keep: number;
}

/** Logger options from a config's `log` section; a `--log-level` or another file may override. */
export function loggerOptions(
  section: LogSection,
  override: { readonly level?: LogLevel | undefined; readonly file?: string | undefined } = {},
): LoggerOptions {
  const file = override.file ?? section.file;
  return {
    level: override.level ?? section.level,
    ...(file === undefined
      ? {}
      : { file, maxFileBytes: section.max_size_mb * 1024 * 1024, keepFiles: section.keep }),
  };
}

let defaultLevel: LogLevel = parseLevel(process.env["AGENT_LOG_LEVEL"]) ?? "info";

/** Used by the test preload and by `--log-level`; affects loggers created afterwards. */
export function setDefaultLogLevel(level: LogLevel): void {
  defaultLevel = level;
}

export function parseLevel(value: string | undefined): LogLevel | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(lower) ? (lower as LogLevel) : undefined;
}

export function createLogger(tag: string, options: LoggerOptions = {}): Logger {
  const level = options.level ?? defaultLevel;
  const write = options.sink ?? ((line: string) => process.stderr.write(`${line}\n`));
  const file =
    options.file === undefined
      ? undefined
      : new LogFile(options.file, {
          ...(options.maxFileBytes === undefined ? {} : { maxBytes: options.maxFileBytes }),
          ...(options.keepFiles === undefined ? {} : { keep: options.keepFiles }),
        });
  const reporter: ConsolaReporter = {
    log(entry: LogObject) {
      const line = formatLine(entry);
      write(line);
      file?.append(line);
    },
  };
  // throttle 0: consola otherwise collapses identical lines into "(repeated N times)", which an
  // audit trail must never do.
  const instance = createConsola({
    level: CONSOLA_LEVEL[level],
    reporters: [reporter],
    throttle: 0,
  });
  return new ConsolaLogger(instance.withTag(tag), level);
}

/** A logger that drops everything; for tests and for library defaults. */
export const silentLogger: Logger = {
  level: "silent",
  error() {},
  warn() {},
  info() {},
  debug() {},
  child() {
    return silentLogger;
  },
};

class ConsolaLogger implements Logger {
  readonly level: LogLevel;
  readonly #consola: ConsolaInstance;
  readonly #threshold: number;

  constructor(consola: ConsolaInstance, level: LogLevel) {
    this.#consola = consola;
    this.level = level;
    this.#threshold = CONSOLA_LEVEL[level];
  }

  // The level check happens before formatting so a disabled debug line on the order path
  // costs one comparison.
  error(message: string, fields?: LogFields): void {
    if (this.#threshold >= 0) this.#consola.error(withFields(message, fields));
  }

  warn(message: string, fields?: LogFields): void {
    if (this.#threshold >= 1) this.#consola.warn(withFields(message, fields));
  }

  info(message: string, fields?: LogFields): void {
    if (this.#threshold >= 3) this.#consola.info(withFields(message, fields));
  }

  debug(message: string, fields?: LogFields): void {
    if (this.#threshold >= 4) this.#consola.debug(withFields(message, fields));
  }

  child(tag: string): Logger {
    return new ConsolaLogger(this.#consola.withTag(tag), this.level);
  }
}

function withFields(message: string, fields: LogFields | undefined): string {
  if (fields === undefined) return message;
  let out = message;
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    out += ` ${key}=${formatValue(value)}`;
  }
  return out;
}

function formatValue(value: string | number | boolean | bigint | null): string {
  if (typeof value !== "string") return String(value);
  // Quote values a reader could not split on spaces; Z85 keys contain '=' but no spaces.
  return value === "" || /[\s"]/.test(value) ? JSON.stringify(value) : value;
}

function formatLine(entry: LogObject): string {
  const level = entry.type.toUpperCase().padEnd(5);
  const text = entry.args.map((arg) => (typeof arg === "string" ? arg : String(arg))).join(" ");
  const tag = entry.tag === "" ? "" : ` ${entry.tag}`;
  return `${entry.date.toISOString()} ${level}${tag} ${text}`;
}
