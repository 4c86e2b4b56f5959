/**
 * Order-signing key files (Ed25519), kept apart from the CURVE transport keys (DESIGN §5). Same
 * text format as the CURVE certificates (ZPL, Z85 keys) so one parser and one permission check
 * serve both: `name.sign` holds the public key, `name.sign_secret` (mode 0600) the 32-byte seed.
 *
 * ```
 * metadata
 *     key-id = "inf-1"
 * ed25519
 *     public-key = "<40 Z85 chars>"
 *     secret-key = "<40 Z85 chars>"      (secret file only)
 * ```
 */
import { join } from "node:path";
import { z85Encode } from "../curve/z85.ts";
import { AgentError, FaultCode } from "../errors.ts";
import { type SigningKeyPair, signingPublicKey } from "../protocol/signing.ts";
import { readPrivateZplFile, readZplFile, writeKeyFiles } from "./curve-keys.ts";
import { bannerComments, checkKeyPair, readKeyProperty, readMetadataSection } from "./zcert.ts";
import { formatZpl } from "./zpl.ts";

export const SIGNING_PUBLIC_SUFFIX = ".sign";
export const SIGNING_SECRET_SUFFIX = ".sign_secret";
const SECTION = "ed25519";
const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export interface SigningPublicKeyFile {
  readonly path: string;
  readonly keyId: string;
  readonly publicKey: Uint8Array;
}

export interface SigningSecretKeyFile extends SigningPublicKeyFile {
  readonly secretKey: Uint8Array;
}

/** Write `dir/name.sign` (0644) and `dir/name.sign_secret` (0600); never replaces either. */
export function writeSigningKeyFiles(
  dir: string,
  name: string,
  keyId: string,
  keyPair: SigningKeyPair,
  generatedAt: Date = new Date(),
): { publicPath: string; secretPath: string } {
  if (!KEY_ID_PATTERN.test(keyId)) {
    throw new AgentError(
      FaultCode.USAGE,
      `keys: key id must be 1–64 of A-Z a-z 0-9 . _ -, was ${JSON.stringify(keyId)}`,
    );
  }
  const text = (secret: boolean) =>
    formatZpl(
      [
        { name: "metadata", children: [{ name: "key-id", value: keyId }] },
        {
          name: SECTION,
          children: [
            { name: "public-key", value: z85Encode(keyPair.publicKey) },
            ...(secret ? [{ name: "secret-key", value: z85Encode(keyPair.secretKey) }] : []),
          ],
        },
      ],
      bannerComments(
        secret
          ? [
              "   Ed25519 order-signing **Secret** key",
              "   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.",
            ]
          : [
              "   Ed25519 order-signing public key",
              "   Give it to the gateway: keys.signing_keys in its config.",
            ],
        { generatedAt },
      ),
    );
  const publicPath = join(dir, `${name}${SIGNING_PUBLIC_SUFFIX}`);
  const secretPath = join(dir, `${name}${SIGNING_SECRET_SUFFIX}`);
  writeKeyFiles([
    { path: secretPath, text: text(true), secret: true },
    { path: publicPath, text: text(false), secret: false },
  ]);
  return { publicPath, secretPath };
}

export function readSigningPublicKeyFile(path: string): SigningPublicKeyFile {
  const root = readZplFile(path);
  const publicKey = readKeyProperty(root, SECTION, "public-key", path);
  return { path, keyId: keyIdOf(readMetadataSection(root), path), publicKey };
}

/** The secret file: mode 0600 or stricter (POSIX), and a public key that matches the seed. */
export function readSigningSecretKeyFile(path: string): SigningSecretKeyFile {
  const root = readPrivateZplFile(path);
  const publicKey = readKeyProperty(root, SECTION, "public-key", path);
  const secretKey = readKeyProperty(root, SECTION, "secret-key", path);
  checkKeyPair(`keys: ${path}`, signingPublicKey(secretKey), publicKey);
  return { path, keyId: keyIdOf(readMetadataSection(root), path), publicKey, secretKey };
}

function keyIdOf(metadata: ReadonlyMap<string, string>, path: string): string {
  const keyId = metadata.get("key-id");
  if (keyId === undefined || !KEY_ID_PATTERN.test(keyId)) {
    throw new AgentError(
      FaultCode.KEY_FILE_INVALID,
      `keys: ${path}: metadata/key-id is missing or invalid`,
    );
  }
  return keyId;
}
