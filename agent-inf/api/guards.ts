/**
 * The local API's request guards before auth and routing (docs/API.md §1): the Host header and
 * the Origin header. What is loopback is shared/net/address.ts's one rule, and what a Host header
 * may be is shared/http-access.ts's (the metrics endpoint uses it too).
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
import { type HostHeader, parseHostHeader } from "../../shared/http-access.ts";
import { ApiError, ApiErrorCode } from "./input.ts";

/** The request's Host, checked; `loopbackOnly` for a listener on a loopback address. */
export function checkHostHeader(header: string | null, loopbackOnly: boolean): HostHeader {
  if (header === null || header === "")
    throw new ApiError(
      400,
      ApiErrorCode.INVALID_HOST,
      "the Host header is missing (HTTP/1.1 requires it)",
    );
  const parsed = parseHostHeader(header);
  const shown = JSON.stringify(header.slice(0, 80));
  if (loopbackOnly && !(parsed.ok && parsed.value.host.loopback))
    throw new ApiError(
      403,
      ApiErrorCode.FORBIDDEN_HOST,
      `the Host header ${parsed.ok ? `${shown} does not name this host` : parsed.reason}: call the API by 127.0.0.1 or localhost`,
    );
  if (!parsed.ok)
    throw new ApiError(400, ApiErrorCode.INVALID_HOST, `the Host header ${parsed.reason}`);
  return parsed.value;
}

/** A browser's Origin, when there is one, must be this API's own. */
export function checkOrigin(header: string | null, host: HostHeader): void {
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
