/**
 * czmq `zcert` certificates (the format pyzmq's `zmq.auth` reads and writes): ZPL text with a
 * `metadata` section and a `curve` section holding Z85 keys (research zmtp-curve.md §10,
 * deploy.md §5.1). Pure: builds the text of a certificate and validates a parsed one; reading
 * and writing files is curve-keys.ts's job.
 *
 *   #   ****  Generated on 2026-11-21 05:43:21 by agent-keygen  ****
 *   #   ZeroMQ CURVE **Secret** Certificate
 *   #   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.
 *
 *   metadata
 *       role = "agent-inf"
 *   curve
 *       public-key = "<40 Z85 characters>"
 *       secret-key = "<40 Z85 characters>"
 */

import { constantTimeEqual, type KeyPair, publicFromSecret } from "../curve/box.ts";
import { fingerprint, Z85_KEY_LENGTH, z85DecodeKey, z85Encode } from "../curve/z85.ts";
import { AgentError, FaultCode } from "../errors.ts";
import { formatZpl, type ZplNode, type ZplWriteNode, zplChild, zplChildren } from "./zpl.ts";

export const CURVE_SECTION = "curve";
export const METADATA_SECTION = "metadata";
export const DEFAULT_GENERATOR = "agent-keygen";

export type CertificateKind = "public" | "secret";

export interface CurveCertificate {
  /** C or S: the 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** The `metadata` section, name → value. */
  readonly metadata: ReadonlyMap<string, string>;
}

export interface CurveSecretCertificate extends CurveCertificate {
  readonly secretKey: Uint8Array;
}

export interface CertificateTextOptions {
  /** The time in the banner (the caller's clock; this module reads none). */
  readonly generatedAt: Date;
  /** Who generated the file, shown in the banner. */
  readonly generator?: string;
}

/** The banners czmq and pyzmq write, word for word; only the generator name differs. */
const SECRET_BANNER = [
  "   ZeroMQ CURVE **Secret** Certificate",
  "   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.",
];
const PUBLIC_BANNER = [
  "   ZeroMQ CURVE Public Certificate",
  "   Exchange securely, or use a secure mechanism to verify the contents",
  "   of this file after exchange. Store public certificates in your home",
  "   directory, in the .curve subdirectory.",
];

/** czmq's timestamp, `%Y-%m-%d %H:%M:%S` in local time. */
export function formatTimestamp(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`
  );
}

/** The banner lines (without `#`) of a generated key file; reused for other key kinds. */
export function bannerComments(
  title: readonly string[],
  options: CertificateTextOptions,
): string[] {
  const generator = options.generator ?? DEFAULT_GENERATOR;
  return [
    `   ****  Generated on ${formatTimestamp(options.generatedAt)} by ${generator}  ****`,
    ...title,
  ];
}

/**
 * The text of a public or secret certificate. The `metadata` section is always present (czmq
 * writes it even when empty); czmq writes the metadata into both files, and so do we.
 */
export function formatCertificate(
  kind: CertificateKind,
  keyPair: KeyPair,
  metadata: Readonly<Record<string, string>>,
  options: CertificateTextOptions,
): string {
  const metadataNodes: ZplWriteNode[] = Object.entries(metadata).map(([name, value]) => {
    // pyzmq's loader takes any line starting with "public-key"/"secret-key" as the key
    if (/^(public|secret)-key/.test(name)) {
      throw new AgentError(
        FaultCode.USAGE,
        `curve: metadata name ${JSON.stringify(name)} would be read as a key by pyzmq`,
      );
    }
    return { name, value };
  });
  const keys: ZplWriteNode[] = [{ name: "public-key", value: z85Encode(keyPair.publicKey) }];
  if (kind === "secret") keys.push({ name: "secret-key", value: z85Encode(keyPair.secretKey) });
  const banner = bannerComments(kind === "secret" ? SECRET_BANNER : PUBLIC_BANNER, options);
  return formatZpl(
    [
      { name: METADATA_SECTION, children: metadataNodes },
      { name: CURVE_SECTION, children: keys },
    ],
    banner,
  );
}

/**
 * The Z85 key `section/name` of a parsed key file, decoded to 32 bytes. Exactly one such
 * property must exist (a second public-key would make "which key is this?" ambiguous).
 */
export function readKeyProperty(
  root: ZplNode,
  section: string,
  name: string,
  source: string,
): Uint8Array {
  const invalid = (message: string): AgentError =>
    new AgentError(FaultCode.KEY_FILE_INVALID, `curve: ${source}: ${message}`);
  const sections = zplChildren(root, section);
  if (sections.length !== 1) {
    throw invalid(`expected one "${section}" section, found ${sections.length}`);
  }
  const properties = zplChildren(sections[0] as ZplNode, name);
  if (properties.length !== 1) {
    throw invalid(`expected one ${section}/${name}, found ${properties.length}`);
  }
  const property = properties[0] as ZplNode;
  const text = property.value;
  if (text === undefined) throw invalid(`line ${property.line}: ${section}/${name} has no value`);
  if (text.length !== Z85_KEY_LENGTH) {
    throw invalid(
      `line ${property.line}: ${section}/${name} must be ${Z85_KEY_LENGTH} Z85 characters, was ${text.length}`,
    );
  }
  try {
    return z85DecodeKey(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message.replace(/^curve: /, "") : String(error);
    throw new AgentError(
      FaultCode.KEY_FILE_INVALID,
      `curve: ${source}: line ${property.line}: ${section}/${name} is not valid Z85 (${detail})`,
      { cause: error },
    );
  }
}

/** The `metadata` section as a map (empty when the section is absent or empty). */
export function readMetadataSection(root: ZplNode): ReadonlyMap<string, string> {
  const section = zplChild(root, METADATA_SECTION);
  const metadata = new Map<string, string>();
  for (const child of section?.children ?? []) metadata.set(child.name, child.value ?? "");
  return metadata;
}

/**
 * A public certificate from a parsed file. A public file holding a secret-key is refused: that
 * file was meant to be shared, and sharing it would give the secret away.
 */
export function publicCertificateFromZpl(root: ZplNode, source: string): CurveCertificate {
  const curve = zplChild(root, CURVE_SECTION);
  if (curve !== undefined && zplChild(curve, "secret-key") !== undefined) {
    throw new AgentError(
      FaultCode.KEY_FILE_INVALID,
      `curve: ${source}: a public key file must not contain a secret-key; use the public .key file instead`,
    );
  }
  return {
    publicKey: readKeyProperty(root, CURVE_SECTION, "public-key", source),
    metadata: readMetadataSection(root),
  };
}

/** A secret certificate from a parsed file; its public key must derive from its secret key. */
export function secretCertificateFromZpl(root: ZplNode, source: string): CurveSecretCertificate {
  const publicKey = readKeyProperty(root, CURVE_SECTION, "public-key", source);
  const secretKey = readKeyProperty(root, CURVE_SECTION, "secret-key", source);
  checkKeyPair(`curve: ${source}`, publicFromSecret(secretKey), publicKey);
  return { publicKey, secretKey, metadata: readMetadataSection(root) };
}

/**
 * A key file's public key must be the one its secret key derives: a mismatch means a damaged or
 * hand-edited file, and using it would sign or encrypt as someone else.
 */
export function checkKeyPair(what: string, derived: Uint8Array, publicKey: Uint8Array): void {
  if (!constantTimeEqual(derived, publicKey)) {
    throw new AgentError(
      FaultCode.KEY_FILE_INVALID,
      `${what}: public-key does not belong to secret-key (derived ${fingerprint(derived)}…, file says ${fingerprint(publicKey)}…)`,
    );
  }
}
