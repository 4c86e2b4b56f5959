/**
 * `agent-gtw reload`: re-read the authorized client keys of a running gateway now, including the
 * config file's inline `keys.authorized_clients`, and close the sessions of keys no longer
 * authorized (docs/DEPLOY.md "Revoking a client"). Like `agent-gtw cancel` it goes through the
 * state folder, whose permissions are the access control: the command writes a request file into
 * `<state_dir>/operator/`, the gateway takes it within half a second and writes the result the
 * command waits for. (The folder is also watched, so removing a key file needs no command; this
 * one is for the inline list, and for an operator who wants to see it done.)
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Clock, TimerHandle } from "../../shared/clock.ts";
import { describeError } from "../../shared/errors.ts";
import { readStateText, writeStateFile } from "../../shared/keys/private-file.ts";
import type { Logger } from "../../shared/log.ts";
import { newRequestId } from "../../shared/protocol/index.ts";
import { OPERATOR_DIR } from "./cancels.ts";
import type { ClientKeysChange, InlineClient } from "./client-keys.ts";
import { takeResultFile, withdrawRequestFile } from "./request-files.ts";

export interface ReloadResult {
  readonly id: string;
  /** Set when the config file could not be read (the folder was re-read anyway). */
  readonly error?: string;
  readonly change?: ClientKeysChange;
  /** Sessions closed because their key is no longer authorized. */
  readonly closed?: number;
}

const REQUEST = /^reload-([a-z0-9]{12})\.json$/;
const MAX_FILE_BYTES = 4096;
const requestPath = (dir: string, id: string) => join(dir, OPERATOR_DIR, `reload-${id}.json`);
const resultPath = (dir: string, id: string) => join(dir, OPERATOR_DIR, `reload-${id}.result`);

/** The command side: ask for a reload; returns the request id. */
export function writeReloadRequest(stateDir: string, at: number): string {
  const id = newRequestId().slice(0, 12);
  mkdirSync(join(stateDir, OPERATOR_DIR), { recursive: true, mode: 0o700 });
  writeStateFile(requestPath(stateDir, id), JSON.stringify({ id, at }), {
    what: "reload request",
  });
  return id;
}

/** The command side: the result once written (and removes it), else undefined. */
export function readReloadResult(stateDir: string, id: string): ReloadResult | undefined {
  return takeResultFile<ReloadResult>(resultPath(stateDir, id), "reload result", 64 * 1024);
}

/** The command side, giving up: remove the request if no gateway took it. */
export function withdrawReloadRequest(stateDir: string, id: string): boolean {
  return withdrawRequestFile(requestPath(stateDir, id));
}

export interface ReloadWatchOptions {
  readonly stateDir: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Re-read the config file's inline client list; throws when the file does not load. */
  readonly inline: () => readonly InlineClient[];
  /** Apply the keys; returns what changed and how many sessions were closed. */
  readonly reload: (inline: readonly InlineClient[] | undefined) => {
    change: ClientKeysChange;
    closed: number;
  };
  readonly intervalMs?: number;
}

/** The gateway side: take reload requests as they come; returns the stop function. */
export function watchReloadRequests(options: ReloadWatchOptions): () => void {
  const dir = join(options.stateDir, OPERATOR_DIR);
  const timer: TimerHandle = options.clock.setInterval(() => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return; // No operator folder yet: nothing was asked
    }
    for (const name of names) {
      const match = REQUEST.exec(name);
      if (match !== null) take(options, dir, name, match[1] as string);
    }
  }, options.intervalMs ?? 500);
  return () => timer.cancel();
}

function take(options: ReloadWatchOptions, dir: string, name: string, id: string): void {
  const taken = join(dir, `${name}.taken`);
  try {
    renameSync(join(dir, name), taken);
  } catch {
    return; // Withdrawn by its command meanwhile
  }
  let result: ReloadResult;
  try {
    readStateText(taken, "reload request", MAX_FILE_BYTES);
    let inline: readonly InlineClient[] | undefined;
    let error: string | undefined;
    try {
      inline = options.inline();
    } catch (failure) {
      error = `the config file did not load, so its inline keys were kept: ${describeError(failure)}`;
    }
    const { change, closed } = options.reload(inline);
    result = { id, ...(error === undefined ? {} : { error }), change, closed };
  } catch (error) {
    result = { id, error: describeError(error) };
  }
  options.logger.info("Client keys reloaded on request", {
    id,
    clients: result.change?.clients,
    closed: result.closed,
    error: result.error,
  });
  try {
    writeStateFile(resultPath(options.stateDir, id), JSON.stringify(result), {
      what: "reload result",
    });
  } catch (error) {
    options.logger.warn("Reload result not written", { error: describeError(error) });
  }
  rmSync(taken, { force: true });
}
