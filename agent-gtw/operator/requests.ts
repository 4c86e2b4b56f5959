/**
 * The operator's request channel to a running gateway, without another listening port: a
 * command (`agent-gtw cancel`, `sim`, and `upgrade`'s drain) drops a request file into
 * `<state_dir>/operator/`, the gateway picks it up within half a second, runs the handler of its
 * kind, and writes a result file the command waits for. As with `agent-gtw state`, the state
 * directory's permissions are the access control: whoever can write there controls the gateway
 * anyway.
 *
 * A request is taken by renaming it (so the gateway and a giving-up command cannot both have it)
 * and ignored when older than a minute, so a request left behind by a command that gave up never
 * acts much later. Files are bounded in size and must hold a JSON object; anything else gets a
 * result naming what was wrong, never a crash.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Clock, TimerHandle } from "../../shared/clock.ts";
import { describeError } from "../../shared/errors.ts";
import { readStateText, writeStateFile } from "../../shared/keys/private-file.ts";
import type { Logger } from "../../shared/log.ts";
import { newRequestId } from "../../shared/protocol/index.ts";

export const OPERATOR_DIR = "operator";
/** Older requests are ignored: their command has given up and said so. */
export const MAX_REQUEST_AGE_MS = 60_000;
const MAX_FILE_BYTES = 64 * 1024;
/** A result lists at most a cancel's thousand orders. */
const MAX_RESULT_BYTES = 1024 * 1024;

/** What a request file may ask for; the kind is the file name's prefix. */
export const REQUEST_KINDS = ["cancel", "sim", "drain", "reload"] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

/** Every result carries the request's id; `error` is set when the request itself was refused. */
export interface OperatorResult {
  readonly id: string;
  readonly error?: string;
}

/** A request as its handler sees it: the file's object, already checked for age and shape. */
export type RequestBody = Readonly<Record<string, unknown>>;

export interface HandlerContext {
  readonly id: string;
  /** True once the gateway is stopping: start nothing further. */
  readonly stopped: () => boolean;
}

/** Runs one request; returns the result's fields besides `id`. Throwing is reported as `error`. */
export type RequestHandler = (
  request: RequestBody,
  context: HandlerContext,
) => Promise<Omit<OperatorResult, "id"> & Record<string, unknown>>;

const requestPath = (dir: string, kind: RequestKind, id: string) =>
  join(dir, OPERATOR_DIR, `${kind}-${id}.json`);
const resultPath = (dir: string, kind: RequestKind, id: string) =>
  join(dir, OPERATOR_DIR, `${kind}-${id}.result.json`);
const REQUEST_NAME = new RegExp(`^(${REQUEST_KINDS.join("|")})-([a-z0-9]{12})\\.json$`);

/** The command side: write the request atomically (`at` is when the operator asked); its id. */
export function writeOperatorRequest(
  stateDir: string,
  kind: RequestKind,
  body: RequestBody & { readonly at: number },
): string {
  const id = newRequestId().slice(0, 12);
  mkdirSync(join(stateDir, OPERATOR_DIR), { recursive: true, mode: 0o700 });
  // Never through a link planted in the folder (shared/keys/private-file.ts)
  writeStateFile(requestPath(stateDir, kind, id), JSON.stringify({ ...body, id }), {
    what: `${kind} request`,
  });
  return id;
}

/** The command side: the result once the gateway wrote it (and removes it), else undefined. */
export function readOperatorResult<T extends OperatorResult>(
  stateDir: string,
  kind: RequestKind,
  id: string,
): T | undefined {
  const path = resultPath(stateDir, kind, id);
  const text = readStateText(path, `${kind} result`, MAX_RESULT_BYTES);
  if (text === undefined) return undefined;
  rmSync(path, { force: true });
  return JSON.parse(text) as T;
}

/** The command side, giving up: remove the request if the gateway has not taken it yet. */
export function withdrawOperatorRequest(stateDir: string, kind: RequestKind, id: string): boolean {
  try {
    rmSync(requestPath(stateDir, kind, id));
    return true;
  } catch {
    return false;
  }
}

export interface OperatorRequestsOptions {
  readonly stateDir: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly handlers: Readonly<Partial<Record<RequestKind, RequestHandler>>>;
  readonly intervalMs?: number;
}

/**
 * The gateway side: poll for requests and run them; returns the stop function, after which no
 * further request starts (one already running finishes; handlers check `stopped` between steps).
 */
export function watchOperatorRequests(options: OperatorRequestsOptions): () => void {
  const dir = join(options.stateDir, OPERATOR_DIR);
  const state = { stopped: false };
  let busy = false;
  const timer: TimerHandle = options.clock.setInterval(() => {
    if (busy || !existsSync(dir)) return;
    busy = true;
    void runOperatorRequests(options, () => state.stopped)
      .catch((error: unknown) =>
        options.logger.error("Operator request failed", { error: describeError(error) }),
      )
      .finally(() => {
        busy = false;
      });
  }, options.intervalMs ?? 500);
  return () => {
    state.stopped = true;
    timer.cancel();
  };
}

/** Take and run every request waiting in the folder; returns how many ran (tests call it). */
export async function runOperatorRequests(
  options: OperatorRequestsOptions,
  stopped: () => boolean = () => false,
): Promise<number> {
  const dir = join(options.stateDir, OPERATOR_DIR);
  if (!existsSync(dir)) return 0;
  let ran = 0;
  for (const name of readdirSync(dir)) {
    if (stopped()) break;
    const match = REQUEST_NAME.exec(name);
    if (match === null) continue;
    const kind = match[1] as RequestKind;
    const id = match[2] as string;
    const taken = join(dir, `${name}.taken`);
    try {
      renameSync(join(dir, name), taken);
    } catch {
      continue; // withdrawn by its command meanwhile
    }
    const result = { id, ...(await run(options, kind, id, taken, stopped)) };
    writeStateFile(resultPath(options.stateDir, kind, id), JSON.stringify(result), {
      what: `${kind} result`,
    });
    rmSync(taken, { force: true });
    ran += 1;
  }
  return ran;
}

async function run(
  options: OperatorRequestsOptions,
  kind: RequestKind,
  id: string,
  path: string,
  stopped: () => boolean,
): Promise<Omit<OperatorResult, "id">> {
  const handler = options.handlers[kind];
  if (handler === undefined) return { error: `this gateway does not take ${kind} requests` };
  const request = readRequest(path);
  if (typeof request === "string") return { error: request };
  const at = request["at"] as number;
  if (options.clock.now() - at > MAX_REQUEST_AGE_MS) {
    options.logger.warn("Stale operator request ignored", { kind, id, at });
    return { error: "the request is older than a minute and was ignored" };
  }
  try {
    return await handler(request, { id, stopped });
  } catch (error) {
    options.logger.error("Operator request failed", { kind, id, error: describeError(error) });
    return { error: `the gateway could not run it: ${describeError(error)}` };
  }
}

/** The request object, or why it cannot be read. */
function readRequest(path: string): RequestBody | string {
  let value: unknown;
  let text: string | undefined;
  try {
    // A link, a FIFO or an oversized file is refused, naming it
    text = readStateText(path, "request file", MAX_FILE_BYTES);
  } catch (error) {
    return describeError(error);
  }
  try {
    value = JSON.parse(text ?? "null");
  } catch (error) {
    return `the request file is not valid JSON (${describeError(error)})`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return "the request is not an object";
  const request = value as RequestBody;
  if (typeof request["at"] !== "number") return "at must be a Unix time in ms";
  return request;
}
