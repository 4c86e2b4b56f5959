/**
 * Reading a small file that holds a secret (a key file, the EA link secret, the API token): one
 * open, and every check on that same descriptor, so a file swapped between check and read is not
 * read; a regular file only; bounded before anything is allocated; on POSIX mode 0600 or
 * stricter for secrets (deploy.md §5.3); UTF-8 text. Errors name the file and the fix:
 * KEY_FILE_INVALID, or KEY_FILE_INSECURE for a file others may read (exit 3 either way).
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { AgentError, describeError, FaultCode } from "../errors.ts";

export interface PrivateFileOptions {
  /** What the file is, as the messages name it: "key file", "API token file", ... */
  readonly what: string;
  /** Larger files are refused unread. */
  readonly maxBytes: number;
  /** Check the mode as on this platform (none on win32); undefined: a public file, no check. */
  readonly privateOn?: NodeJS.Platform | undefined;
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
  const fail = (message: string, cause?: unknown): never => {
    throw new AgentError(
      FaultCode.KEY_FILE_INVALID,
      message,
      cause === undefined ? undefined : { cause },
    );
  };
  let fd = -1;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    fail(`cannot read ${options.what} ${path}: ${describeError(error)}`, error);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) fail(`${options.what} ${path} is not a regular file`);
    if (options.privateOn !== undefined)
      assertPrivateFileMode(path, stat.mode, options.privateOn, options.what);
    if (stat.size > options.maxBytes)
      fail(
        `${options.what} ${path} is too large (size was ${stat.size} bytes, limit ${options.maxBytes})`,
      );
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(buffer.subarray(0, read));
    } catch (error) {
      return fail(`${options.what} ${path} is not UTF-8 text`, error);
    } finally {
      // Best effort: the decoded string cannot be wiped, the raw bytes can
      buffer.fill(0);
    }
  } finally {
    closeSync(fd);
  }
}
