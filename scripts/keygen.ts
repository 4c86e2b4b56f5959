/**
 * A complete development key set in one go, laid out the way config/gtw.example.yaml and
 * config/inf.example.yaml expect when both agents run on one machine (the configs copied next to
 * the keys folder, since relative paths resolve against the config file's folder):
 *
 *   bun run keygen [--dir keys]
 *
 *   keys/agent-gtw.key, .key_secret     gateway CURVE pair
 *   keys/inf-1.key, .key_secret         inference host CURVE pair
 *   keys/inf-1.sign, .sign_secret       inference host order-signing pair (key id inf-1)
 *   keys/api.token, operator.token      the local API's strategy and operator tokens
 *   keys/clients/inf-1.key              the gateway's allow-list entry for inf-1
 *   keys/terminal.secret                the EA link's shared secret
 *
 * For real hosts use `agent-gtw keygen` and `agent-inf keygen` on each host (docs/DEPLOY.md), so
 * no secret ever travels. Never overwrites: exit 3 naming the first file that exists.
 */
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { ExitCode, parseCommandLine, printedHelp, reportError } from "../shared/cli.ts";
import { generateGatewayKeys, generateInferenceKeys } from "../shared/keys/keygen.ts";
import {
  API_TOKEN_FILE,
  OPERATOR_TOKEN_FILE,
  plannedFiles,
  TERMINAL_SECRET_FILE,
  writeTokenFile,
} from "../shared/keys/keygen-command.ts";

export interface DevKeySet {
  readonly dir: string;
  readonly files: readonly string[];
  readonly gatewayFingerprint: string;
  readonly inferenceFingerprint: string;
  readonly signingFingerprint: string;
}

/** Every file the dev set consists of, in creation order. */
export function devKeyFiles(dir: string): string[] {
  return [
    ...plannedFiles("agent-gtw", dir, "agent-gtw", []),
    ...plannedFiles("agent-inf", dir, "inf-1", [API_TOKEN_FILE, OPERATOR_TOKEN_FILE]),
    join(dir, "clients", "inf-1.key"),
    join(dir, TERMINAL_SECRET_FILE),
  ];
}

/** Throws KEY_FILE_EXISTS (via the writers) or returns the set; checks every file first. */
export function generateDevKeySet(directory: string): DevKeySet | { exists: string } {
  const dir = resolve(directory);
  const files = devKeyFiles(dir);
  const taken = files.find((path) => existsSync(path));
  if (taken !== undefined) return { exists: taken };
  const gateway = generateGatewayKeys(dir, "agent-gtw");
  const inference = generateInferenceKeys(dir, "inf-1");
  mkdirSync(join(dir, "clients"), { recursive: true, mode: 0o700 });
  copyFileSync(inference.curvePublicPath, join(dir, "clients", "inf-1.key"));
  writeTokenFile(join(dir, API_TOKEN_FILE));
  writeTokenFile(join(dir, OPERATOR_TOKEN_FILE));
  writeTokenFile(join(dir, TERMINAL_SECRET_FILE));
  return {
    dir,
    files,
    gatewayFingerprint: gateway.publicKey.slice(0, 8),
    inferenceFingerprint: inference.curvePublicKey.slice(0, 8),
    signingFingerprint: inference.signPublicKey.slice(0, 8),
  };
}

function main(args: readonly string[]): number {
  if (
    printedHelp(
      args,
      "Usage: bun run keygen [-- --dir DIR]\n\nA development key set for both agents on one machine (default DIR keys): gateway and\ninf-1 CURVE pairs, inf-1's signing pair, clients/inf-1.key, terminal.secret. Never\noverwrites. For real hosts use agent-gtw keygen and agent-inf keygen (docs/DEPLOY.md).\n",
    )
  )
    return ExitCode.OK;
  const { values } = parseCommandLine(args, { dir: { type: "string", short: "d" } });
  const result = generateDevKeySet(values.dir ?? "keys");
  if ("exists" in result) {
    process.stderr.write(
      `keygen: ${result.exists} already exists; refusing to overwrite a key (move the folder away for a fresh set)\n`,
    );
    return ExitCode.CONFIG;
  }
  process.stdout.write(
    [
      `Development key set written to ${result.dir}:`,
      ...result.files.map((file) => `  ${file}`),
      `Fingerprints: gateway ${result.gatewayFingerprint}, inf-1 CURVE ${result.inferenceFingerprint}, inf-1 signing ${result.signingFingerprint}`,
      "Copies of config/gtw.example.yaml and config/inf.example.yaml saved as agent-gtw.yaml and",
      "agent-inf.yaml in the folder that holds this keys folder use these paths as they are.",
      "For real hosts run `agent-gtw keygen` / `agent-inf keygen` on each host (docs/DEPLOY.md).",
      "",
    ].join("\n"),
  );
  return ExitCode.OK;
}

if (import.meta.main) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    process.exitCode = reportError("keygen", error);
  }
}
