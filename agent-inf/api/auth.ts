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
 * so neither the length nor which token matched shows in the timing; they are never logged. A
 * credential is read from the Authorization header today; the dashboard's session cookie
 * (HttpOnly, SameSite=Strict) will be one more CredentialSource.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { AgentError, ConfigError, FaultCode } from "../../shared/errors.ts";
import { readPrivateText } from "../../shared/keys/private-file.ts";

export const ROLES = ["strategy", "operator"] as const;
export type Role = (typeof ROLES)[number];

/** How the API authenticates, as the config says (apiAuthFromConfig) or a test sets it. */
export type ApiAuth =
  | { readonly kind: "none" }
  | { readonly kind: "token"; readonly strategyToken: string; readonly operatorToken: string };

/** What a request proved. */
export interface Principal {
  readonly role: Role;
  /** How: a bearer token, a session cookie (the dashboard, later), or no auth configured. */
  readonly via: "bearer" | "cookie" | "none";
}

/** One place a request may carry its credential; undefined when it carries none there. */
export interface CredentialSource {
  readonly via: Principal["via"];
  read(request: Request): string | undefined;
}

/** `Authorization: Bearer <token>` (the scheme in any case, RFC 9110 §11.1). */
export const BEARER: CredentialSource = {
  via: "bearer",
  read(request) {
    const header = request.headers.get("authorization");
    return header === null ? undefined : /^Bearer +(\S+) *$/i.exec(header)?.[1];
  },
};

/** Whether `role` may do what `required` demands: the operator may do everything. */
export function allows(role: Role, required: Role): boolean {
  return role === "operator" || required === "strategy";
}

export class Authenticator {
  readonly #auth: ApiAuth;
  readonly #sources: readonly CredentialSource[];
  readonly #digests: readonly { readonly role: Role; readonly digest: Buffer }[];

  constructor(auth: ApiAuth, sources: readonly CredentialSource[] = [BEARER]) {
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
      { role: "strategy", digest: sha256(auth.strategyToken.trim()) },
      { role: "operator", digest: sha256(auth.operatorToken.trim()) },
    ];
  }

  get kind(): ApiAuth["kind"] {
    return this.#auth.kind;
  }

  /** The caller, or undefined when no source carries a token this API knows. */
  authenticate(request: Request): Principal | undefined {
    if (this.#auth.kind === "none") return { role: "operator", via: "none" };
    for (const source of this.#sources) {
      const given = source.read(request);
      if (given === undefined) continue;
      const digest = sha256(given);
      let role: Role | undefined;
      // Every digest is compared, whichever matches
      for (const known of this.#digests)
        if (timingSafeEqual(digest, known.digest) && role === undefined) role = known.role;
      if (role !== undefined) return { role, via: source.via };
    }
    return undefined;
  }
}

const MAX_TOKEN_BYTES = 4096;

/**
 * A bearer token from its file: trimmed, one word, and (POSIX) not readable by group or others,
 * since whoever has it can trade. Problems are config errors (exit 3) naming the file and key.
 */
export function readApiToken(
  path: string,
  key = "api.token_file",
  platform: NodeJS.Platform = process.platform,
): string {
  const token = readPrivateText(path, {
    what: key,
    maxBytes: MAX_TOKEN_BYTES,
    privateOn: platform,
  }).trim();
  if (token === "") throw new ConfigError([{ file: path, path: "", message: `${key} is empty` }]);
  if (/\s/.test(token))
    throw new ConfigError([
      { file: path, path: "", message: "the API token must be one word (no spaces or lines)" },
    ]);
  return token;
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
    strategyToken: readApiToken(api.token_file as string, "api.token_file"),
    operatorToken: readApiToken(api.operator_token_file as string, "api.operator_token_file"),
  };
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
