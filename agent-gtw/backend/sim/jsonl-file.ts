/**
 * One JSON value per line, appended durably: the file format of the sim's state log and deal
 * history. Writes go to explicit offsets on a read-write handle (not append mode: on Windows an
 * append handle may not truncate, and recovery and compaction both truncate), each batch is one
 * write followed by fdatasync: blocking (`append`), or on the thread pool when a group commit
 * drives the file (`commitTarget`, shared/group-commit.ts).
 *
 * Reading distinguishes a torn tail from corruption: batches are written as whole lines ending in
 * "\n", so a last line without one, or one that does not parse, is a write cut short by a crash
 * and was never acknowledged. Any other unreadable line is corruption.
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { AgentError, FaultCode } from "../../../shared/errors.ts";
import type { CommitTarget } from "../../../shared/group-commit.ts";

export interface JsonlLine {
  readonly value: unknown;
  /** 1-based. */
  readonly lineNumber: number;
  /** Byte offset just after this line's "\n". */
  readonly end: number;
}

export interface JsonlContent {
  readonly lines: readonly JsonlLine[];
  /** Line number of a torn last line that was left out, if any. */
  readonly tornLine: number | undefined;
}

/** Parse a JSONL file; throws JOURNAL_CORRUPT naming the file and line for a bad inner line. */
export function readJsonl(path: string, what: string): JsonlContent {
  const text = readFileSync(path, "utf8");
  const parts = text.split("\n");
  let last = parts.length - 1;
  while (last >= 0 && parts[last] === "") last -= 1;
  const lastIsComplete = last < parts.length - 1;
  const lines: JsonlLine[] = [];
  let offset = 0;
  for (let index = 0; index <= last; index++) {
    const line = parts[index]!;
    offset += Buffer.byteLength(line) + 1;
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      if (index !== last) {
        throw corrupt(`sim: ${what} ${path} line ${index + 1} is corrupt`, error);
      }
    }
    if (index === last && (value === undefined || !lastIsComplete)) {
      return { lines, tornLine: index + 1 };
    }
    lines.push({ value, lineNumber: index + 1, end: offset });
  }
  return { lines, tornLine: undefined };
}

export class JsonlFile {
  readonly path: string;
  #fd: number | undefined;
  #size = 0;

  constructor(path: string) {
    this.path = path;
  }

  get size(): number {
    return this.#size;
  }

  /** Open (creating it durably if needed) and cut it to `length` bytes when given. */
  open(length?: number): void {
    const created = !existsSync(this.path);
    this.#fd = openSync(this.path, created ? "w+" : "r+");
    if (created) syncDirectory(dirname(this.path));
    this.#size = fstatSync(this.#fd).size;
    if (length !== undefined && length !== this.#size) this.truncate(length);
  }

  /** Write whole lines and make them durable. */
  append(lines: readonly string[]): void {
    if (lines.length === 0) return;
    const buffer = Buffer.from(`${lines.join("\n")}\n`);
    writeAll(this.#require(), buffer, this.#size);
    fdatasyncSync(this.#require());
    this.#size += buffer.length;
  }

  /** The file as a group commit's target: positioned writes at the end, fdatasync. */
  commitTarget(): CommitTarget {
    return {
      write: (buffer) => {
        writeAll(this.#require(), buffer, this.#size);
        this.#size += buffer.length;
      },
      sync: (done) => {
        const fd = this.#fd;
        if (fd === undefined) done(unavailable(`sim: ${this.path} is not open`));
        else fdatasync(fd, done);
      },
      syncNow: () => fdatasyncSync(this.#require()),
    };
  }

  truncate(length: number): void {
    ftruncateSync(this.#require(), length);
    fdatasyncSync(this.#require());
    this.#size = length;
  }

  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    this.#fd = undefined;
  }

  #require(): number {
    if (this.#fd === undefined) throw unavailable(`sim: ${this.path} is not open`);
    return this.#fd;
  }
}

/** Replace a file atomically and durably: write a temporary, fsync, rename, fsync the folder. */
export function writeFileDurably(path: string, text: string): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, "w");
  try {
    writeAll(fd, Buffer.from(text), 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  syncDirectory(dirname(path));
}

function writeAll(fd: number, buffer: Uint8Array, position: number): void {
  let written = 0;
  while (written < buffer.length) {
    written += writeSync(fd, buffer, written, buffer.length - written, position + written);
  }
}

/**
 * Make a new or renamed directory entry durable. Windows cannot open a directory as a file, and
 * NTFS journals the metadata itself, so there is nothing to do there.
 */
function syncDirectory(dir: string): void {
  if (process.platform === "win32") return;
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function corrupt(message: string, cause?: unknown): AgentError {
  return new AgentError(FaultCode.JOURNAL_CORRUPT, message, { cause });
}

export function unavailable(message: string, cause?: unknown): AgentError {
  return new AgentError(FaultCode.JOURNAL_UNAVAILABLE, message, { cause });
}
