/**
 * One-shot commands for people (`open`, `positions`, `halt`, ...) go through the running agent's
 * local API, never straight to the gateway: the agent holds the one risk state (rate windows,
 * loss limits, breaker, trading state), and an order typed by hand must pass the same checks as a
 * strategy's. The operator commands (the `control` view: halt, reduce, resume, breaker) send the
 * operator token, everything else the strategy token (api/auth.ts reads both files).
 */
import { ExitCode, locateConfig } from "../../shared/cli.ts";
import { describeError } from "../../shared/errors.ts";
import { readTokenFile } from "../../shared/http-access.ts";
import { formatHost, parseListen } from "../../shared/net/index.ts";
import { type InferenceConfig, loadInferenceConfig } from "../config.ts";
import { type CliCommand, CONFIG_ENV, CONFIG_FILE, PROGRAM } from "./command.ts";
import { renderApiResponse } from "./format.ts";

type ApiCommand = Extract<CliCommand, { kind: "api" }>;

/**
 * The URL a client on this host uses for `api.listen`: an unspecified address (0.0.0.0, ::) is
 * reached on loopback, and an IPv6 host gets its brackets.
 */
export function apiBaseUrl(listen: string): string {
  const { host, port } = parseListen(listen, "api.listen");
  const reachable = host.host === "0.0.0.0" ? "127.0.0.1" : host.host === "::" ? "::1" : host.host;
  return `http://${formatHost(reachable)}:${port}`;
}

/**
 * The bearer token a command sends: the operator's for operator actions, else the strategy's;
 * none with `api.auth: none`.
 */
export function commandToken(
  api: InferenceConfig["api"],
  role: "strategy" | "operator",
): string | undefined {
  if (api.auth === "none") return undefined;
  return role === "operator"
    ? readTokenFile(api.operator_token_file as string, "api.operator_token_file")
    : readTokenFile(api.token_file as string, "api.token_file");
}

/** How long to wait for the agent: an order may take its whole reconcile deadline. */
export function answerTimeoutMs(config: InferenceConfig, order: boolean): number {
  let longest = 0;
  for (const gateway of config.gateways) {
    // A query is retried twice; an order runs a GET_ORDER, a snapshot, then submit's timeout
    // and reconciliation, which polls GET_ORDER until the deadline.
    const query = gateway.request_timeout_ms * 3;
    const wait = order
      ? query * 3 + gateway.order_timeout_ms + gateway.reconcile_deadline_ms + query
      : query;
    longest = Math.max(longest, wait);
  }
  return longest + 5000;
}

export async function runApiCommand(command: ApiCommand): Promise<number> {
  const config = loadInferenceConfig(locateConfig(command.config, CONFIG_ENV, CONFIG_FILE));
  const operator = command.view === "control" || command.call.role === "operator";
  const token = commandToken(config.api, operator ? "operator" : "strategy");
  const base = apiBaseUrl(config.api.listen);
  const { call } = command;
  const isOrder = command.view === "order-result";
  const timeoutMs = answerTimeoutMs(config, isOrder);
  let response: Response;
  try {
    response = await fetch(`${base}${call.path}`, {
      method: call.method,
      headers: {
        accept: "application/json",
        ...(call.body === undefined ? {} : { "content-type": "application/json" }),
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return failedExchange(error, base, isOrder, timeoutMs);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const rendered = renderApiResponse(command.view, response.status, body, command.json);
  process.stdout.write(rendered.stdout);
  if (rendered.stderr !== "") process.stderr.write(`${PROGRAM}: ${rendered.stderr}`);
  return rendered.exit;
}

function failedExchange(error: unknown, base: string, isOrder: boolean, timeoutMs: number) {
  const code = (error as { code?: unknown }).code;
  // Refused: nothing was sent, so even an order certainly did not happen.
  if (code === "ECONNREFUSED" || code === "ConnectionRefused") {
    process.stderr.write(`${PROGRAM}: agent-inf is not running at ${base}\n`);
    return ExitCode.FAILURE;
  }
  const timedOut = (error as { name?: unknown }).name === "TimeoutError";
  const what = timedOut
    ? `no answer from agent-inf at ${base} within ${Math.round(timeoutMs / 1000)} s`
    : `lost the connection to agent-inf at ${base}: ${describeError(error)}`;
  if (isOrder) {
    process.stderr.write(
      `${PROGRAM}: ${what}; the order's outcome is unknown: check \`${PROGRAM} positions\` and the agent's log\n`,
    );
    return ExitCode.UNKNOWN_OUTCOME;
  }
  process.stderr.write(`${PROGRAM}: ${what}\n`);
  return ExitCode.FAILURE;
}
