/**
 * One-shot commands for people (`open`, `positions`, `halt`, ...) go through the running agent's
 * local API, never straight to the gateway: the agent holds the one risk state (rate windows,
 * loss limits, breaker, trading state), and an order typed by hand must pass the same checks as a
 * strategy's. The API token file is read here and by the service (run.ts).
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
 * The bearer token from api.token_file: trimmed, not empty, and (POSIX) not readable by group or
 * others, since whoever has it can trade. Problems are config errors (exit 3) naming the file.
 */
export function readApiToken(path: string, platform: NodeJS.Platform = process.platform): string {
  return readTokenFile(path, "api.token_file", platform);
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
  const token =
    config.api.token_file === undefined ? undefined : readApiToken(config.api.token_file);
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
