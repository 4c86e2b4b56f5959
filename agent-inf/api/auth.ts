/**
 * Who may call the local API (issue 12 §2, docs/API.md §1): by default every request carries a
 * bearer token, and the token says the caller's role.
 *
 * - `strategy` (api.token_file): trade and read: orders, positions, account, symbols, health,
 *   streams, metrics.
 * - `operator` (api.operator_token_file): all of that, and the operator actions: the trading
 *   state and the breaker. The CLI's halt/reduce/resume/breaker use it.
 *
 * `api.auth: none` (loopback only, logged as a warning at start) lets every local process do
 * everything, as before tokens were the default.
 *
 * Tokens are compared as SHA-256 digests with timingSafeEqual, against both tokens every time,
 * so neither the length nor which token matched shows in the timing; they are never logged. The
 * strategy API reads the credential from the Authorization header; the dashboard's routes read its
 * session cookie instead (dashboard/dashboard.ts), a PrincipalSource: the cookie holds a random
 * session id the server maps to the role of the token given at login, never a token.
 */
import { timingSafeEqual } from "node:crypto";
import { AgentError, FaultCode } from "../../shared/errors.ts";
import { bearerToken, readTokenFile, tokenDigest } from "../../shared/http-access.ts";

export const ROLES = ["strategy", "operator"] as const;
export type Role = (typeof ROLES)[number];

/** How the API authenticates, as the config says (apiAuthFromConfig) or a test sets it. */
export type ApiAuth =
  | { readonly kind: "none" }
  | { readonly kind: "token"; readonly strategyToken: string; readonly operatorToken: string };

/** A dashboard login (dashboard/session-store.ts): what a request with its cookie proved. */
export interface Session {
  readonly role: Role;
  /** The CSRF token the page must echo (X-CSRF-Token) on a state-changing request. */
  readonly csrfToken: string;
  /** Monotonic ms of the login. */
  readonly createdAt: number;
  /** Does `given` match this session's CSRF token (constant time)? */
  csrfMatches(given: string | null): boolean;
  /** Call `fn` once when the session ends (logout, expiry, pushed out); returns an unsubscribe. */
  onEnd(fn: () => void): () => void;
}

/** What a request proved. */
export interface Principal {
  readonly role: Role;
  /** How: a bearer token, a session cookie (the dashboard), or no auth configured. */
  readonly via: "bearer" | "cookie" | "none";
  /** The dashboard session that proved it (via cookie). */
  readonly session?: Session;
}

/** One place a request may carry its credential; undefined when it carries none there. */
export interface CredentialSource {
  readonly via: Principal["via"];
  read(request: Request): string | undefined;
}

/** A source that proves the caller by itself: the dashboard's session cookie. */
export interface PrincipalSource {
  readonly via: Principal["via"];
  resolve(request: Request): Principal | undefined;
}

/** `Authorization: Bearer <token>` (the scheme in any case, RFC 9110 §11.1). */
export const BEARER: CredentialSource = {
  via: "bearer",
  read(request) {
    return bearerToken(request.headers.get("authorization"));
  },
};

/** Whether `role` may do what `required` demands: the operator may do everything. */
export function allows(role: Role, required: Role): boolean {
  return role === "operator" || required === "strategy";
}

export class Authenticator {
  readonly #auth: ApiAuth;
  readonly #sources: readonly (CredentialSource | PrincipalSource)[];
  readonly #digests: readonly { readonly role: Role; readonly digest: Buffer }[];

  constructor(auth: ApiAuth, sources: readonly (CredentialSource | PrincipalSource)[] = [BEARER]) {
    this.#auth = auth;
    this.#sources = sources;
    if (auth.kind === "none") {
      this.#digests = [];
      return;
    }
    for (const [what, token] of [
      ["api token", auth.strategyToken],
      ["operator token", auth.operatorToken],
    ] as const) {
      if (token.trim() === "" || /\s/.test(token.trim()))
        throw new AgentError(FaultCode.CONFIG_INVALID, `api: the ${what} must be one word`);
    }
    if (auth.strategyToken.trim() === auth.operatorToken.trim())
      throw new AgentError(
        FaultCode.CONFIG_INVALID,
        "api: token_file and operator_token_file hold the same token; the operator's must differ",
      );
    this.#digests = [
      { role: "strategy", digest: tokenDigest(auth.strategyToken) },
      { role: "operator", digest: tokenDigest(auth.operatorToken) },
    ];
  }

  get kind(): ApiAuth["kind"] {
    return this.#auth.kind;
  }

  /** The caller, or undefined when no source carries a token this API knows. */
  authenticate(request: Request): Principal | undefined {
    if (this.#auth.kind === "none") return { role: "operator", via: "none" };
    for (const source of this.#sources) {
      if ("resolve" in source) {
        const principal = source.resolve(request);
        if (principal !== undefined) return principal;
        continue;
      }
      const given = source.read(request);
      if (given === undefined) continue;
      const role = this.roleOf(given);
      if (role !== undefined) return { role, via: source.via };
    }
    return undefined;
  }

  /** The role whose token `given` is (the dashboard's login), or undefined; never with auth none. */
  roleOf(given: string): Role | undefined {
    const digest = tokenDigest(given);
    let role: Role | undefined;
    // Every digest is compared, whichever matches
    for (const known of this.#digests)
      if (timingSafeEqual(digest, known.digest) && role === undefined) role = known.role;
    return role;
  }
}

/** The API's auth as the config's `api` section names it, reading both token files. */
export function apiAuthFromConfig(api: {
  readonly auth: "token" | "none";
  readonly token_file?: string | undefined;
  readonly operator_token_file?: string | undefined;
}): ApiAuth {
  if (api.auth === "none") return { kind: "none" };
  // The config schema requires both files with auth: token
  return {
    kind: "token",
    strategyToken: readTokenFile(api.token_file as string, "api.token_file"),
    operatorToken: readTokenFile(api.operator_token_file as string, "api.operator_token_file"),
  };
}
