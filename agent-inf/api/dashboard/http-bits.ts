/**
 * The dashboard's cookie and response headers (docs/DASHBOARD.md §2, §5).
 *
 * The session cookie is HttpOnly (no script reads it, so an injected script cannot carry it off),
 * SameSite=Strict (the browser never attaches it to a request another site starts) and scoped to
 * Path=/dashboard (it never accompanies the strategy API under /v1, which takes bearer tokens
 * only). No `Secure`: the API speaks plain HTTP on loopback; remote browsers reach it through an
 * SSH tunnel, which encrypts it.
 *
 * Every dashboard response carries the security headers below: the Content-Security-Policy
 * allows scripts, styles and connections to this origin only and no inline script at all, and
 * no page may frame the dashboard (clickjacking the operator buttons).
 */

export const SESSION_COOKIE = "agent_inf_session";
export const DASHBOARD_PATH = "/dashboard";

/** The session cookie for `id`, living `maxAgeMs` (the browser drops it then; the store decides). */
export function sessionCookie(id: string, maxAgeMs: number): string {
  return `${SESSION_COOKIE}=${id}; Path=${DASHBOARD_PATH}; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}`;
}

/** Tells the browser to forget the session cookie (logout). */
export function clearedCookie(): string {
  return `${SESSION_COOKIE}=; Path=${DASHBOARD_PATH}; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/**
 * The session id from a Cookie header (RFC 6265 §5.4: `name=value` pairs joined by `; `).
 * Undefined when absent, or when several cookies of that name arrive (a planted duplicate from a
 * sibling path must not get to choose).
 */
export function sessionIdFrom(header: string | null): string | undefined {
  if (header === null || header.length > 8192) return undefined;
  let found: string | undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    if (found !== undefined) return undefined;
    found = part.slice(eq + 1).trim();
  }
  return found === "" ? undefined : found;
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  // Older browsers' frame-ancestors
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
};

/** `response` with the security headers set (the server's own responses have mutable headers). */
export function withSecurityHeaders(response: Response): Response {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.headers.set(name, value);
  return response;
}
