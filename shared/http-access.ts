/**
 * Who may call an agent's HTTP endpoints (agent-inf's local API, agent-gtw's /metrics): a bearer
 * token compared in constant time, the Host header check that keeps a web page from reaching a
 * loopback listener through DNS rebinding, and an address allow-list. One home for these rules,
 * so the API and the metrics endpoint cannot drift apart.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { ConfigError } from "./errors.ts";
import { readPrivateText } from "./keys/private-file.ts";
import { type Checked, checkHost, type Host, parseHostPort } from "./net/address.ts";

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

/** The token of `Authorization: Bearer <token>` (the scheme in any case, RFC 9110 §11.1). */
export function bearerToken(header: string | null): string | undefined {
  return header === null ? undefined : /^Bearer +(\S+) *$/i.exec(header)?.[1];
}

/** `Authorization: Bearer <token>` carrying the token whose digest is `expected`. */
export function bearerMatches(header: string | null, expected: Buffer): boolean {
  const given = bearerToken(header);
  return given !== undefined && timingSafeEqual(sha256(given), expected);
}

/** A Host header that parsed: the host (canonical, address.ts) and its URL authority. */
export interface HostHeader {
  readonly host: Host;
  /** `host[:port]` as a URL has it (lower case, port 80 dropped), to compare origins with. */
  readonly authority: string;
}

const MAX_HOST_HEADER = 300;

/**
 * One `Host` header value as `host[:port]` with the host in canonical form. Refused: empty, too
 * long, a list (a repeated header arrives joined with ", "), anything address.ts refuses, a port
 * outside 0–65535. Never throws, so no Host can turn into a 500.
 */
export function parseHostHeader(header: string): Checked<HostHeader> {
  const shown = JSON.stringify(header.slice(0, 80));
  if (header === "") return { ok: false, reason: "is empty" };
  if (header.length > MAX_HOST_HEADER) return { ok: false, reason: "is too long" };
  if (header.includes(",")) return { ok: false, reason: `${shown} is repeated or a list` };
  const hasPort = header.startsWith("[") ? header.includes("]:") : header.includes(":");
  const parsed = parseHostPort(hasPort ? header : `${header}:80`);
  if (!parsed.ok) return { ok: false, reason: `${shown} is not a host[:port]: ${parsed.reason}` };
  return {
    ok: true,
    value: { host: parsed.value.host, authority: new URL(`http://${header}`).host },
  };
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

/**
 * The request's URL, or undefined when it cannot be built. Bun builds it from the Host header:
 * a request with none (HTTP/1.0) or an odd one gives a URL that does not parse, which is the
 * client's fault and must be answered 400, never 500.
 */
export function requestUrl(request: Request): URL | undefined {
  try {
    return new URL(request.url);
  } catch {
    return undefined;
  }
}
