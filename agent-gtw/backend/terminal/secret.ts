/**
 * The EA link's shared secret (docs/EA-LINK.md §2, §6; config `backend.terminal.secret_file`):
 * one line of printable ASCII, private to the service account like the other secrets. Neither
 * side ever sends it: each proves knowledge of it with HMAC-SHA256 (link-auth.ts). It is never
 * logged or put in an error message.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { assertPrivateFileMode } from "../../../shared/curve/keys.ts";
import { AgentError, describeError, FaultCode } from "../../../shared/errors.ts";

/**
 * The gateway proves itself first to whoever connects, so its proof is material for an offline
 * guess at the secret: it must be long and random (keygen writes 64 hex characters). The upper
 * bound keeps it short enough for the EA's input field.
 */
export const MIN_SECRET_CHARS = 32;
export const MAX_SECRET_CHARS = 256;
const MAX_FILE_BYTES = 4096;
const SECRET_PATTERN = /^[\x21-\x7e]+$/;

/** Whether `text` is a usable secret: 32–256 printable ASCII characters, no spaces. */
export function isValidSecret(text: string): boolean {
  return (
    SECRET_PATTERN.test(text) && text.length >= MIN_SECRET_CHARS && text.length <= MAX_SECRET_CHARS
  );
}

/** Throws KEY_FILE_INVALID / KEY_FILE_INSECURE with the file named and the fix. */
export function readSecretFile(path: string, platform: NodeJS.Platform = process.platform): string {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw new AgentError(
      FaultCode.KEY_FILE_INVALID,
      `terminal: cannot read the EA link secret file ${path}: ${describeError(error)}`,
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
        `terminal: the EA link secret file ${path} is too large (size was ${stat.size} bytes)`,
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
  if (!isValidSecret(text)) {
    throw new AgentError(
      FaultCode.KEY_FILE_INVALID,
      `terminal: the EA link secret file ${path} must hold one secret of ${MIN_SECRET_CHARS}–${MAX_SECRET_CHARS} printable ASCII characters without spaces (agent-gtw keygen --terminal-secret writes one)`,
    );
  }
  return text;
}
