/**
 * Argument checks for agent-inf's commands, and the builders that turn checked arguments into
 * the local API request a command makes. Numbers are matched as plain decimals before
 * converting, because Number() accepts "0x10", "1e3" and "" (as 0), none of which an operator
 * typing a volume or a price means.
 */
import { UsageError } from "../../shared/cli.ts";
import { MAX_CLIENT_ORDER_ID_LENGTH, MAX_COMMENT_LENGTH } from "../../shared/protocol/index.ts";
import type { Action, ApiView, ArgValues } from "./command.ts";

const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;
const WHOLE = /^\d+$/;

/** A string option's value. */
export function text(values: ArgValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

export function positiveNumber(what: string, input: string): number {
  const value = DECIMAL.test(input) ? Number(input) : Number.NaN;
  if (!(value > 0 && Number.isFinite(value)))
    throw new UsageError(`${what} must be a positive number, was ${JSON.stringify(input)}`);
  return value;
}

export function wholeNumber(what: string, input: string, min: number, max: number): number {
  const value = WHOLE.test(input) ? Number(input) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new UsageError(
      `${what} must be a whole number from ${min} to ${max}, was ${JSON.stringify(input)}`,
    );
  return value;
}

/** An OPEN's stop: a price, or nothing. */
export function stopPrice(what: string, input: string | undefined): number | undefined {
  return input === undefined ? undefined : positiveNumber(what, input);
}

/** A MODIFY's stop: a price, or `none` to remove it (null on the wire). */
export function priceOrNone(what: string, input: string): number | null {
  if (input.toLowerCase() === "none") return null;
  const value = DECIMAL.test(input) ? Number(input) : Number.NaN;
  if (!(value > 0 && Number.isFinite(value)))
    throw new UsageError(`${what} must be a positive price or none, was ${JSON.stringify(input)}`);
  return value;
}

/** --comment: what MT5 keeps of a comment at most. */
export function commentOption(values: ArgValues): string | undefined {
  const value = text(values, "comment");
  if (value !== undefined && value.length > MAX_COMMENT_LENGTH)
    throw new UsageError(
      `--comment must be at most ${MAX_COMMENT_LENGTH} characters, was ${value.length}`,
    );
  return value;
}

export function symbolName(input: string): string {
  if (!/^[A-Za-z0-9._#+-]{1,32}$/.test(input))
    throw new UsageError(
      `SYMBOL must be 1–32 of letters, digits and . _ # + -, was ${JSON.stringify(input)}`,
    );
  return input;
}

export function clientOrderId(input: string): string {
  if (!new RegExp(`^[A-Za-z0-9_-]{1,${MAX_CLIENT_ORDER_ID_LENGTH}}$`).test(input))
    throw new UsageError(
      `a client order id is 1–${MAX_CLIENT_ORDER_ID_LENGTH} of letters, digits, _ and -, was ${JSON.stringify(input)}`,
    );
  return input;
}

export function gatewayName(input: string): string {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(input))
    throw new UsageError(
      `a gateway name is 1–64 of letters, digits, . _ and -, was ${JSON.stringify(input)}`,
    );
  return input;
}

// ---------------------------------------------------------------------------------------------
// Requests

export function control(
  path: string,
  values: ArgValues,
  fields: Record<string, unknown>,
  what: string,
): Action {
  const reason = text(values, "reason");
  if (reason !== undefined && (reason.trim() === "" || reason.length > 200))
    throw new UsageError("--reason must be 1–200 characters");
  const gateway = text(values, "gateway");
  return {
    kind: "api",
    view: "control",
    call: {
      method: "POST",
      path,
      body: {
        ...fields,
        reason: reason ?? `${what} from the agent-inf command line`,
        ...(gateway === undefined ? {} : { gateway: gatewayName(gateway) }),
      },
    },
  };
}

export function postOrder(
  path: string,
  values: ArgValues,
  fields: Record<string, unknown>,
): Action {
  const gateway = text(values, "gateway");
  const id = text(values, "client-order-id");
  const body: Record<string, unknown> = {
    ...(gateway === undefined ? {} : { gateway: gatewayName(gateway) }),
    ...(id === undefined ? {} : { client_order_id: clientOrderId(id) }),
  };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) body[key] = value;
  return { kind: "api", view: "order-result", call: { method: "POST", path, body } };
}

export function get(
  view: ApiView,
  path: string,
  values: ArgValues,
  query: Record<string, string | undefined> = {},
): Action {
  const gateway = text(values, "gateway");
  const search = new URLSearchParams();
  if (gateway !== undefined) search.set("gateway", gatewayName(gateway));
  for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, value);
  const suffix = search.size === 0 ? "" : `?${search}`;
  return { kind: "api", view, call: { method: "GET", path: `${path}${suffix}` } };
}

export function ticketArgument(command: string, positionals: readonly string[]): number {
  const [ticket, ...extra] = positionals;
  if (ticket === undefined || extra.length > 0) throw new UsageError(`${command} needs TICKET`);
  return wholeNumber("TICKET", ticket, 1, Number.MAX_SAFE_INTEGER);
}

export function noArguments(command: string, positionals: readonly string[]): void {
  if (positionals.length > 0)
    throw new UsageError(`${command} takes no arguments, was given ${positionals.join(" ")}`);
}
