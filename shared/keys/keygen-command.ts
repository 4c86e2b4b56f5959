/**
 * The `keygen` command of both agents (DESIGN §5, deploy.md §5):
 *
 *   agent-gtw keygen [--dir DIR] [--name agent-gtw] [--terminal-secret]
 *   agent-inf keygen --name inf-1 [--dir DIR]
 *   agent-gtw keygen --add terminal-secret [--dir DIR]
 *   agent-inf keygen --add api-token|operator-token [--dir DIR]
 *
 * Writes the host's key files with shared/keys/keygen.ts (zcert CURVE pair; for agent-inf also the
 * Ed25519 signing pair and the local API's two bearer tokens, strategy and operator), optionally
 * the EA link secret, and prints which file goes to which host and the config lines to paste,
 * with short fingerprints. `--add ITEM` writes that one file into an existing key folder and
 * touches nothing else. Never overwrites: when any target exists nothing is written and the exit
 * code is 3, naming the file. Secrets are never printed.
 */
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
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
/** The local API's strategy token (trade and read). */
export const API_TOKEN_FILE = "api.token";
/** The local API's operator token (also the trading state and the breaker). */
export const OPERATOR_TOKEN_FILE = "operator.token";

/** What `--add` can add to an existing key folder, per agent, and the file it writes. */
export const ADDABLE: Readonly<Record<KeygenAgent, Readonly<Record<string, string>>>> = {
  "agent-gtw": { "terminal-secret": TERMINAL_SECRET_FILE },
  "agent-inf": { "api-token": API_TOKEN_FILE, "operator-token": OPERATOR_TOKEN_FILE },
};
/** 32 random bytes as hex: 64 characters, inside the EA link's 32–256 printable-ASCII rule. */
const TOKEN_BYTES = 32;

export const KEYGEN_HELP: Record<KeygenAgent, string> = {
  "agent-gtw": `Usage: agent-gtw keygen [--dir DIR] [--name NAME] [--terminal-secret]
       agent-gtw keygen --add terminal-secret [--dir DIR]

Writes the gateway's CURVE key pair DIR/NAME.key and DIR/NAME.key_secret (default DIR keys,
NAME agent-gtw). --terminal-secret also writes DIR/terminal.secret, the secret the gateway and
the GatewayBridge EA prove to each other.
--add terminal-secret writes only DIR/terminal.secret into an existing key folder.
Never overwrites a file: exit 3 when one exists.
`,
  "agent-inf": `Usage: agent-inf keygen --name NAME [--dir DIR]
       agent-inf keygen --add api-token|operator-token [--dir DIR]

Writes this inference host's CURVE key pair DIR/NAME.key(_secret), its order-signing pair
DIR/NAME.sign(_secret) (default DIR keys; NAME is also the signing key id, e.g. inf-1), and the
local API's bearer tokens: DIR/api.token for the strategy (trade and read) and
DIR/operator.token for the operator (also halt, resume, breaker).
--add api-token|operator-token writes only that token into an existing key folder (a folder
from before tokens were the default, or after removing a token to rotate it).
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
    add: { type: "string" },
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
  const dir = resolve(values.dir ?? "keys");
  if (values.add !== undefined) {
    if (values.name !== undefined || values["terminal-secret"] === true)
      throw new UsageError(
        "--add writes one file into an existing key folder; it takes only --dir",
      );
    return addItem(agent, dir, values.add, out, err);
  }
  const name = values.name ?? (agent === "agent-gtw" ? "agent-gtw" : undefined);
  if (name === undefined) throw new UsageError("agent-inf keygen needs --name (e.g. --name inf-1)");
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new UsageError(
      `--name must be 1–64 of A-Z a-z 0-9 . _ - (not starting with . _ -), was ${JSON.stringify(name)}`,
    );
  }
  // agent-inf: both API tokens always (--api-token, from before that, still means the same)
  const extras =
    agent === "agent-gtw"
      ? values["terminal-secret"] === true
        ? [TERMINAL_SECRET_FILE]
        : []
      : [API_TOKEN_FILE, OPERATOR_TOKEN_FILE];

  const targets = plannedFiles(agent, dir, name, extras);
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
      if (extras.length > 0)
        out(terminalSecretInstructions(writeTokenFile(join(dir, TERMINAL_SECRET_FILE))));
    } else {
      const keys = generateInferenceKeys(dir, name);
      out(inferenceInstructions(keys));
      const tokens = extras.map((file) => writeTokenFile(join(dir, file)));
      out(apiTokenInstructions(tokens));
    }
  } catch (error) {
    err(`${agent} keygen: ${describeError(error)}\n`);
    return exitCodeFor(error);
  }
  return ExitCode.OK;
}

/** `--add ITEM`: one new file in an existing key folder; nothing else is touched. */
function addItem(
  agent: KeygenAgent,
  dir: string,
  item: string,
  out: (text: string) => void,
  err: (text: string) => void,
): number {
  const file = ADDABLE[agent][item];
  if (file === undefined)
    throw new UsageError(
      `--add takes ${Object.keys(ADDABLE[agent]).join(" or ")} for ${agent}, was ${JSON.stringify(item)}`,
    );
  let isFolder = false;
  try {
    isFolder = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isFolder) {
    err(`${agent} keygen: no key folder at ${dir}; --add adds to an existing one (check --dir)\n`);
    return ExitCode.CONFIG;
  }
  const path = join(dir, file);
  if (existsSync(path)) {
    err(
      `${agent} keygen: ${path} already exists; refusing to overwrite a key (move it away first)\n`,
    );
    return ExitCode.CONFIG;
  }
  try {
    writeTokenFile(path);
  } catch (error) {
    err(`${agent} keygen: ${describeError(error)}\n`);
    return exitCodeFor(error);
  }
  out(
    agent === "agent-gtw"
      ? terminalSecretInstructions(path)
      : apiTokenInstructions([path], file === OPERATOR_TOKEN_FILE ? "operator" : "strategy"),
  );
  return ExitCode.OK;
}

/** Every file keygen would create, so an existing one is reported before anything is written. */
export function plannedFiles(
  agent: KeygenAgent,
  dir: string,
  name: string,
  extras: readonly string[],
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
  for (const extra of extras) files.push(join(dir, extra));
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

function terminalSecretInstructions(path: string): string {
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

/** The config lines for the API tokens written (both, or the one `--add` wrote). */
function apiTokenInstructions(paths: readonly string[], only?: "strategy" | "operator"): string {
  const [strategy, operator] =
    only === undefined ? paths : only === "strategy" ? [paths[0]] : [undefined, paths[0]];
  return [
    "API tokens written (they stay on this host; not printed here):",
    ...(strategy === undefined
      ? []
      : [`  strategy: ${strategy}   (trade and read: the strategy's token)`]),
    ...(operator === undefined
      ? []
      : [`  operator: ${operator}   (also halt, resume, breaker: the operator's token)`]),
    "In agent-inf.yaml:",
    "  api:",
    ...(strategy === undefined ? [] : [`    token_file: ${strategy}`]),
    ...(operator === undefined ? [] : [`    operator_token_file: ${operator}`]),
    'Clients send a token as the header "Authorization: Bearer <token>"; the agent-inf command',
    "line and the mt5bridge Python package find them through the config.",
    "",
  ].join("\n");
}
