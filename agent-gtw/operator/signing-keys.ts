/** The trusted signing keys of a gateway's config, each bound to the clients that may use it. */
import { z85DecodeKey } from "../../shared/curve/z85.ts";
import { AgentError, FaultCode } from "../../shared/errors.ts";
import { readSigningPublicKeyFile } from "../../shared/keys/signing-keys.ts";
import type { GatewayConfig } from "../config.ts";

export interface SigningKeys {
  readonly keys: Map<string, Uint8Array>;
  /** Whether a client may sign with a key id (unknown ids pass: the verifier refuses them). */
  readonly allowed: (keyId: string, client: string) => boolean;
}

/**
 * The trusted signing keys and who may use each (keys.signing_keys[].clients, by default the
 * client named like the key id). A key bound to no authorized client is a config error that
 * says how to bind it: it is what an upgraded config without `clients` looks like when its
 * client names and key ids differ.
 */
export function loadSigningKeys(
  config: GatewayConfig,
  clientNames: ReadonlySet<string>,
): SigningKeys {
  const keys = new Map<string, Uint8Array>();
  const bound = new Map<string, ReadonlySet<string>>();
  for (const [index, entry] of config.keys.signing_keys.entries()) {
    let publicKey: Uint8Array;
    if (entry.file !== undefined) {
      const file = readSigningPublicKeyFile(entry.file);
      if (file.keyId !== entry.key_id) {
        throw new AgentError(
          FaultCode.CONFIG_INVALID,
          `config: signing key ${entry.file} has key-id ${file.keyId}, but the config names it ${entry.key_id}`,
        );
      }
      publicKey = file.publicKey;
    } else {
      publicKey = z85DecodeKey(entry.public_key as string);
    }
    const clients = new Set(entry.clients ?? [entry.key_id]);
    if (![...clients].some((client) => clientNames.has(client))) {
      const authorized = [...clientNames].sort().join(", ") || "none";
      throw new AgentError(
        FaultCode.CONFIG_INVALID,
        entry.clients === undefined
          ? `config: keys.signing_keys[${index}] (key_id ${entry.key_id}) may be used by no client: a signing key is bound to the CURVE clients that may send orders signed with it, by default the client named like its key_id, and no authorized client is named ${entry.key_id} (authorized: ${authorized}). Add clients: [<client name>] to that entry (docs/DEPLOY.md "Signing keys and clients")`
          : `config: keys.signing_keys[${index}] (key_id ${entry.key_id}) names clients ${[...clients].join(", ")}, none of which is authorized (authorized: ${authorized})`,
      );
    }
    keys.set(entry.key_id, publicKey);
    bound.set(entry.key_id, clients);
  }
  return {
    keys,
    allowed: (keyId, client) => bound.get(keyId)?.has(client) ?? true,
  };
}
