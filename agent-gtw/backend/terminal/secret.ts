/**
 * The EA link's shared secret (docs/EA-LINK.md §2, §6; config `backend.terminal.secret_file`):
 * one line of printable ASCII, private to the service account like the other secrets. Neither
 * side ever sends it: each proves knowledge of it with HMAC-SHA256 (link-auth.ts). It is never
 * logged or put in an error message.
 */
import { AgentError, FaultCode } from "../../../shared/errors.ts";
import { readPrivateText } from "../../../shared/keys/private-file.ts";

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
  const text = readPrivateText(path, {
    what: "EA link secret file",
    maxBytes: MAX_FILE_BYTES,
    privateOn: platform,
  }).trim();
  if (!isValidSecret(text)) {
    throw new AgentError(
      FaultCode.KEY_FILE_INVALID,
      `terminal: the EA link secret file ${path} must hold one secret of ${MIN_SECRET_CHARS}–${MAX_SECRET_CHARS} printable ASCII characters without spaces (agent-gtw keygen --terminal-secret writes one)`,
    );
  }
  return text;
}
