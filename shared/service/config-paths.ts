/**
 * The files and folders an agent's config names, as the service installers need them: key files
 * to hand over (systemd LoadCredential=, Windows ACL grants) and folders the service writes.
 *
 * Read straight from the YAML with each agent's documented defaults, without the agents' schemas:
 * shared/ never imports agent-*, and an installer must not need a config that validates in every
 * detail (the agent itself refuses a bad config at start, naming the key and line). Relative
 * paths resolve against the config file's folder, as the agents resolve them.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve, win32 } from "node:path";
import { parse } from "yaml";

export interface ServicePaths {
  /** Secret files (CURVE/signing secrets, tokens): credentials on Linux, read grants on Windows. */
  readonly secretFiles: readonly string[];
  /** Public files and folders the service reads (pinned keys). */
  readonly readPaths: readonly string[];
  /** Folders the service writes (state, journal, log). */
  readonly writeDirs: readonly string[];
  /** The log file, when the config names one. */
  readonly logFile: string | undefined;
}

type Agent = "agent-inf" | "agent-gtw";

/** A dotted key path ("*" walks an array) with the agent's default when the key is absent. */
interface Selector {
  readonly path: string;
  readonly fallback?: string;
  /** Only when another key has this value (e.g. the EA link secret only for backend terminal). */
  readonly when?: { readonly path: string; readonly equals: string; readonly fallback: string };
  /** The folder of the file is what matters (journal, log file). */
  readonly parent?: boolean;
}

const SELECTORS: Record<Agent, Record<"secret" | "read" | "write" | "log", readonly Selector[]>> = {
  "agent-inf": {
    secret: [
      { path: "keys.client_secret" },
      { path: "keys.signing_secret" },
      { path: "api.token_file" },
      { path: "api.operator_token_file" },
    ],
    read: [{ path: "gateways.*.server_key_file" }],
    write: [
      { path: "state_dir", fallback: "state" },
      { path: "log.file", parent: true },
    ],
    log: [{ path: "log.file" }],
  },
  "agent-gtw": {
    secret: [
      { path: "keys.server_secret" },
      {
        path: "backend.terminal.secret_file",
        fallback: "keys/terminal.secret",
        when: { path: "backend.type", equals: "terminal", fallback: "sim" },
      },
    ],
    read: [{ path: "keys.authorized_clients_dir" }, { path: "keys.signing_keys.*.file" }],
    write: [
      { path: "state_dir", fallback: "state" },
      { path: "journal.path", fallback: "state/orders.journal", parent: true },
      {
        path: "backend.sim.state_dir",
        fallback: "state/sim",
        when: { path: "backend.type", equals: "sim", fallback: "sim" },
      },
      { path: "log.file", parent: true },
    ],
    log: [{ path: "log.file" }],
  },
};

/** Read `configPath` and list what the service needs; throws when the file is unreadable YAML. */
export function readServicePaths(
  agent: Agent,
  configPath: string,
  platform: NodeJS.Platform = process.platform,
): ServicePaths {
  const document: unknown = parse(readFileSync(configPath, "utf8"));
  return servicePathsFrom(agent, document, configPath, platform);
}

/** The pure part of readServicePaths, for tests. */
export function servicePathsFrom(
  agent: Agent,
  document: unknown,
  configPath: string,
  platform: NodeJS.Platform = process.platform,
): ServicePaths {
  const pathApi = platform === "win32" ? win32 : { dirname, isAbsolute, resolve };
  const base = pathApi.dirname(pathApi.resolve(configPath));
  const table = SELECTORS[agent];
  const collect = (selectors: readonly Selector[]) =>
    unique(
      selectors.flatMap((selector) =>
        select(document, selector).map((value) => {
          const absolute = pathApi.isAbsolute(value) ? value : pathApi.resolve(base, value);
          return selector.parent === true ? pathApi.dirname(absolute) : absolute;
        }),
      ),
    );
  return {
    secretFiles: collect(table.secret),
    readPaths: collect(table.read),
    writeDirs: collect(table.write),
    logFile: collect(table.log)[0],
  };
}

function select(document: unknown, selector: Selector): string[] {
  if (selector.when !== undefined) {
    const [found] = lookup(document, selector.when.path.split("."));
    const value = typeof found === "string" ? found : selector.when.fallback;
    if (value !== selector.when.equals) return [];
  }
  const values = lookup(document, selector.path.split(".")).filter(
    (value): value is string => typeof value === "string" && value !== "",
  );
  if (values.length === 0 && selector.fallback !== undefined && !selector.path.includes("*")) {
    return [selector.fallback];
  }
  return values;
}

function lookup(node: unknown, keys: readonly string[]): unknown[] {
  const [key, ...rest] = keys;
  if (key === undefined) return [node];
  if (key === "*") {
    return Array.isArray(node) ? node.flatMap((item) => lookup(item, rest)) : [];
  }
  if (typeof node !== "object" || node === null || Array.isArray(node)) return [];
  const child = (node as Record<string, unknown>)[key];
  return child === undefined ? [] : lookup(child, rest);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
