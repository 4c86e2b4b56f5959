/**
 * Who may call an agent's HTTP endpoints (agent-inf's local API, agent-gtw's /metrics): a bearer
 * token compared in constant time, the Host header check that keeps a web page from reaching a
 * loopback listener through DNS rebinding, and an address allow-list. One home for these rules,
 * so the API and the metrics endpoint cannot drift apart.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { ConfigError } from "./errors.ts";
import { readPrivateText } from "./keys/private-file.ts";
import { checkHost, isLoopbackHost } from "./net/address.ts";

/** A token file holds one word; anything longer than this is not a token. */
export const MAX_TOKEN_BYTES = 4096;

/**
 * A bearer token file (`api.token_file`, `metrics.token_file`): private (0600 on POSIX), one
 * word, not empty. `what` is the config key, so the error names what to fix.
 */
export function readTokenFile(
  path: string,
  what: string,
  platform: NodeJS.Platform = process.platform,
): string {
  const token = readPrivateText(path, {
    what,
    maxBytes: MAX_TOKEN_BYTES,
    privateOn: platform,
  }).trim();
  if (token === "") throw new ConfigError([{ file: path, path: "", message: `${what} is empty` }]);
  if (/\s/.test(token))
    throw new ConfigError([
      {
        file: path,
        path: "",
        message: `the token in ${what} must be one word (no spaces or lines)`,
      },
    ]);
  return token;
}

/** What a request's token is compared with: its SHA-256, so lengths never leak. */
export function tokenDigest(token: string): Buffer {
  return sha256(token.trim());
}

/** `Authorization: Bearer <token>` carrying the token whose digest is `expected`. */
export function bearerMatches(header: string | null, expected: Buffer): boolean {
  const match = header === null ? null : /^Bearer +(\S+) *$/i.exec(header);
  const given = match?.[1];
  return given !== undefined && timingSafeEqual(sha256(given), expected);
}

/** A Host header naming this host by a loopback name (or none: HTTP/1.0, never a browser). */
export function isLoopbackHostHeader(header: string | null): boolean {
  // HTTP/1.0 clients may send none; rebinding needs a browser, and browsers always send it
  if (header === null) return true;
  const host = header.startsWith("[")
    ? header.slice(1, header.indexOf("]"))
    : header.replace(/:\d*$/, "");
  return isLoopbackHost(host);
}

/**
 * Whether a peer address is on an allow-list of canonical addresses (checked at config load by
 * `checkHost`). An IPv4 peer on a dual-stack socket is reported as `::ffff:a.b.c.d`: compared as
 * the IPv4 address it is.
 */
export function addressAllowed(peer: string | undefined, allow: readonly string[]): boolean {
  if (peer === undefined) return false;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(peer);
  const checked = checkHost(mapped?.[1] ?? peer);
  return checked.ok && allow.includes(checked.value.host);
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
