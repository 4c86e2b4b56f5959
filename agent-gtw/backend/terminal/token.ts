/**
 * The shared EA token (docs/EA-LINK.md §2, config `backend.terminal.token_file`): one line of
 * printable ASCII, private to the service account like the other secrets. The token itself is
 * never logged or put in an error message.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { AgentError, describeError, FaultCode } from "../../../shared/errors.ts";
import { assertPrivateFileMode } from "../../../shared/keys/curve-keys.ts";

/** Long enough not to be guessed from the loopback; short enough for the EA's input field. */
export const MIN_TOKEN_CHARS = 16;
export const MAX_TOKEN_CHARS = 256;
const MAX_FILE_BYTES = 4096;

/** Throws KEY_FILE_INVALID / KEY_FILE_INSECURE with the file named and the fix. */
export function readTokenFile(path: string, platform: NodeJS.Platform = process.platform): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw new AgentError(
      FaultCode.KEY_FILE_INVALID,
      `terminal: cannot read the EA token file ${path}: ${describeError(error)}`,
      { cause: error },
    );
  }
  let text: string;
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new AgentError(FaultCode.KEY_FILE_INVALID, `terminal: ${path} is not a regular file`);
    }
    assertPrivateFileMode(path, stat.mode, platform);
    if (stat.size > MAX_FILE_BYTES) {
      throw new AgentError(
        FaultCode.KEY_FILE_INVALID,
        `terminal: the EA token file ${path} is too large (size was ${stat.size} bytes)`,
      );
    }
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    text = buffer.subarray(0, read).toString("utf8").trim();
  } finally {
    closeSync(fd);
  }
  if (
    !/^[\x21-\x7e]+$/.test(text) ||
    text.length < MIN_TOKEN_CHARS ||
    text.length > MAX_TOKEN_CHARS
  ) {
    throw new AgentError(
      FaultCode.KEY_FILE_INVALID,
      `terminal: the EA token file ${path} must hold one token of ${MIN_TOKEN_CHARS}–${MAX_TOKEN_CHARS} printable ASCII characters without spaces`,
    );
  }
  return text;
}
