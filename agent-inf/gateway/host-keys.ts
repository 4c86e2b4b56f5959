/**
 * This host's keys as the gateway clients use them: the CURVE key pair that the gateways pin,
 * and the Ed25519 signer for orders. Read once at start; a missing, damaged or world-readable
 * key file is a KEY_FILE error naming the file (exit 3).
 */
import type { KeyPair } from "../../shared/curve/box.ts";
import { readSecretKeyFile } from "../../shared/keys/curve-keys.ts";
import { readSigningSecretKeyFile } from "../../shared/keys/signing-keys.ts";
import { createSigner, type Signer } from "../../shared/protocol/index.ts";
import type { InferenceConfig } from "../config.ts";

export interface HostKeys {
  readonly curve: KeyPair;
  readonly signer: Signer;
}

export function loadHostKeys(config: InferenceConfig): HostKeys {
  const curve = readSecretKeyFile(config.keys.client_secret);
  const signing = readSigningSecretKeyFile(config.keys.signing_secret);
  return {
    curve: { publicKey: curve.publicKey, secretKey: curve.secretKey },
    signer: createSigner({ keyId: signing.keyId, secretKey: signing.secretKey }),
  };
}
