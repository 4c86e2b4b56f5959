/**
 * The log file both agents may mirror their lines to (`log.file`), rotated by size: when a line
 * would take the file past `max_size_mb`, `file` becomes `file.1`, `file.1` becomes `file.2`, …,
 * the oldest beyond `keep` is deleted, and a new `file` starts. Rotation is a few renames, so
 * log shippers that follow by name (Promtail, Fluent Bit, `tail -F`) pick the new file up.
 *
 * A file that cannot be written never takes the agent down: the failure goes to stderr, the one
 * channel left, and the next line tries again.
 */
import { appendFileSync, existsSync, mkdirSync, renameSync, statSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";

export const DEFAULT_LOG_MAX_SIZE_MB = 50;
export const DEFAULT_LOG_KEEP = 5;

export interface LogFileOptions {
  /** Rotate past this many bytes. */
  readonly maxBytes?: number;
  /** Rotated files kept; 0 deletes the full file instead. */
  readonly keep?: number;
  /** Where write failures are reported (stderr by default). */
  readonly complain?: (message: string) => void;
}

export class LogFile {
  readonly path: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #complain: (message: string) => void;
  #size: number;

  constructor(path: string, options: LogFileOptions = {}) {
    this.path = path;
    this.#maxBytes = options.maxBytes ?? DEFAULT_LOG_MAX_SIZE_MB * 1024 * 1024;
    this.#keep = options.keep ?? DEFAULT_LOG_KEEP;
    this.#complain = options.complain ?? ((message) => process.stderr.write(`${message}\n`));
    // A missing folder would turn every line into an error on stderr; create it once up front.
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (error) {
      this.#complain(`log: cannot create the folder of ${path}: ${String(error)}`);
    }
    this.#size = sizeOf(path);
  }

  /** Append one line (a newline is added), rotating first if it would not fit. */
  append(line: string): void {
    const text = `${line}\n`;
    const bytes = Buffer.byteLength(text);
    // Another process (a second agent on the same file, an operator's logrotate) may have moved
    // the file: the size we track is only a hint, refreshed whenever we rotate.
    if (this.#size > 0 && this.#size + bytes > this.#maxBytes) this.rotate();
    try {
      appendFileSync(this.path, text);
      this.#size += bytes;
    } catch (error) {
      this.#complain(`log: could not append to ${this.path}: ${String(error)}`);
    }
  }

  /** Shift `file` → `file.1` → … → `file.keep`, dropping the oldest. */
  rotate(): void {
    try {
      if (this.#keep === 0) {
        if (existsSync(this.path)) unlinkSync(this.path);
      } else {
        const oldest = `${this.path}.${this.#keep}`;
        if (existsSync(oldest)) unlinkSync(oldest);
        for (let n = this.#keep - 1; n >= 1; n--) {
          const from = `${this.path}.${n}`;
          if (existsSync(from)) renameSync(from, `${this.path}.${n + 1}`);
        }
        if (existsSync(this.path)) renameSync(this.path, `${this.path}.1`);
      }
    } catch (error) {
      this.#complain(`log: could not rotate ${this.path}: ${String(error)}`);
    }
    this.#size = sizeOf(this.path);
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
