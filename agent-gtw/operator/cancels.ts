/**
 * Operator cancels: how an operator removes pending orders from a running gateway, even while
 * trading is HALTED (when no client request passes). `agent-gtw cancel TICKET…` (or `--all`)
 * drops a request file into `<state_dir>/operator/`; the gateway picks it up within half a
 * second, runs one CANCEL per order through the executor (journaled, idempotent, reconciled
 * like any order, but unsigned and let through the HALTED gate), and writes a result file the
 * command waits for. As with `agent-gtw state`, the state directory's permissions are the access
 * control: whoever can write there controls the gateway anyway.
 *
 * A request is taken by renaming it (so the gateway and a giving-up command cannot both have it)
 * and ignored when older than a minute, so a request left behind by a command that gave up never
 * cancels orders much later.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Clock, TimerHandle } from "../../shared/clock.ts";
import { describeError } from "../../shared/errors.ts";
import type { Logger } from "../../shared/log.ts";
import {
  type CancelRequest,
  checkSymbol,
  checkTicket,
  newRequestId,
  PROTOCOL_VERSION,
  type Reply,
} from "../../shared/protocol/index.ts";
import type { Backend } from "../backend/backend.ts";
import type { OrderExecutor } from "../orders/executor.ts";

export const OPERATOR_DIR = "operator";
/** Older requests are ignored: their command has given up and said so. */
export const MAX_REQUEST_AGE_MS = 60_000;
/** Orders one request may cancel (an account's pending orders, with room to spare). */
const MAX_TICKETS = 1000;
const MAX_FILE_BYTES = 64 * 1024;

export interface CancelCommand {
  readonly id: string;
  /** Order tickets, or "all" (optionally on one symbol). */
  readonly tickets: readonly number[] | "all";
  readonly symbol?: string;
  readonly reason: string;
  /** Unix ms when the operator asked. */
  readonly at: number;
}

export interface CancelOutcome {
  readonly ticket: number;
  readonly status: Reply["status"];
  readonly error_code?: string;
  readonly error_msg?: string;
  readonly retcode?: number;
}

export interface CancelResult {
  readonly id: string;
  /** Set when the request itself was refused (stale, malformed, orders unreadable). */
  readonly error?: string;
  readonly results: readonly CancelOutcome[];
}

const requestPath = (dir: string, id: string) => join(dir, OPERATOR_DIR, `cancel-${id}.json`);
const resultPath = (dir: string, id: string) => join(dir, OPERATOR_DIR, `cancel-${id}.result.json`);

/** The command side: write the request atomically; returns its id. */
export function writeCancelCommand(stateDir: string, command: Omit<CancelCommand, "id">): string {
  const id = newRequestId().slice(0, 12);
  mkdirSync(join(stateDir, OPERATOR_DIR), { recursive: true, mode: 0o700 });
  const path = requestPath(stateDir, id);
  writeFileSync(`${path}.tmp`, JSON.stringify({ id, ...command }), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return id;
}

/** The command side: the result once the gateway wrote it (and removes it), else undefined. */
export function readCancelResult(stateDir: string, id: string): CancelResult | undefined {
  const path = resultPath(stateDir, id);
  if (!existsSync(path)) return undefined;
  const result = JSON.parse(readFileSync(path, "utf8")) as CancelResult;
  rmSync(path, { force: true });
  return result;
}

/** The command side, giving up: remove the request if the gateway has not taken it yet. */
export function withdrawCancelCommand(stateDir: string, id: string): boolean {
  try {
    rmSync(requestPath(stateDir, id));
    return true;
  } catch {
    return false;
  }
}

export interface OperatorCancelsOptions {
  readonly stateDir: string;
  readonly gatewayName: string;
  readonly executor: OrderExecutor;
  readonly backend: Backend;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly intervalMs?: number;
  /** Checked between orders: a stopping gateway starts no further cancel. */
  readonly stopped?: () => boolean;
}

/**
 * The gateway side: poll for requests and run them; returns the stop function, after which no
 * further cancel starts (one already at the executor finishes and is waited for as in flight).
 */
export function watchOperatorCancels(options: OperatorCancelsOptions): () => void {
  const dir = join(options.stateDir, OPERATOR_DIR);
  const state = { stopped: false };
  let busy = false;
  const timer: TimerHandle = options.clock.setInterval(() => {
    if (busy || !existsSync(dir)) return;
    busy = true;
    void runPending({ ...options, stopped: () => state.stopped }, dir)
      .catch((error: unknown) =>
        options.logger.error("Operator cancel failed", { error: describeError(error) }),
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

/** Take and run every request waiting in the folder (exported for tests). */
export async function runPending(options: OperatorCancelsOptions, dir: string): Promise<number> {
  let ran = 0;
  for (const name of readdirSync(dir)) {
    if (options.stopped?.() === true) break;
    const match = /^cancel-([a-z0-9]{12})\.json$/.exec(name);
    if (match === null) continue;
    const id = match[1] as string;
    const taken = join(dir, `${name}.taken`);
    try {
      renameSync(join(dir, name), taken);
    } catch {
      continue; // withdrawn by its command meanwhile
    }
    const result = await run(options, id, taken);
    writeFileSync(`${resultPath(options.stateDir, id)}.tmp`, JSON.stringify(result), {
      mode: 0o600,
    });
    renameSync(`${resultPath(options.stateDir, id)}.tmp`, resultPath(options.stateDir, id));
    rmSync(taken, { force: true });
    ran += 1;
  }
  return ran;
}

async function run(
  options: OperatorCancelsOptions,
  id: string,
  path: string,
): Promise<CancelResult> {
  const { clock, logger, backend, executor } = options;
  const command = readCommand(path);
  if (typeof command === "string") return { id, error: command, results: [] };
  if (clock.now() - command.at > MAX_REQUEST_AGE_MS) {
    logger.warn("Stale operator cancel ignored", { id, at: command.at });
    return { id, error: "the request is older than a minute and was ignored", results: [] };
  }
  let tickets: readonly number[];
  try {
    tickets =
      command.tickets === "all"
        ? (
            await backend.orders(command.symbol === undefined ? {} : { symbol: command.symbol })
          ).map((order) => order.ticket)
        : command.tickets;
  } catch (error) {
    return { id, error: `cannot read pending orders: ${describeError(error)}`, results: [] };
  }
  logger.warn("Operator cancel requested", { id, tickets: tickets.length, reason: command.reason });
  const results: CancelOutcome[] = [];
  for (const [index, ticket] of tickets.entries()) {
    if (options.stopped?.() === true) {
      results.push({
        ticket,
        status: "ERROR",
        error_code: "SHUTTING_DOWN",
        error_msg: "the gateway is stopping; nothing was sent for this order",
      });
      continue;
    }
    const request: CancelRequest = {
      v: PROTOCOL_VERSION,
      id: `operator-${id}-${index}`,
      ts: clock.now(),
      action: "CANCEL",
      client_order_id: `op-${id}-${index}`,
      gateway: options.gatewayName,
      key_id: "operator",
      ticket,
    };
    const reply = await executor.executeOperatorCancel(request);
    results.push({
      ticket,
      status: reply.status,
      ...(reply.error_code === undefined ? {} : { error_code: reply.error_code }),
      ...(reply.error_msg === undefined ? {} : { error_msg: reply.error_msg }),
      ...(reply.retcode === undefined ? {} : { retcode: reply.retcode }),
    });
  }
  return { id, results };
}

/** The command as written by writeCancelCommand, or why it cannot be read. */
function readCommand(path: string): CancelCommand | string {
  let value: unknown;
  try {
    if (statSync(path).size > MAX_FILE_BYTES) return "the request file is too large";
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    return `the request file is not valid JSON (${describeError(error)})`;
  }
  const command = value as Partial<CancelCommand> | null;
  if (typeof command !== "object" || command === null) return "the request is not an object";
  const tickets = command.tickets;
  const validTickets =
    tickets === "all" ||
    (Array.isArray(tickets) &&
      tickets.length > 0 &&
      tickets.length <= MAX_TICKETS &&
      tickets.every((ticket) => checkTicket(ticket) === undefined));
  if (!validTickets) return `tickets must be "all" or 1 to ${MAX_TICKETS} order tickets`;
  if (command.symbol !== undefined && checkSymbol(command.symbol) !== undefined) {
    return "symbol is not a valid symbol";
  }
  if (typeof command.at !== "number") return "at must be a Unix time in ms";
  return {
    id: String(command.id),
    tickets: tickets as CancelCommand["tickets"],
    ...(command.symbol === undefined ? {} : { symbol: command.symbol }),
    reason: typeof command.reason === "string" ? command.reason.slice(0, 200) : "operator",
    at: command.at,
  };
}
