/**
 * The `keygen` command of both agents (DESIGN §5, deploy.md §5):
 *
 *   agent-gtw keygen [--dir DIR] [--name agent-gtw] [--terminal-secret]
 *   agent-inf keygen --name inf-1 [--dir DIR] [--api-token]
 *
 * Writes the host's key files with shared/keys/keygen.ts (zcert CURVE pair; for agent-inf also the
 * Ed25519 signing pair), optionally a random secret or token file, and prints which file goes to which host
 * and the config lines to paste, with short fingerprints. Never overwrites: when any target
 * exists nothing is written and the exit code is 3, naming the file. Secrets are never printed.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { ExitCode, exitCodeFor, parseCommandLine, UsageError } from "../cli.ts";
import { describeError } from "../errors.ts";
import { PUBLIC_KEY_SUFFIX, SECRET_KEY_SUFFIX, writeKeyFiles } from "./curve-keys.ts";
import {
  gatewayInstructions,
  generateGatewayKeys,
  generateInferenceKeys,
  inferenceInstructions,
  restrictOnWindows,
} from "./keygen.ts";
import { SIGNING_PUBLIC_SUFFIX, SIGNING_SECRET_SUFFIX } from "./signing-keys.ts";

export type KeygenAgent = "agent-gtw" | "agent-inf";

export const TERMINAL_SECRET_FILE = "terminal.secret";
export const API_TOKEN_FILE = "api.token";
/** 32 random bytes as hex: 64 characters, inside the EA link's 32–256 printable-ASCII rule. */
const TOKEN_BYTES = 32;

export const KEYGEN_HELP: Record<KeygenAgent, string> = {
  "agent-gtw": `Usage: agent-gtw keygen [--dir DIR] [--name NAME] [--terminal-secret]

Writes the gateway's CURVE key pair DIR/NAME.key and DIR/NAME.key_secret (default DIR keys,
NAME agent-gtw). --terminal-secret also writes DIR/terminal.secret, the secret the gateway and
the GatewayBridge EA prove to each other.
Never overwrites a file: exit 3 when one exists.
`,
  "agent-inf": `Usage: agent-inf keygen --name NAME [--dir DIR] [--api-token]

Writes this inference host's CURVE key pair DIR/NAME.key(_secret) and its order-signing pair
DIR/NAME.sign(_secret) (default DIR keys; NAME is also the signing key id, e.g. inf-1).
--api-token also writes DIR/api.token, the local API's bearer token.
Never overwrites a file: exit 3 when one exists.
`,
};

export interface KeygenCommandOptions {
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
}

/** Returns the exit code; a bad command line throws UsageError (exit 2 via reportError). */
export async function runKeygenCommand(
  agent: KeygenAgent,
  args: readonly string[],
  options: KeygenCommandOptions = {},
): Promise<number> {
  const out = options.stdout ?? ((text: string) => process.stdout.write(text));
  const err = options.stderr ?? ((text: string) => process.stderr.write(text));
  const { values, positionals } = parseCommandLine(args, {
    dir: { type: "string", short: "d" },
    name: { type: "string", short: "n" },
    "terminal-secret": { type: "boolean" },
    "terminal-token": { type: "boolean" },
    "api-token": { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help === true) {
    out(KEYGEN_HELP[agent]);
    return ExitCode.OK;
  }
  if (positionals.length > 0) {
    throw new UsageError(`keygen takes no arguments, was given ${positionals.join(" ")}`);
  }
  if (values["terminal-token"] === true) {
    throw new UsageError(
      "--terminal-token was renamed --terminal-secret (the EA link sends no token)",
    );
  }
  const wrongToken = agent === "agent-gtw" ? "api-token" : "terminal-secret";
  if (values[wrongToken] === true) {
    throw new UsageError(
      `--${wrongToken} belongs to ${agent === "agent-gtw" ? "agent-inf" : "agent-gtw"} keygen`,
    );
  }
  const name = values.name ?? (agent === "agent-gtw" ? "agent-gtw" : undefined);
  if (name === undefined) throw new UsageError("agent-inf keygen needs --name (e.g. --name inf-1)");
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new UsageError(
      `--name must be 1–64 of A-Z a-z 0-9 . _ - (not starting with . _ -), was ${JSON.stringify(name)}`,
    );
  }
  const dir = resolve(values.dir ?? "keys");
  const token =
    agent === "agent-gtw"
      ? values["terminal-secret"] === true
        ? TERMINAL_SECRET_FILE
        : undefined
      : values["api-token"] === true
        ? API_TOKEN_FILE
        : undefined;

  const targets = plannedFiles(agent, dir, name, token);
  const taken = targets.find((path) => existsSync(path));
  if (taken !== undefined) {
    err(
      `${agent} keygen: ${taken} already exists; refusing to overwrite a key (move it away first)\n`,
    );
    return ExitCode.CONFIG;
  }

  try {
    if (agent === "agent-gtw") {
      const keys = generateGatewayKeys(dir, name);
      out(gatewayInstructions(keys));
      if (token !== undefined) out(tokenInstructions(agent, writeTokenFile(join(dir, token))));
    } else {
      const keys = generateInferenceKeys(dir, name);
      out(inferenceInstructions(keys));
      if (token !== undefined) out(tokenInstructions(agent, writeTokenFile(join(dir, token))));
    }
  } catch (error) {
    err(`${agent} keygen: ${describeError(error)}\n`);
    return exitCodeFor(error);
  }
  return ExitCode.OK;
}

/** Every file keygen would create, so an existing one is reported before anything is written. */
export function plannedFiles(
  agent: KeygenAgent,
  dir: string,
  name: string,
  token: string | undefined,
): string[] {
  const files = [
    join(dir, `${name}${PUBLIC_KEY_SUFFIX}`),
    join(dir, `${name}${SECRET_KEY_SUFFIX}`),
  ];
  if (agent === "agent-inf") {
    files.push(
      join(dir, `${name}${SIGNING_PUBLIC_SUFFIX}`),
      join(dir, `${name}${SIGNING_SECRET_SUFFIX}`),
    );
  }
  if (token !== undefined) files.push(join(dir, token));
  return files;
}

/**
 * A random token in a new private file (O_EXCL, 0600; on Windows an owner-only ACL like the key
 * files, deploy.md §5.3). Returns the path; the token itself is never printed.
 */
export function writeTokenFile(path: string): string {
  writeKeyFiles([{ path, text: `${randomBytes(TOKEN_BYTES).toString("hex")}\n`, secret: true }]);
  restrictOnWindows(path);
  return path;
}

function tokenInstructions(agent: KeygenAgent, path: string): string {
  if (agent === "agent-gtw") {
    return [
      `EA link secret written: ${path}   (stays on the gateway host; not printed here)`,
      "In agent-gtw.yaml:",
      "  backend:",
      "    terminal:",
      `      secret_file: ${path}`,
      "In the GatewayBridge EA's inputs (docs/MT5-SETUP.md): InpSecret = the one line in that file",
      "",
    ].join("\n");
  }
  return [
    `API token written: ${path}   (stays on this host; not printed here)`,
    "In agent-inf.yaml:",
    "  api:",
    `    token_file: ${path}`,
    'Strategies send it as the header "Authorization: Bearer <token>"',
    "",
  ].join("\n");
}
