/**
 * Key generation for a deployment (DESIGN §5, deploy.md §5): the gateway's CURVE pair, one CURVE
 * pair per inference host, and that host's Ed25519 order-signing pair. Secrets never leave the
 * host they are generated on; only the public files are copied across. Never overwrites a key.
 *
 * Used by `agent-gtw keygen`, `agent-inf keygen`, `bun run keygen` and the demo.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync } from "node:fs";
import { generateKeyPair } from "../curve/box.ts";
import { fingerprint, z85DecodeKey, z85Encode } from "../curve/z85.ts";
import { AgentError, FaultCode } from "../errors.ts";
import { generateSigningKeyPair } from "../protocol/signing.ts";
import { writeCertificate } from "./curve-keys.ts";
import { writeSigningKeyFiles } from "./signing-keys.ts";

export interface GeneratedGatewayKeys {
  readonly publicPath: string;
  readonly secretPath: string;
  readonly publicKey: string;
}

export interface GeneratedInferenceKeys {
  readonly curvePublicPath: string;
  readonly curveSecretPath: string;
  readonly signPublicPath: string;
  readonly signSecretPath: string;
  readonly curvePublicKey: string;
  readonly signPublicKey: string;
  readonly keyId: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The gateway's CURVE key pair: `<dir>/<name>.key` and `<dir>/<name>.key_secret`. */
export function generateGatewayKeys(dir: string, name = "agent-gtw"): GeneratedGatewayKeys {
  checkName(name);
  prepareDirectory(dir);
  const pair = generateKeyPair();
  const paths = writeCertificate(dir, name, pair, { role: "agent-gtw", name });
  restrictOnWindows(paths.secretPath);
  return { ...paths, publicKey: z85Encode(pair.publicKey) };
}

/**
 * One inference host's keys: CURVE `<name>.key`/`.key_secret` and Ed25519 `<name>.sign`/
 * `.sign_secret`, key id = name.
 */
export function generateInferenceKeys(dir: string, name: string): GeneratedInferenceKeys {
  checkName(name);
  prepareDirectory(dir);
  const curve = generateKeyPair();
  const signing = generateSigningKeyPair();
  const curvePaths = writeCertificate(dir, name, curve, { role: "agent-inf", name });
  const signPaths = writeSigningKeyFiles(dir, name, name, signing);
  restrictOnWindows(curvePaths.secretPath);
  restrictOnWindows(signPaths.secretPath);
  return {
    curvePublicPath: curvePaths.publicPath,
    curveSecretPath: curvePaths.secretPath,
    signPublicPath: signPaths.publicPath,
    signSecretPath: signPaths.secretPath,
    curvePublicKey: z85Encode(curve.publicKey),
    signPublicKey: z85Encode(signing.publicKey),
    keyId: name,
  };
}

export function gatewayInstructions(keys: GeneratedGatewayKeys): string {
  return [
    `Gateway CURVE key pair written (fingerprint ${fingerprint(z85DecodeKey(keys.publicKey))}):`,
    `  secret: ${keys.secretPath}   (stays on the gateway host)`,
    `  public: ${keys.publicPath}   (copy to every inference host)`,
    "",
    "In agent-gtw.yaml:",
    "  keys:",
    `    server_secret: ${keys.secretPath}`,
    "",
    "In each agent-inf.yaml, under the gateway entry:",
    `    server_key_file: <copied ${keys.publicPath.replace(/^.*[\\/]/, "")}>   # or server_key: "${keys.publicKey}"`,
    "",
  ].join("\n");
}

export function inferenceInstructions(keys: GeneratedInferenceKeys): string {
  const base = (path: string) => path.replace(/^.*[\\/]/, "");
  return [
    `Inference host keys for ${keys.keyId} written:`,
    `  CURVE   secret ${keys.curveSecretPath}  public ${keys.curvePublicPath} (fingerprint ${fingerprint(z85DecodeKey(keys.curvePublicKey))})`,
    `  signing secret ${keys.signSecretPath}  public ${keys.signPublicPath} (fingerprint ${fingerprint(z85DecodeKey(keys.signPublicKey))})`,
    "Secrets stay on this host. Copy the two public files to the gateway host.",
    "",
    "In agent-inf.yaml:",
    "  keys:",
    `    client_secret: ${keys.curveSecretPath}`,
    `    signing_secret: ${keys.signSecretPath}`,
    "",
    "In agent-gtw.yaml on the gateway host (put the .key into the authorized clients directory):",
    "  keys:",
    `    authorized_clients_dir: keys/clients        # contains ${base(keys.curvePublicPath)}`,
    "    signing_keys:",
    `      - key_id: ${keys.keyId}`,
    `        file: keys/${base(keys.signPublicPath)}   # or public_key: "${keys.signPublicKey}"`,
    "",
  ].join("\n");
}

function checkName(name: string): void {
  if (!NAME.test(name)) {
    throw new AgentError(
      FaultCode.USAGE,
      `keygen: name must be 1–64 of A-Z a-z 0-9 . _ - (not starting with . _ -), was ${JSON.stringify(name)}`,
    );
  }
}

/** The key directory is private too: 0700 on POSIX (deploy.md §5.3). */
function prepareDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform !== "win32") chmodSync(dir, 0o700);
}

/**
 * On Windows a file mode means nothing; strip inherited ACEs and grant only the current user,
 * SYSTEM and Administrators (deploy.md §5.3). The two groups are named by their well-known SIDs
 * (S-1-5-18, S-1-5-32-544): the names are translated on non-English Windows. Failure is an
 * error: a readable secret is worse than no key.
 */
export function restrictOnWindows(path: string): void {
  if (process.platform !== "win32") return;
  const user = process.env["USERNAME"];
  const grants = ["*S-1-5-18:F", "*S-1-5-32-544:F", ...(user === undefined ? [] : [`${user}:F`])];
  const result = spawnSync(
    "icacls",
    [path, "/inheritance:r", ...grants.flatMap((grant) => ["/grant:r", grant])],
    {
      encoding: "utf8",
    },
  );
  if (result.status !== 0) {
    throw new AgentError(
      FaultCode.KEY_FILE_INSECURE,
      `keygen: could not restrict ${path} with icacls (${(result.stderr || result.stdout || "").trim()}); restrict it by hand before use`,
    );
  }
}
