/**
 * Which secretbox backend a process runs, chosen once at startup: each agent's composition root
 * (and every script or test process that boxes) calls installCryptoBackend, which loads libsodium
 * when it may (loader.ts) and hands the result to shared/curve/box.ts. The choice is the
 * environment's AGENT_CRYPTO_BACKEND:
 * - unset, empty or `auto`: libsodium when it loads and passes its self-test, else tweetnacl
 *   (the same bytes, slower), with the reason;
 * - `sodium-native`: libsodium or a startup error (the compiled end-to-end tests and the Wine smoke
 *   test run the agents so, to prove the embedded library is the one in use);
 * - `tweetnacl`: never loads the addon;
 * - anything else: a usage error naming the allowed values, before the agent starts, instead of
 *   a handshake that fails later.
 */
import { cryptoBackend, useSecretbox } from "../curve/box.ts";
import {
  type CryptoBackendInfo,
  SECRETBOX_BACKEND_NAMES,
  type SecretboxBackend,
} from "../curve/box-backend.ts";
import { tweetnaclBackend } from "../curve/box-tweetnacl.ts";
import { AgentError, FaultCode } from "../errors.ts";
import type { Logger } from "../log.ts";
import { loadSodium, type SodiumLoad } from "./loader.ts";

/** Environment variable that forces a secretbox backend (diagnostics and tests). */
export const CRYPTO_BACKEND_ENV = "AGENT_CRYPTO_BACKEND";
/** Its allowed values. */
export const CRYPTO_BACKEND_CHOICES = ["auto", ...SECRETBOX_BACKEND_NAMES] as const;
/** The agents' --help paragraph about it. */
export const CRYPTO_BACKEND_HELP = `${CRYPTO_BACKEND_ENV}=${CRYPTO_BACKEND_CHOICES.join("|")} picks the CURVE crypto (default auto: libsodium,
else tweetnacl); \`status\` shows the one in use.`;

export type Selection =
  | {
      readonly ok: true;
      readonly backend: SecretboxBackend;
      readonly detail: string;
      readonly fallback: boolean;
    }
  | { readonly ok: false; readonly error: AgentError };

let loaded: SodiumLoad | undefined;

/**
 * The addon of this process, loaded at most once: a compiled agent extracts its embedded copy
 * once, however often it is asked (tests build many agents in one process).
 */
export function sodiumOnce(): SodiumLoad {
  loaded ??= loadSodium();
  return loaded;
}

/**
 * The choice for a value of AGENT_CRYPTO_BACKEND (see the file header). `load` is injected so the
 * fallback and the refusals can be tested without a library.
 */
export function selectSecretbox(
  requested: string | undefined,
  load: () => SodiumLoad = sodiumOnce,
): Selection {
  const wanted = requested === undefined || requested === "" ? "auto" : requested;
  if (!(CRYPTO_BACKEND_CHOICES as readonly string[]).includes(wanted)) {
    return {
      ok: false,
      error: new AgentError(
        FaultCode.USAGE,
        `${CRYPTO_BACKEND_ENV} must be ${CRYPTO_BACKEND_CHOICES.slice(0, -1).join(", ")} or ${CRYPTO_BACKEND_CHOICES.at(-1)}, was ${JSON.stringify(requested)}`,
      ),
    };
  }
  if (wanted === "tweetnacl") {
    return {
      ok: true,
      backend: tweetnaclBackend,
      detail: `${CRYPTO_BACKEND_ENV}=tweetnacl`,
      fallback: false,
    };
  }
  const sodium = load();
  if (sodium.ok)
    return { ok: true, backend: sodium.backend, detail: sodium.source, fallback: false };
  if (wanted === "sodium-native") {
    return {
      ok: false,
      error: new AgentError(
        FaultCode.INTERNAL,
        `${CRYPTO_BACKEND_ENV}=sodium-native but libsodium did not load: ${sodium.reason}`,
      ),
    };
  }
  return {
    ok: true,
    backend: tweetnaclBackend,
    detail: `fallback: ${sodium.reason}`,
    fallback: true,
  };
}

export interface InstallOptions {
  /** Told which backend runs (info), or why libsodium did not load (warn). */
  readonly logger?: Logger;
  /** The AGENT_CRYPTO_BACKEND value; the environment's when absent. */
  readonly requested?: string | undefined;
  /** Replaces the addon loader (tests). */
  readonly load?: () => SodiumLoad;
}

/**
 * Choose this process's secretbox backend from AGENT_CRYPTO_BACKEND and install it in box.ts.
 * Throws the AgentError of an unusable value, leaving the running backend as it was: USAGE
 * (exit 2) for an unknown one, INTERNAL (exit 1) when `sodium-native` was demanded and did not
 * load. A fallback is logged as a warning: every box is then several times slower.
 */
export function installCryptoBackend(options: InstallOptions = {}): CryptoBackendInfo {
  const requested = "requested" in options ? options.requested : process.env[CRYPTO_BACKEND_ENV];
  const chosen = selectSecretbox(requested, options.load);
  if (!chosen.ok) throw chosen.error;
  const info = useSecretbox(chosen.backend, chosen.detail, chosen.fallback);
  const fields = { secretbox: info.secretbox, detail: info.detail };
  if (info.fallback) {
    options.logger?.warn("Crypto backend: libsodium did not load, boxes run on tweetnacl", fields);
  } else {
    options.logger?.info("Crypto backend", fields);
  }
  return cryptoBackend();
}

/** Both secretbox implementations, for the benchmarks and the cross-check tests only. */
export function secretboxBackends(): {
  readonly tweetnacl: SecretboxBackend;
  readonly sodium: SodiumLoad;
} {
  return { tweetnacl: tweetnaclBackend, sodium: sodiumOnce() };
}
