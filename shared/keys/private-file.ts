/**
 * The files an agent reads or writes for itself: secrets (key files, the EA link secret, the API
 * token) and everything in its state folders (journal, checkpoints, lock, status and operator
 * files). One open, and every check on that same descriptor, so a file swapped between check and
 * read is not read; a regular file only, checked before a byte is read (a FIFO or device is
 * refused, not waited on: the open does not block); bounded before anything is allocated; on
 * POSIX mode 0600 or stricter for secrets (deploy.md §5.3); UTF-8 text. Errors name the file and
 * the fix: KEY_FILE_INVALID, or KEY_FILE_INSECURE for a file others may read (exit 3 either way).
 *
 * State files are opened with no-follow semantics where the OS has them (O_NOFOLLOW on Linux and
 * macOS; Windows has no such flag): a symbolic link planted in a state folder is refused, and a
 * file is replaced by writing a fresh temporary (created exclusively, never through a link) and
 * renaming it over the old one. Key files may be links (deployment tools link them into place);
 * their target's type and mode are what is checked.
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { AgentError, describeError, FaultCode } from "../errors.ts";

/** 0 where the platform lacks the flag (Windows): the open then simply follows or blocks as usual. */
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
const NON_BLOCK = constants.O_NONBLOCK ?? 0;

export interface PrivateFileOptions {
  /** What the file is, as the messages name it: "key file", "API token file", ... */
  readonly what: string;
  /** Larger files are refused unread. */
  readonly maxBytes: number;
  /** Check the mode as on this platform (none on win32); undefined: a public file, no check. */
  readonly privateOn?: NodeJS.Platform | undefined;
  /** Refuse a symbolic link as the file itself (state-folder files). */
  readonly noFollow?: boolean;
  /** The fault code of a refusal; KEY_FILE_INVALID unless a state file says otherwise. */
  readonly code?: FaultCode;
}

/**
 * Throws KEY_FILE_INSECURE when a secret file's mode grants group or others any access. The
 * message names the file and the command that fixes it.
 */
export function assertPrivateFileMode(
  path: string,
  mode: number,
  platform: NodeJS.Platform,
  what = "secret key file",
): void {
  if (platform === "win32") return;
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, "0");
    throw new AgentError(
      FaultCode.KEY_FILE_INSECURE,
      `${what} ${path} is accessible by group or others (mode was ${octal}); fix it with: chmod 600 ${path}`,
    );
  }
}

/** The file's text; the raw bytes are wiped after decoding. */
export function readPrivateText(path: string, options: PrivateFileOptions): string {
  const buffer = readPrivateBytes(path, options);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(buffer);
  } catch (error) {
    return fail(options, `${options.what} ${path} is not UTF-8 text`, error);
  } finally {
    // Best effort: the decoded string cannot be wiped, the raw bytes can
    buffer.fill(0);
  }
}

/**
 * The file's bytes, with every check of readPrivateText but the text decoding. The caller owns
 * the buffer (and wipes it if it held a secret).
 */
export function readPrivateBytes(path: string, options: PrivateFileOptions): Buffer {
  const fd = openPrivate(path, constants.O_RDONLY, options);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      fail(options, `${options.what} ${path} is not a regular file (${kindOf(stat)})`);
    if (options.privateOn !== undefined)
      assertPrivateFileMode(path, stat.mode, options.privateOn, options.what);
    if (stat.size > options.maxBytes)
      fail(
        options,
        `${options.what} ${path} is too large (size was ${stat.size} bytes, limit ${options.maxBytes})`,
      );
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return read === buffer.length ? buffer : buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

/**
 * A state-folder file's text, or undefined when there is none. A link, a FIFO, a device or a
 * file over `maxBytes` is refused with STATE_FILE_INVALID naming it.
 */
export function readStateText(path: string, what: string, maxBytes: number): string | undefined {
  try {
    return readPrivateText(path, {
      what,
      maxBytes,
      noFollow: true,
      code: FaultCode.STATE_FILE_INVALID,
    });
  } catch (error) {
    if (((error as Error).cause as NodeJS.ErrnoException | undefined)?.code === "ENOENT")
      return undefined;
    throw error;
  }
}

/**
 * Open a state-folder file for reading or appending without following a link at its name, then
 * check it is a regular file. Returns the descriptor (the caller closes it).
 */
export function openStateFile(path: string, flags: number, what: string, mode = 0o600): number {
  const options = { what, maxBytes: 0, noFollow: true, code: FaultCode.STATE_FILE_INVALID };
  const fd = openPrivate(path, flags, options, mode);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) fail(options, `${what} ${path} is not a regular file (${kindOf(stat)})`);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

export interface WriteStateFileOptions {
  /** Mode of a new file (POSIX); 0600 by default: state files are the service account's. */
  readonly mode?: number;
  /** fsync the file and its folder, so the new content survives a power cut. */
  readonly durable?: boolean;
  /** For messages: what the file is. */
  readonly what?: string;
}

/**
 * Replace `path` with `data`: write `<path>.tmp` (any old temporary, or a link planted there, is
 * removed first, and the new one is created exclusively and without following links), then rename
 * it over `path`, which replaces a link at `path` rather than writing through it.
 */
export function writeStateFile(
  path: string,
  data: string | Uint8Array,
  options: WriteStateFileOptions = {},
): void {
  const what = options.what ?? "state file";
  const refusal = { what, maxBytes: 0, noFollow: true, code: FaultCode.STATE_FILE_INVALID };
  const temporary = `${path}.tmp`;
  try {
    unlinkSync(temporary);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      fail(refusal, `cannot replace ${what} ${temporary}: ${describeError(error)}`, error);
  }
  const fd = openPrivate(
    temporary,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
    refusal,
    options.mode ?? 0o600,
  );
  try {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written);
    if (options.durable === true) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  if (options.durable === true) syncDirectory(dirname(path));
}

/** Make a new or renamed directory entry durable (Windows cannot open a folder; NTFS journals it). */
export function syncDirectory(directory: string): void {
  if (process.platform === "win32") return;
  const fd = openSync(directory, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function openPrivate(
  path: string,
  flags: number,
  options: PrivateFileOptions,
  mode?: number,
): number {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever
  const all = flags | NON_BLOCK | (options.noFollow === true ? NO_FOLLOW : 0);
  try {
    return mode === undefined ? openSync(path, all) : openSync(path, all, mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (options.noFollow === true && (code === "ELOOP" || code === "EMLINK"))
      fail(
        options,
        `${options.what} ${path} is a symbolic link; the agent does not follow links in its state folders (remove the link)`,
        error,
      );
    if (code === "ENXIO")
      fail(options, `${options.what} ${path} is not a regular file (a FIFO or socket)`, error);
    const verb = (flags & (constants.O_WRONLY | constants.O_RDWR)) !== 0 ? "write" : "read";
    return fail(options, `cannot ${verb} ${options.what} ${path}: ${describeError(error)}`, error);
  }
}

function kindOf(stat: import("node:fs").Stats): string {
  if (stat.isDirectory()) return "a directory";
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  if (stat.isSymbolicLink()) return "a symbolic link";
  return "not a file";
}

function fail(options: PrivateFileOptions, message: string, cause?: unknown): never {
  throw new AgentError(
    options.code ?? FaultCode.KEY_FILE_INVALID,
    message,
    cause === undefined ? undefined : { cause },
  );
}
