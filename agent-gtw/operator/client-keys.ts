/**
 * The authorized client keys, kept current while the gateway runs (issue 12 §6, docs/DEPLOY.md
 * "Revoking a client"). They are read at start, and again:
 *
 * - when `keys.authorized_clients_dir` changes: fs.watch on the folder, and, because watching is
 *   not reliable everywhere (network shares, some Wine versions), a re-scan every few seconds
 *   that compares the folder's `*.key` files (name, size, modification time);
 * - on `agent-gtw reload` (operator/reload.ts), which also re-reads the config file's inline
 *   `keys.authorized_clients`.
 *
 * After a change the owner closes the sessions of keys that are no longer authorized (server.ts
 * revokeSessions). A key file that does not parse authorizes nobody: at start it is a config
 * error (exit 3), on a re-read it is left out and logged, so a broken file can never keep a
 * revoked key alive.
 */
import { type FSWatcher, statSync, watch } from "node:fs";
import type { Clock, TimerHandle } from "../../shared/clock.ts";
import { name as clientName } from "../../shared/config/fields.ts";
import { z85DecodeKey, z85Encode } from "../../shared/curve/z85.ts";
import { AgentError, describeError, FaultCode } from "../../shared/errors.ts";
import {
  PUBLIC_KEY_SUFFIX,
  publicKeyPathsIn,
  readPublicKeyFile,
} from "../../shared/keys/curve-keys.ts";
import type { Logger } from "../../shared/log.ts";

/** Z85 public key → client name. */
export type ClientMap = ReadonlyMap<string, string>;

export interface InlineClient {
  readonly name: string;
  readonly public_key: string;
}

export interface ClientKeysChange {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Files left out because they did not parse. */
  readonly problems: readonly string[];
  readonly clients: number;
}

export interface ClientKeysOptions {
  readonly dir: string | undefined;
  readonly inline: readonly InlineClient[];
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often the folder is compared without a watch event; 0 turns watching off (tests). */
  readonly rescanMs?: number;
  /** Use fs.watch as well as the re-scan (default true; tests of the fallback turn it off). */
  readonly watch?: boolean;
  /** Told after every change that altered the map. */
  readonly onChange?: (change: ClientKeysChange) => void;
}

export const DEFAULT_RESCAN_MS = 5000;

export class ClientKeys {
  readonly #options: ClientKeysOptions;
  #inline: readonly InlineClient[];
  #clients: ClientMap;
  #stamp: string;
  #watcher: FSWatcher | undefined;
  #timer: TimerHandle | undefined;
  #debounce: TimerHandle | undefined;

  /** Reads the keys; throws KEY_FILE_INVALID / CONFIG_INVALID naming a file that does not parse. */
  constructor(options: ClientKeysOptions) {
    this.#options = options;
    this.#inline = options.inline;
    const read = readClients(options.dir, options.inline);
    if (read.problems.length > 0)
      throw new AgentError(FaultCode.KEY_FILE_INVALID, read.problems[0] as string);
    this.#clients = read.clients;
    this.#stamp = folderStamp(options.dir);
    if (this.#clients.size === 0)
      options.logger.warn("No client key is authorized: every connection will be refused");
  }

  /** The keys authorized now; read on every handshake. */
  get current(): ClientMap {
    return this.#clients;
  }

  /** Watch the folder and re-scan it periodically. */
  start(): void {
    const { dir, clock } = this.#options;
    const rescanMs = this.#options.rescanMs ?? DEFAULT_RESCAN_MS;
    if (dir === undefined || rescanMs <= 0) return;
    try {
      if (this.#options.watch !== false) this.#watcher = watch(dir, () => this.#soon());
      this.#watcher?.on("error", () => {
        // The re-scan below still runs
      });
    } catch (error) {
      this.#options.logger.warn("Cannot watch the client keys folder; re-scanning it instead", {
        dir,
        every_ms: rescanMs,
        error: describeError(error),
      });
    }
    this.#timer = clock.setInterval(() => {
      if (folderStamp(dir) !== this.#stamp) this.reload("the folder changed");
    }, rescanMs);
  }

  stop(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#timer?.cancel();
    this.#debounce?.cancel();
  }

  /**
   * Read the keys again (with a new inline list when given) and apply them; returns what
   * changed. Files that do not parse are left out and named in `problems`.
   */
  reload(why: string, inline?: readonly InlineClient[]): ClientKeysChange {
    if (inline !== undefined) this.#inline = inline;
    this.#stamp = folderStamp(this.#options.dir);
    const read = readClients(this.#options.dir, this.#inline);
    const before = this.#clients;
    const unique = (names: string[]) => [...new Set(names)];
    const change: ClientKeysChange = {
      added: unique([...read.clients].filter(([k, n]) => before.get(k) !== n).map(([, n]) => n)),
      removed: unique([...before].filter(([k, n]) => read.clients.get(k) !== n).map(([, n]) => n)),
      problems: read.problems,
      clients: read.clients.size,
    };
    for (const problem of read.problems)
      this.#options.logger.error("Client key file left out: it authorizes nobody", { problem });
    if (change.added.length === 0 && change.removed.length === 0) return change;
    this.#clients = read.clients;
    this.#options.logger.warn("Authorized client keys changed", {
      why,
      added: change.added.join(",") || undefined,
      removed: change.removed.join(",") || undefined,
      clients: change.clients,
    });
    this.#options.onChange?.(change);
    return change;
  }

  /** A watch event: let the writer finish (a copy is several events), then compare. */
  #soon(): void {
    if (this.#debounce !== undefined) return;
    this.#debounce = this.#options.clock.setTimeout(() => {
      this.#debounce = undefined;
      if (folderStamp(this.#options.dir) !== this.#stamp) this.reload("the folder changed");
    }, 100);
  }
}

/** Z85 → name from the folder's `*.key` files and the inline list; what did not parse, apart. */
function readClients(
  dir: string | undefined,
  inline: readonly InlineClient[],
): { clients: Map<string, string>; problems: string[] } {
  const clients = new Map<string, string>();
  const problems: string[] = [];
  if (dir !== undefined) {
    for (const path of keyFiles(dir)) {
      try {
        const file = readPublicKeyFile(path);
        const name =
          file.metadata.get("name") ??
          path.replace(/^.*[\\/]/, "").slice(0, -PUBLIC_KEY_SUFFIX.length);
        if (!clientName.safeParse(name).success)
          throw new AgentError(
            FaultCode.KEY_FILE_INVALID,
            `client key ${path} names its client ${JSON.stringify(name.slice(0, 80))}: a client name must be 1–64 characters of letters, digits, '.', '_' or '-' (rename the file, or fix its metadata name)`,
          );
        clients.set(z85Encode(file.publicKey), name);
      } catch (error) {
        problems.push(describeError(error));
      }
    }
  }
  for (const client of inline) clients.set(z85Encode(z85DecodeKey(client.public_key)), client.name);
  return { clients, problems };
}

/** The folder's `*.key` files (hidden ones and secrets skipped, as zcertstore does), sorted. */
const keyFiles = publicKeyPathsIn;

/** What the folder holds, cheaply: each key file's name, size and modification time. */
function folderStamp(dir: string | undefined): string {
  if (dir === undefined) return "";
  try {
    return keyFiles(dir)
      .map((path) => {
        try {
          const stat = statSync(path);
          return `${path}:${stat.size}:${stat.mtimeMs}:${stat.ino}`;
        } catch {
          return `${path}:gone`;
        }
      })
      .join("|");
  } catch {
    return "unreadable";
  }
}
