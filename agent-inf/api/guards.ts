/**
 * The local API's request guards before auth and routing (docs/API.md §1): the Host header and
 * the Origin header. What is loopback is shared/net/address.ts's one rule.
 *
 * - Host: exactly one, a canonical `host[:port]`. On a loopback listener it must name a loopback
 *   host, or a web page could reach the API through DNS rebinding: 403 FORBIDDEN_HOST. A missing
 *   or unreadable Host is 400 (HTTP/1.1 requires one, RFC 9112 §3.2; an HTTP/1.0 request
 *   without one is refused the same way).
 * - Origin: a browser sends it on cross-origin requests and on every WebSocket handshake. When
 *   present it must be this API's own origin (`http://` + the Host); anything else, `null`
 *   included, is 403 FORBIDDEN_ORIGIN. Other loopback ports are other origins: a page served on
 *   localhost:3000 is a different site's page, and SameSite cookies do not tell ports apart.
 */
import { type Host, parseHostPort } from "../../shared/net/index.ts";
import { ApiError, ApiErrorCode } from "./input.ts";

/** What the guards found: the Host as given (for the origin), checked. */
export interface CheckedHost {
  readonly host: Host;
  /** `host[:port]` in URL form (lower case, default port dropped), to compare origins with. */
  readonly authority: string;
}

const MAX_HOST_HEADER = 300;

/** The request's Host, checked; `loopbackOnly` for a listener on a loopback address. */
export function checkHostHeader(header: string | null, loopbackOnly: boolean): CheckedHost {
  const shown = JSON.stringify((header ?? "").slice(0, 80));
  const malformed = (why: string) =>
    loopbackOnly
      ? new ApiError(
          403,
          ApiErrorCode.FORBIDDEN_HOST,
          `the Host header ${why}: call the API by 127.0.0.1 or localhost`,
        )
      : new ApiError(400, ApiErrorCode.INVALID_HOST, `the Host header ${why}`);
  if (header === null || header === "")
    throw new ApiError(
      400,
      ApiErrorCode.INVALID_HOST,
      "the Host header is missing (HTTP/1.1 requires it)",
    );
  if (header.length > MAX_HOST_HEADER) throw malformed("is too long");
  // Bun joins repeated headers with ", "; two Hosts are refused whatever they say
  if (header.includes(",")) throw malformed(`${shown} is repeated or has a list`);
  const hasPort = header.startsWith("[") ? header.includes("]:") : header.includes(":");
  const parsed = parseHostPort(hasPort ? header : `${header}:80`);
  if (!parsed.ok) throw malformed(`${shown} is not a host[:port]: ${parsed.reason}`);
  const host = parsed.value.host;
  if (loopbackOnly && !host.loopback)
    throw new ApiError(
      403,
      ApiErrorCode.FORBIDDEN_HOST,
      `the Host header ${shown} does not name this host: call the API by 127.0.0.1 or localhost`,
    );
  return { host, authority: new URL(`http://${header}`).host };
}

/** A browser's Origin, when there is one, must be this API's own. */
export function checkOrigin(header: string | null, host: CheckedHost): void {
  if (header === null) return;
  let same = false;
  try {
    const origin = new URL(header);
    same = origin.protocol === "http:" && origin.host === host.authority && origin.pathname === "/";
  } catch {
    // "null" (sandboxed page, file://) and other unparsable origins are refused below
  }
  if (!same)
    throw new ApiError(
      403,
      ApiErrorCode.FORBIDDEN_ORIGIN,
      `requests from the web page ${JSON.stringify(header.slice(0, 80))} are refused: only this API's own origin (http://${host.authority}) may call it`,
    );
}
