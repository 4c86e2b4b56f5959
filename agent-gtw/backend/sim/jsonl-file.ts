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
  constants,
  existsSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { AgentError, FaultCode } from "../../../shared/errors.ts";
import type { CommitTarget } from "../../../shared/group-commit.ts";
import {
  openStateFile,
  readPrivateBytes,
  syncDirectory,
  writeStateFile,
} from "../../../shared/keys/private-file.ts";

/** The sim's files are compacted long before this; larger is not a file the sim wrote. */
const MAX_STATE_FILE_BYTES = 1024 * 1024 * 1024;

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
  const text = readPrivateBytes(path, {
    what: `sim ${what}`,
    maxBytes: MAX_STATE_FILE_BYTES,
    noFollow: true,
    code: FaultCode.STATE_FILE_INVALID,
  }).toString("utf8");
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
    // Not append mode (see above); never through a link planted in the state folder
    this.#fd = openStateFile(this.path, constants.O_RDWR | constants.O_CREAT, "sim state file");
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
  writeStateFile(path, text, { durable: true, what: "sim state file" });
}

function writeAll(fd: number, buffer: Uint8Array, position: number): void {
  let written = 0;
  while (written < buffer.length) {
    written += writeSync(fd, buffer, written, buffer.length - written, position + written);
  }
}

export function corrupt(message: string, cause?: unknown): AgentError {
  return new AgentError(FaultCode.JOURNAL_CORRUPT, message, { cause });
}

export function unavailable(message: string, cause?: unknown): AgentError {
  return new AgentError(FaultCode.JOURNAL_UNAVAILABLE, message, { cause });
}
