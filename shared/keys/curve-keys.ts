/**
 * CURVE key files on disk, in czmq/pyzmq certificate format (zcert.ts): `name.key` holds the
 * public key and may be shared; `name.key_secret` holds both keys and must stay private.
 * The only module in shared/curve that does file I/O.
 *
 * Writing never overwrites (O_CREAT|O_EXCL) and creates the secret with mode 0600 from the start,
 * so there is no moment where it is readable by others. Reading a secret refuses, on POSIX, a file
 * that group or others can access, naming the file and the fix. Windows has no POSIX modes: the
 * keygen/install scripts must lock the directory with icacls (deploy.md §5.3), and the mode check
 * is skipped there.
 *
 * The generic helpers (readZplFile, readPrivateZplFile, writeKeyFiles) serve the Ed25519
 * signing-key files too, which use the same ZPL layout under an `ed25519` section.
 */
import {
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fsyncSync,
  openSync,
  readdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { KeyPair } from "../curve/box.ts";
import { AgentError, describeError, FaultCode } from "../errors.ts";
import { readPrivateText } from "./private-file.ts";
import {
  type CurveCertificate,
  type CurveSecretCertificate,
  formatCertificate,
  publicCertificateFromZpl,
  secretCertificateFromZpl,
} from "./zcert.ts";
import { MAX_ZPL_BYTES, parseZpl, type ZplNode } from "./zpl.ts";

export const PUBLIC_KEY_SUFFIX = ".key";
export const SECRET_KEY_SUFFIX = ".key_secret";

/** Certificate names become file names: no separators, no leading dot. */
const CERTIFICATE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface KeyFileReadOptions {
  /** Defaults to process.platform; the POSIX mode check is skipped on win32. */
  readonly platform?: NodeJS.Platform;
}

export interface WriteCertificateOptions {
  /** Banner timestamp; defaults to now. */
  readonly generatedAt?: Date;
  /** Banner generator name; defaults to "agent-keygen". */
  readonly generator?: string;
}

export interface CertificatePaths {
  readonly publicPath: string;
  readonly secretPath: string;
}

export interface CurveCertificateFile extends CurveCertificate {
  readonly path: string;
}

export interface CurveSecretCertificateFile extends CurveSecretCertificate {
  readonly path: string;
}

/** One file for writeKeyFiles: secret files get 0600, public ones 0644. */
export interface KeyFileToWrite {
  readonly path: string;
  readonly text: string;
  readonly secret: boolean;
}

/**
 * Write `dir/name.key` (0644) and `dir/name.key_secret` (0600). Throws AgentError
 * KEY_FILE_EXISTS naming the file if either exists; never replaces a key.
 */
export function writeCertificate(
  dir: string,
  name: string,
  keyPair: KeyPair,
  metadata: Readonly<Record<string, string>> = {},
  options: WriteCertificateOptions = {},
): CertificatePaths {
  if (!CERTIFICATE_NAME.test(name)) {
    throw new AgentError(
      FaultCode.USAGE,
      `curve: certificate name must be letters, digits, ".", "_" or "-" (not starting with "."), was ${JSON.stringify(name)}`,
    );
  }
  const textOptions = {
    generatedAt: options.generatedAt ?? new Date(),
    ...(options.generator === undefined ? {} : { generator: options.generator }),
  };
  const publicPath = join(dir, `${name}${PUBLIC_KEY_SUFFIX}`);
  const secretPath = join(dir, `${name}${SECRET_KEY_SUFFIX}`);
  writeKeyFiles([
    {
      path: secretPath,
      text: formatCertificate("secret", keyPair, metadata, textOptions),
      secret: true,
    },
    {
      path: publicPath,
      text: formatCertificate("public", keyPair, metadata, textOptions),
      secret: false,
    },
  ]);
  return { publicPath, secretPath };
}

/**
 * Create each file exclusively, in order; if one fails, remove the ones this call created, so
 * a half-written pair never remains. Throws KEY_FILE_EXISTS when any target already exists.
 */
export function writeKeyFiles(files: readonly KeyFileToWrite[]): void {
  for (const file of files) {
    if (existsSync(file.path)) throw exists(file.path);
  }
  const created: string[] = [];
  try {
    for (const file of files) {
      writeExclusive(file.path, file.text, file.secret ? 0o600 : 0o644);
      created.push(file.path);
    }
  } catch (error) {
    for (const path of created) {
      try {
        unlinkSync(path);
      } catch {
        // Best effort: the original error is the one worth reporting
      }
    }
    throw error;
  }
}

function writeExclusive(path: string, text: string, mode: number): void {
  let fd: number;
  try {
    // O_EXCL: fail rather than follow a planted file or symlink; the mode applies at creation
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw exists(path);
    throw new AgentError(
      FaultCode.KEY_FILE_INVALID,
      `curve: cannot create ${path}: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
  try {
    const bytes = Buffer.from(text, "utf8");
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    // The umask (often 077) may have narrowed a public file to 0600; public files are 0644
    if (mode === 0o644 && process.platform !== "win32") fchmodSync(fd, mode);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function exists(path: string): AgentError {
  return new AgentError(
    FaultCode.KEY_FILE_EXISTS,
    `curve: ${path} already exists; refusing to overwrite a key (move it away first)`,
  );
}

/** Read and parse a public certificate (`*.key`). */
export function readPublicKeyFile(path: string): CurveCertificateFile {
  return { path, ...publicCertificateFromZpl(readZplFile(path), path) };
}

/**
 * Read and parse a secret certificate (`*.key_secret`): mode 0600 or stricter on POSIX, keys
 * valid Z85 of 32 bytes, and the public key derived from the secret one.
 */
export function readSecretKeyFile(
  path: string,
  options: KeyFileReadOptions = {},
): CurveSecretCertificateFile {
  try {
    return { path, ...secretCertificateFromZpl(readPrivateZplFile(path, options), path) };
  } catch (error) {
    // A public certificate where the secret one belongs: "chmod 600 it" (its mode is 0644, as a
    // public file's should be) or "no secret-key" would send the operator the wrong way
    if (
      error instanceof AgentError &&
      path.endsWith(PUBLIC_KEY_SUFFIX) &&
      isPublicCertificate(path)
    )
      throw new AgentError(
        FaultCode.KEY_FILE_INVALID,
        `${path} is a public key file (the public half of a key pair); a secret key is needed here: the matching ${path.replace(/\.key$/, "")}.key_secret, which keygen wrote beside it`,
        { cause: error },
      );
    throw error;
  }
}

/** Whether `path` reads as a public certificate: it has a public key and no secret. */
function isPublicCertificate(path: string): boolean {
  try {
    readPublicKeyFile(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every public certificate (`*.key`) in `dir`, sorted by file name; secret files (`*.key_secret`,
 * `*_secret`) and hidden files are skipped, as zcertstore and pyzmq's load_certificates do.
 */
export function readPublicKeysDir(dir: string): CurveCertificateFile[] {
  return publicKeyPathsIn(dir)
    .filter((path) => statSync(path).isFile())
    .map((path) => readPublicKeyFile(path));
}

/** The paths of `dir`'s public certificates (`*.key`, not hidden), sorted; throws naming `dir`. */
export function publicKeyPathsIn(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    throw new AgentError(
      FaultCode.KEY_FILE_INVALID,
      `curve: cannot list key directory ${dir}: ${describeError(error)}`,
      {
        cause: error,
      },
    );
  }
  return names
    .filter((name) => name.endsWith(PUBLIC_KEY_SUFFIX) && !name.startsWith("."))
    .sort()
    .map((name) => join(dir, name));
}

/** Read a ZPL file (bounded to MAX_ZPL_BYTES, UTF-8) and parse it. */
export function readZplFile(path: string): ZplNode {
  return parseZpl(readPrivateText(path, { what: "key file", maxBytes: MAX_ZPL_BYTES }), path);
}

/** Read a ZPL file that holds a secret, refusing it when group or others can access it (POSIX). */
export function readPrivateZplFile(path: string, options: KeyFileReadOptions = {}): ZplNode {
  return parseZpl(
    readPrivateText(path, {
      what: "secret key file",
      maxBytes: MAX_ZPL_BYTES,
      privateOn: options.platform ?? process.platform,
    }),
    path,
  );
}
