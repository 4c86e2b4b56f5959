/**
 * `agent-gtw reload`: re-read the authorized client keys of a running gateway now, including the
 * config file's inline `keys.authorized_clients`, and close the sessions of keys no longer
 * authorized (docs/DEPLOY.md "Revoking a client"). It goes through the operator channel
 * (requests.ts) as a `reload` request. The folder is also watched, so removing a key file needs
 * no command; this one is for the inline list, and for an operator who wants to see it done.
 */
import { describeError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import type { ClientKeysChange, InlineClient } from "./client-keys.ts";
import type { OperatorResult, RequestHandler } from "./requests.ts";

export interface ReloadResult extends OperatorResult {
  readonly change?: ClientKeysChange;
  /** Sessions closed because their key is no longer authorized. */
  readonly closed?: number;
}

export interface ReloadHandlerOptions {
  readonly logger: Logger;
  /** Re-read the config file's inline client list; throws when the file does not load. */
  readonly inline: () => readonly InlineClient[];
  /** Apply the keys; returns what changed and how many sessions were closed. */
  readonly reload: (inline: readonly InlineClient[] | undefined) => {
    change: ClientKeysChange;
    closed: number;
  };
}

/** The gateway side: the handler of `reload` requests. */
export function reloadHandler(options: ReloadHandlerOptions): RequestHandler {
  return async (_request, context) => {
    let inline: readonly InlineClient[] | undefined;
    let error: string | undefined;
    try {
      inline = options.inline();
    } catch (failure) {
      error = `the config file did not load, so its inline keys were kept: ${describeError(failure)}`;
    }
    const { change, closed } = options.reload(inline);
    options.logger.info("Client keys reloaded on request", {
      id: context.id,
      clients: change.clients,
      closed,
      error,
    });
    return { ...(error === undefined ? {} : { error }), change, closed };
  };
}
